"""``pending``: identity-related commits of a range still lacking what the policy requires."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from provenance.app.gate import verify_range
from provenance.app.options import VerifyOptions
from provenance.verify.report import CommitVerdict, Report


def pending(
    repo: Path,
    spec: str,
    options: VerifyOptions,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[Report, list[CommitVerdict]]:
    """Run the gate and keep the refused commits: what a reviewer opens first."""
    report = verify_range(repo, spec, options, progress)
    return report, [c for c in report.commits if c.status == "refused"]

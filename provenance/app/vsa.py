"""Write the SLSA verification summary of a gate run, signed when signing options are given."""

from __future__ import annotations

import os
from pathlib import Path

from provenance.app.stamp import repository_uri
from provenance.gitio import Git, read_commit
from provenance.sign.signing import SigningOptions, sign
from provenance.verify.formats import build_vsa, vsa_digest
from provenance.verify.report import Report


def write_vsa(report: Report, path: Path, repo: Path, signing: SigningOptions | None) -> str:
    """Write the VSA statement (or its signed bundle/envelope) atomically; return its digest."""
    git = Git.discover(repo)
    head = report.range.head if report.range else report.commits[-1].commit
    statement = build_vsa(
        report,
        repository=repository_uri(git, None),
        head_digest=read_commit(git, head).digest,
    )
    data = sign(statement, signing).line if signing else statement
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data + b"\n")
    tmp.replace(path)
    return vsa_digest(statement)

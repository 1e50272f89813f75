"""Findings as reviewers and tools read them: one line of text, JSON, SARIF locations.

A finding names a rule and where it fired: a path, and lines of the commit's version (``new``)
or of the parent's (``old``, what a removal took away). Renderers of ``classify`` and of the
release gate (text, JSON, SARIF) use these, so every output says the same thing. Text is
returned raw: the command line passes it through ``provenance.display`` before printing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from provenance.classify._model import Finding


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    """``{"rule", "path", "side"[, "start_line", "end_line"]}`` (no lines: the whole path)."""
    out: dict[str, Any] = {"rule": finding.rule, "path": finding.path, "side": finding.side}
    if finding.first:
        out |= {"start_line": finding.first, "end_line": finding.last}
    return out


def where(finding: Finding, show: Callable[[str], str] = str) -> str:
    """``path:12-14``, ``path:12 (removed)`` or ``path``; ``show`` renders the path."""
    if not finding.first:
        return show(finding.path)
    first, last = finding.first, finding.last
    lines = str(first) if last == first else f"{first}-{last}"
    removed = " (removed)" if finding.side == "old" else ""
    return f"{show(finding.path)}:{lines}{removed}"


def summary(findings: Sequence[Finding], show: Callable[[str], str] = str) -> str:
    """Why approval is asked, in one line: the first place and its rules, and how many more."""
    if not findings:
        return ""
    first = min(findings, key=lambda f: (f.side != "new", not f.first, f.path, f.first))
    rules = sorted({f.rule for f in findings if where(f) == where(first)})
    places = {where(f) for f in findings}
    more = f" (+{len(places) - 1} more)" if len(places) > 1 else ""
    return f"{where(first, show)} {', '.join(rules)}{more}"


def sarif_locations(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """SARIF 2.1.0 ``locations``: one per place, with the rules fired there in its message.

    Lines of the parent's version are marked ``"side": "old"`` in the location's properties
    (SARIF regions have no notion of a diff side).
    """
    grouped: dict[tuple[str, str, int, int], list[str]] = {}
    for f in findings:
        grouped.setdefault((f.path, f.side, f.first, f.last), []).append(f.rule)
    out = []
    for (path, side, first, last), rules in grouped.items():
        physical: dict[str, Any] = {"artifactLocation": {"uri": path}}
        if first:
            physical["region"] = {"startLine": first, "endLine": last}
        out.append(
            {
                "physicalLocation": physical,
                "message": {"text": ", ".join(sorted(set(rules)))},
                "properties": {"side": side, "rules": sorted(set(rules))},
            }
        )
    return out

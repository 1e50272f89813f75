"""``provenance impact``: what one revocation withdraws over ``BASE..HEAD``.

The range is gated once with BASE's policy and revocations plus the entry (the committed
one at HEAD, or the work tree's, not yet committed); every commit where the entry withdrew
a line is listed with its decision before (the same verified lines, this entry's effect
undone) and now, the lines withdrawn, and what is left that still counts. Nothing else is
re-verified, so *before* and *now* differ only by this entry.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from provenance.app.gate import gate_range, range_ends
from provenance.app.policy_source import resolve_policy
from provenance.errors import PolicyInvalid, UsageError
from provenance.gitio import Git, check_repository_safe, read_commits, resolve_commit
from provenance.gitio.objects import blob_at
from provenance.policy import LoadedPolicy
from provenance.reasons import Reason
from provenance.revocations import REVOCATIONS_PATH, Revocation, Revocations, parse_revocations

if TYPE_CHECKING:
    from provenance.app.options import VerifyOptions
    from provenance.verify.attestation import AttestationResult
    from provenance.verify.report import CommitVerdict, Report


@dataclass(frozen=True)
class Decision:
    """A commit's status, reasons and counted approvers."""

    status: str
    reasons: tuple[str, ...]
    approvers: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    """One commit the revocation touched: before, now, what it withdrew, what is left."""

    commit: str
    before: Decision
    now: Decision
    withdrawn: tuple[AttestationResult, ...]
    left: tuple[AttestationResult, ...]


@dataclass(frozen=True)
class Impact:
    """The entry, where it was found, the range's report with it, and the commits it hit."""

    entry: Revocation
    found_in: str
    report: Report
    hits: tuple[Hit, ...]


def decoded_revocations(raw: bytes, source: str) -> Revocations:
    """A revocations file's bytes parsed; not UTF-8 or not valid is ``revocation_invalid``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PolicyInvalid(Reason.REVOCATION_INVALID, f"{source} is not UTF-8") from e
    return parse_revocations(text, source=source)


def clone_revocations(git: Git) -> list[tuple[Revocations, str]]:
    """The clone's revocations files and where each was read: committed at HEAD first, then
    the work tree's (not yet committed)."""
    found: list[tuple[Revocations, str]] = []
    head = git.head()
    raw = blob_at(git, head, REVOCATIONS_PATH) if head is not None else None
    if head is not None and raw is not None:
        source = f"{head[:12]}:{REVOCATIONS_PATH}"
        found.append((decoded_revocations(raw, source), source))
    top = git.work_tree()
    if top is not None and (top / REVOCATIONS_PATH).is_file():
        path = top / REVOCATIONS_PATH
        found.append((decoded_revocations(path.read_bytes(), str(path)), str(path)))
    return found


def find_entry(git: Git, rid: str) -> tuple[Revocation, str]:
    """The entry ``rid``: committed at HEAD first, else in the work tree (not yet committed)."""
    for revocations, source in clone_revocations(git):
        entry = revocations.by_id(rid)
        if entry is not None:
            return entry, source
    raise UsageError(
        f"no revocation {rid!r} at HEAD or in the work tree's {REVOCATIONS_PATH}",
        hint="add it with `provenance revoke ...` (it prints the id)",
    )


def _adding(loaded: LoadedPolicy, entry: Revocation) -> LoadedPolicy:
    others = [r for r in loaded.revocations.revocation if r.id != entry.id]
    return loaded.model_copy(update={"revocations": Revocations(revocation=[*others, entry])})


def _undone(result: AttestationResult, rid: str) -> AttestationResult:
    """The line as it stood without this entry (still revoked if another entry matched)."""
    if not any(r.id == rid for r in result.revoked):
        return result
    rest = tuple(r for r in result.revoked if r.id != rid)
    return replace(result, reasons=result.reasons if rest else (), revoked=rest)


def _decision(v: CommitVerdict) -> Decision:
    return Decision(v.status, tuple(v.reasons), v.approvers)


def impact(repo: Path, spec: str, rid: str, options: VerifyOptions) -> Impact:
    """Gate ``spec`` with the entry ``rid`` added to BASE's revocations; list what it hit."""
    from provenance.verify.gate import decide

    git = Git.discover(repo)
    check_repository_safe(git)  # before any object is read
    base = resolve_commit(git, range_ends(spec)[0])
    entry, found_in = find_entry(git, rid)
    loaded = _adding(resolve_policy(git, options.policy, base), entry)
    report = gate_range(git, spec, loaded, options)
    touched = [
        v for v in report.commits if any(r.id == rid for a in v.attestations for r in a.revoked)
    ]
    commits = read_commits(git, [v.commit for v in touched])
    hits = []
    for v in touched:
        now = decide(commits[v.commit], v.attestations, loaded.policy)
        restored = tuple(_undone(a, rid) for a in v.attestations)
        before = decide(commits[v.commit], restored, loaded.policy)
        withdrawn = tuple(a for a in v.attestations if any(r.id == rid for r in a.revoked))
        left = tuple(a for a in v.attestations if a.ok)
        hits.append(Hit(v.commit, _decision(before), _decision(now), withdrawn, left))
    return Impact(entry, found_in, report, tuple(hits))


def _line(a: AttestationResult) -> dict[str, object]:
    return {
        "index": a.index,
        "kind": a.kind,
        "signer": a.signer,
        "signed_time": a.signed_time.isoformat() if a.signed_time else None,
        "digest": f"sha256:{a.digest}" if a.digest else None,
    }


def impact_to_dict(result: Impact) -> dict[str, object]:
    """The documented JSON: the entry, the range, and per commit before/now/withdrawn/left."""
    from provenance.verify.report import revoked_json

    report = result.report
    changed = [h for h in result.hits if h.before.status != h.now.status]
    return {
        "revocation": revoked_json(result.entry) | {"found_in": result.found_in},
        "policy": {"source": report.policy_source, "digest": report.policy_digest},
        **({"range": report.extra["range"]} if "range" in report.extra else {}),
        "summary": {
            "commits_hit": len(result.hits),
            "passed_before_refused_now": len(changed),
            "refused_now": sum(1 for c in report.commits if c.status == "refused"),
        },
        "commits": [
            {
                "commit": h.commit,
                "before": vars(h.before) | {"reasons": list(h.before.reasons)},
                "now": vars(h.now) | {"reasons": list(h.now.reasons)},
                "withdrawn": [_line(a) for a in h.withdrawn],
                "left": [_line(a) for a in h.left],
            }
            for h in result.hits
        ],
    }


def render_impact_text(result: Impact) -> str:
    """People output: one line per commit hit, before -> now."""
    from provenance.display import shown

    e = result.entry
    lines = [f"revocation {shown(e.id)} ({e.cause} {shown(str(getattr(e, e.cause)))}): "
             f"{shown(e.reason)}"]  # fmt: skip
    for h in result.hits:
        now = ", ".join(h.now.reasons) or "-"
        lines.append(
            f"{h.commit[:12]}  {h.before.status} -> {h.now.status}  ({shown(now)}); "
            f"{len(h.withdrawn)} line(s) withdrawn, {len(h.left)} still valid"
        )
    changed = sum(1 for h in result.hits if h.before.status != h.now.status)
    lines.append(f"{len(result.hits)} commit(s) hit, {changed} passed before and are refused now")
    return "\n".join(lines)


__all__ = [
    "Decision",
    "Hit",
    "Impact",
    "find_entry",
    "impact",
    "impact_to_dict",
    "render_impact_text",
]

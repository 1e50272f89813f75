"""``provenance impact --db`` and ``query --revoked``: revocations judged against the index.

The entries come from ``--revocations FILE``, else from the clone the command runs in (its
``.provenance/revocations.toml`` committed at HEAD, else the work tree's, as ``impact`` over
a range finds them). The rows come from the index, across every repository it holds (or the
one ``--repository`` names): see :mod:`provenance.audit.revoked` for how a row is judged and
what *before*, *now* and *left* mean there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from provenance.app.audit import _as_url, _clone, default_db
from provenance.app.impact import clone_revocations, decoded_revocations, find_entry
from provenance.audit import Index, IndexUrl
from provenance.errors import UsageError
from provenance.gitio import Git
from provenance.revocations import REVOCATIONS_PATH, Revocation, Revocations

if TYPE_CHECKING:
    from provenance.audit.revoked import CommitImpact, RevokedRow, Standing


@dataclass(frozen=True)
class IndexImpact:
    """The entry, where it was read, the index asked, and the commits it touches."""

    entry: Revocation
    found_in: str
    db: str
    commits: tuple[CommitImpact, ...]


def read_revocations(git: Git | None, file: Path | None) -> tuple[Revocations, str]:
    """``file``, else the clone's file committed at HEAD, else its work tree's."""
    if file is not None:
        try:
            raw = file.read_bytes()
        except OSError as e:
            raise UsageError(f"cannot read --revocations {file}: {e.strerror}") from e
        return decoded_revocations(raw, str(file)), str(file)
    found = clone_revocations(git) if git is not None else []
    if found:
        return found[0]
    raise UsageError(
        f"no revocations: not inside a clone with {REVOCATIONS_PATH}, and no --revocations",
        hint="pass --revocations FILE (a revocations.toml), or run it in the repository",
    )


def _index_url(git: Git | None, db: IndexUrl | Path | None) -> IndexUrl:
    url = _as_url(db)
    if url is not None:
        return url
    if git is None:
        raise UsageError(
            "no index named and not inside a git repository",
            hint="pass --db URL (or PROVENANCE_INDEX_URL), or run it in a clone",
        )
    return default_db(git)


def impact_index(
    repo: Path | None,
    rid: str,
    *,
    db: IndexUrl | Path | None,
    revocations: Path | None = None,
    repository: str | None = None,
) -> IndexImpact:
    """Every indexed repository and commit whose evidence the entry ``rid`` withdraws."""
    from provenance.audit.revoked import commit_impacts

    git = _clone(repo)
    if revocations is None and git is not None:
        entry, source = find_entry(git, rid)  # HEAD's file, else the work tree's, as over a range
    else:
        revs, source = read_revocations(git, revocations)
        named = revs.by_id(rid)
        if named is None:
            raise UsageError(
                f"no revocation {rid!r} in {source}",
                hint="add it with `provenance revoke ...` (it prints the id), or name the file "
                "with --revocations",
            )
        entry = named
    url = _index_url(git, db)
    with Index.open(url, create=False) as index:
        found = commit_impacts(index, entry, repository)
    return IndexImpact(entry, source, url.shown(), tuple(found))


def query_revoked(
    repo: Path | None,
    *,
    db: IndexUrl | Path | None,
    revocations: Path | None = None,
    repository: str | None = None,
) -> tuple[list[RevokedRow], str]:
    """Every indexed row any entry of the revocations withdraws, and the index asked."""
    from provenance.audit.revoked import revoked_rows

    git = _clone(repo)
    revs, _ = read_revocations(git, revocations)
    url = _index_url(git, db)
    with Index.open(url, create=False) as index:
        rows = revoked_rows(index, revs, repository)
    return rows, url.shown()


def _time(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def revoked_row_json(r: RevokedRow) -> dict[str, object]:
    """One withdrawn row: where, which line, its verified time, which entries, how sure."""
    return {
        "repository": r.repository,
        "commit": r.commit,
        "kind": r.kind,
        "line_digest": r.line_digest,
        "attestation": r.attestation,
        "signer": r.signer,
        "signed_time": _time(r.signed_time),
        "revocations": list(r.revocations),
        "hit": "possible" if r.unproven else "certain",
        "refused_when_indexed": r.when_indexed,
    }


def _standing(s: Standing) -> dict[str, object]:
    return {"status": s.status, "reasons": list(s.reasons), "approvers": list(s.approvers)}


def index_impact_to_dict(result: IndexImpact) -> dict[str, object]:
    """The documented JSON: the entry, the index, and per repository and commit the rest."""
    from provenance.verify.report import revoked_json

    hits = result.commits
    return {
        "revocation": revoked_json(result.entry) | {"found_in": result.found_in},
        "index": result.db,
        "summary": {
            "repositories_hit": len({h.repository for h in hits}),
            "commits_hit": len(hits),
            "passed_before_refused_now": sum(
                1 for h in hits if h.before.status == "ok" and h.now.status == "refused"
            ),
            "passed_before_undecided_now": sum(
                1 for h in hits if h.before.status == "ok" and h.now.status == "undecided"
            ),
            "possible_hits": sum(1 for h in hits for w in h.withdrawn if w.unproven),
        },
        "commits": [
            {
                "repository": h.repository,
                "commit": h.commit,
                "before": _standing(h.before),
                "now": _standing(h.now),
                "withdrawn": [revoked_row_json(w) for w in h.withdrawn],
                "left": list(h.left),
            }
            for h in hits
        ],
    }


def render_index_impact_text(result: IndexImpact) -> str:
    """People output: one line per repository and commit, before -> now."""
    from provenance.display import shown

    e = result.entry
    lines = [f"revocation {shown(e.id)} ({e.cause} {shown(str(getattr(e, e.cause)))}): "
             f"{shown(e.reason)}  [index {shown(result.db)}]"]  # fmt: skip
    for h in result.commits:
        possible = sum(1 for w in h.withdrawn if w.unproven)
        note = f", {possible} possibly (signed time unproven)" if possible else ""
        now = ", ".join(h.now.reasons) or "-"
        lines.append(
            f"{shown(h.repository)}  {h.commit[:12]}  {h.before.status} -> {h.now.status}  "
            f"({shown(now)}); {len(h.withdrawn)} line(s) withdrawn{note}, "
            f"{len(h.left)} change attestation(s) left, approvers left: "
            f"{shown(', '.join(h.now.approvers)) or '-'}"
        )
    repos = len({h.repository for h in result.commits})
    lines.append(f"{len(result.commits)} commit(s) hit in {repos} repository(ies)")
    return "\n".join(lines)


def render_revoked(rows: list[RevokedRow], fmt: str) -> str:
    """``query --revoked`` as a table or JSON."""
    import json

    if fmt == "json":
        return json.dumps([revoked_row_json(r) for r in rows], indent=2)
    from provenance.display import shown

    out = []
    for r in rows:
        when = _time(r.signed_time) or "unproven"
        sure = "possible" if r.unproven else "certain"
        out.append(f"{shown(r.repository)}  {r.commit[:12]}  {r.kind:<8}  {when}  {sure:<8}  "
                   f"{shown(','.join(r.revocations))}  {shown(r.signer or '-')}")  # fmt: skip
    return "\n".join(out)


__all__ = [
    "IndexImpact",
    "impact_index",
    "index_impact_to_dict",
    "query_revoked",
    "read_revocations",
    "render_index_impact_text",
    "render_revoked",
    "revoked_row_json",
]

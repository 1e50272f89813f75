"""Auditor use cases: build the index from the store, query it, and ``log``/``blame`` with it."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from provenance.app.policy_source import resolve_policy
from provenance.audit import (
    BlameLine,
    CommitSummary,
    Hit,
    Index,
    LogEntry,
    Query,
    commit_summaries,
    line_digest,
    run_query,
)
from provenance.errors import ProvenanceError, UsageError
from provenance.gitio import Commit, Git, check_repository_safe, parse_commit, resolve_commit
from provenance.gitio.batch import read_objects
from provenance.gitio.history import blame_lines, log_records, path_exists
from provenance.gitio.walk import parse_range
from provenance.store import NotesStore

if TYPE_CHECKING:  # the verifier (and sigstore) load only to build the index, not to query
    from provenance.app.options import VerifyOptions
    from provenance.policy import LoadedPolicy

Progress = Callable[[str, int, int], None]
_CHUNK = 2000


def default_db(git: Git) -> Path:
    """``.git/provenance/index.sqlite`` (the common git dir, shared by worktrees)."""
    return git.common_dir().resolve() / "provenance" / "index.sqlite"


@dataclass(frozen=True)
class IndexStats:
    """What one ``index`` run did."""

    db: Path
    rebuilt: bool
    commits_scanned: int
    new_lines: int
    indexed: int
    refused: int
    totals: dict[str, int]
    policy_source: str
    trust_root_digest: str | None
    notes_ref: str
    notes_available: bool


def _read_commits(git: Git, shas: list[str]) -> dict[str, Commit]:
    """Commits present in the object database (notes may name commits not fetched)."""
    found: dict[str, Commit] = {}
    for oid, kind, data in read_objects(git, shas):
        if kind == "commit" and data is not None:
            found[oid] = parse_commit(oid, data)
    return found


def build_index(
    repo: Path,
    options: VerifyOptions,
    *,
    db: Path | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> IndexStats:
    """Ingest every stored line that verifies against the policy's trust settings.

    Incremental: commits whose note blob did not change are skipped, and within a changed
    note only lines whose digest was never seen are verified. A different policy, trusted
    root or notes ref (or ``rebuild``) starts from an empty index.
    """
    from provenance.app.gate import classify_commits
    from provenance.audit.ingest import LineJob, redecide, to_rows, verify_jobs

    git = Git.discover(repo)
    check_repository_safe(git)
    loaded = resolve_policy(git, options.policy, resolve_commit(git, "HEAD"))
    trust = options.trust(loaded)
    root_digest = trust.source.pinned_digest()
    ref = loaded.policy.notes_ref
    settings = {
        "policy_digest": loaded.digest,
        "keys_digest": _keys_digest(loaded),  # a rotated key file changes what verifies
        "trust_root_digest": root_digest or "sigstore-production-tuf",
        "notes_ref": ref,
    }
    path = db or default_db(git)
    new_lines = indexed = refused = 0
    store = NotesStore(git, ref)
    with Index.open(path) as index:
        current = index.meta()
        notes = store.note_blobs()
        rebuilt = (
            rebuild
            or any(current.get(k) != v for k, v in settings.items())
            or _lines_went_away(index, store, notes)
        )
        with index.transaction():
            if rebuilt:
                index.reset(settings)
            index.set_meta({"policy_source": loaded.source})
        seen = index.note_blobs()
        changed = sorted(c for c, blob in notes.items() if seen.get(c) != blob)
        for start in range(0, len(changed), _CHUNK):
            chunk = changed[start : start + _CHUNK]
            lines = store.read_many(chunk)
            commits = _read_commits(git, chunk)
            known = index.known_lines(chunk)
            jobs = [
                LineJob(commits[sha], i, ln)
                for sha in chunk
                if sha in commits
                for i, ln in enumerate(lines[sha])
                if (sha, line_digest(ln)) not in known
            ]
            trust.verifier_if_needed({j.commit.sha: [j.line] for j in jobs})
            results = verify_jobs(jobs, trust, _chunk_progress(progress, start, len(changed)))
            rows, bad = to_rows(
                jobs,
                results,
                verified_at=datetime.now(UTC),
                trust_root_digest=root_digest,
                policy_digest=loaded.digest,
            )
            touched = sorted({j.commit.sha for j in jobs})
            related = classify_commits(git, touched, loaded) if touched else {}
            with index.transaction():
                indexed += index.add(rows, bad)
                for sha in touched:
                    redecide(index, commits[sha], loaded.policy, related[sha].identity_related)
                index.set_note_blobs({sha: notes[sha] for sha in chunk if sha in commits})
            new_lines += len(jobs)
            refused += len(bad)
        with index.transaction():
            index.set_meta({"notes_tip": store.tip() or "", "indexed_at": _now()})
        if indexed or rebuilt:
            index.analyze()
        totals = index.counts()
    return IndexStats(
        db=path,
        rebuilt=rebuilt,
        commits_scanned=len(changed),
        new_lines=new_lines,
        indexed=indexed,
        refused=refused,
        totals=totals,
        policy_source=loaded.source,
        trust_root_digest=root_digest,
        notes_ref=ref,
        notes_available=bool(notes),
    )


def _keys_digest(loaded: LoadedPolicy) -> str:
    """sha256 over every key file the policy names (path and content; missing ones marked)."""
    paths = sorted({r.key for r in (*loaded.policy.signers, *loaded.policy.approvers) if r.key})
    digest = hashlib.sha256()
    for key in paths:
        try:
            content = hashlib.sha256(loaded.read_file(key)).hexdigest()
        except (ProvenanceError, OSError):
            content = "missing"
        digest.update(f"{key}\0{content}\n".encode())
    return f"sha256:{digest.hexdigest()}"


def _lines_went_away(index: Index, store: NotesStore, notes: dict[str, str]) -> bool:
    """True when an indexed commit lost its note or a line: its rows are stale, rebuild.

    Adding lines is incremental; removing them is rare (sync never does) and rebuilding is
    always correct, so the index never keeps a row for a line that is no longer stored.
    """
    seen = index.note_blobs()
    if any(c not in notes for c in seen):
        return True
    rewritten = [c for c, blob in notes.items() if c in seen and seen[c] != blob]
    if not rewritten:
        return False
    stored = store.read_many(rewritten)
    present = {(c, line_digest(ln)) for c, lines in stored.items() for ln in lines}
    return not index.known_lines(rewritten) <= present


def _chunk_progress(
    progress: Progress | None, offset: int, total: int
) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, _n: progress("verified", offset + done, total)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


T = TypeVar("T", Hit, LogEntry, BlameLine)


@dataclass(frozen=True)
class Answer(Generic[T]):
    """Items read from the index, and whether the store moved since it was built."""

    items: list[T]
    db: Path
    stale: bool


def _open(git: Git, db: Path | None) -> tuple[Index, bool]:
    index = Index.open(db or default_db(git), create=False)
    meta = index.meta()
    tip = NotesStore(git, meta.get("notes_ref", NotesStore.default_ref)).tip() or ""
    return index, tip != meta.get("notes_tip", "")


def query(repo: Path, q: Query, *, db: Path | None = None) -> Answer[Hit]:
    """Verified change attestations matching ``q``."""
    git = Git.discover(repo)
    index, stale = _open(git, db)
    with index:
        return Answer(run_query(index, q), index.path, stale)


def _columns(summary: CommitSummary | None, human: str) -> tuple[str, str, tuple[str, ...], str]:
    if summary is None:
        return human, "-", (), "unattested"
    status = "ok" if summary.status == "ok" else ",".join(summary.reasons) or summary.status
    agents = ",".join(summary.agents) or "-"
    return agents, ",".join(summary.models) or "-", summary.approvers, status


def _log_revisions(git: Git, spec: str) -> list[str]:
    """``BASE..HEAD`` or one revision, resolved to commit ids (never git's guess, G42)."""
    parsed = parse_range(spec)
    if parsed is None:
        return [resolve_commit(git, spec)]
    return [resolve_commit(git, parsed[1]), f"^{resolve_commit(git, parsed[0])}"]


def log(
    repo: Path, spec: str | None, *, db: Path | None = None, max_count: int | None = None
) -> Answer[LogEntry]:
    """``git log`` of ``spec`` (default HEAD) with agent, model, approvers and status."""
    git = Git.discover(repo)
    records = log_records(git, _log_revisions(git, spec or "HEAD"), max_count)
    index, stale = _open(git, db)
    with index:
        summaries = commit_summaries(index, [r.commit for r in records])
    entries = []
    for r in records:
        agent, model, approvers, status = _columns(summaries.get(r.commit), "-")
        entries.append(
            LogEntry(
                commit=r.commit,
                author=r.author,
                date=r.date,
                subject=r.subject,
                agent=agent,
                model=model,
                approvers=approvers,
                status=status,
            )
        )
    return Answer(entries, index.path, stale)


def _repo_path(git: Git, file: str) -> str:
    """``file`` relative to the work tree top when it names a file on disk, else as given."""
    top = git.root.parent if git.root.name == ".git" else None
    here = Path(os.path.abspath(file))
    if top is not None and (Path(file).is_absolute() or here.exists()):
        rel = os.path.relpath(here, top.resolve())
        if rel.startswith(".."):
            raise UsageError(f"{file} is outside the repository")
        return Path(rel).as_posix()
    return file


def blame(repo: Path, file: str, *, rev: str = "HEAD", db: Path | None = None) -> Answer[BlameLine]:
    """Per line of ``file`` at ``rev``: the commit that last changed it, its agent and approvers."""
    git = Git.discover(repo)
    sha = resolve_commit(git, rev)
    path = _repo_path(git, file)
    if not path_exists(git, sha, path):
        raise UsageError(f"{path} does not exist at {rev}")
    rows = blame_lines(git, sha, path)
    index, stale = _open(git, db)
    with index:
        summaries = commit_summaries(index, [c for _, c, _ in rows])
    lines = []
    for number, commit, text in rows:
        agent, model, approvers, status = _columns(summaries.get(commit), "human-only")
        lines.append(
            BlameLine(
                line=number,
                commit=commit,
                agent=agent,
                model=model,
                approvers=approvers,
                status=status,
                text=text,
            )
        )
    return Answer(lines, index.path, stale)

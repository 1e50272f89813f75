"""Auditor use cases: build the index from the store, query it, and ``log``/``blame`` with it.

The index is a SQLite file in the clone by default, or one database for a whole organisation
(``--db postgresql://…``); every repository in it is identified by its canonical id
(:func:`repository_id`) and decided with its own policy and trusted root.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from provenance.app.audit_links import through_links
from provenance.app.policy_source import resolve_policy
from provenance.audit import (
    BlameLine,
    CommitSummary,
    Hit,
    Index,
    IndexUrl,
    LogEntry,
    Query,
    canonical_repository,
    commit_summaries,
    line_digest,
    run_query,
    sqlite_url,
)
from provenance.errors import GitError, ProvenanceError, UsageError
from provenance.gitio import Commit, Git, check_repository_safe, parse_commit, resolve_commit
from provenance.gitio.batch import read_objects
from provenance.gitio.history import blame_lines, log_records, path_exists
from provenance.gitio.walk import parse_range
from provenance.store import NotesStore

if TYPE_CHECKING:  # the verifier (and sigstore) load only to build the index, not to query
    from provenance.app.options import VerifyOptions
    from provenance.audit.writes import Writer
    from provenance.policy import LoadedPolicy
    from provenance.verify.trust import TrustContext

Progress = Callable[[str, int, int], None]
_CHUNK = 2000


def default_db(git: Git) -> IndexUrl:
    """``.git/provenance/index.sqlite`` (the common git dir, shared by worktrees)."""
    return sqlite_url(git.common_dir().resolve() / "provenance" / "index.sqlite")


def repository_id(git: Git, given: str | None = None) -> str:
    """The repository's id in the index: ``given`` (``--repository-id``), else the canonical
    URL of the ``origin`` remote, else ``file://`` and the repository's own path.

    The remote URL is read from the repository's config, which its content cannot change
    but whoever controls the clone can: CI jobs feeding a shared index should pass
    ``--repository-id`` from the CI system's own variables (decision 0015).
    """
    if given is not None:
        return canonical_repository(given)
    urls = git.config_by_scope("remote.origin.url")
    if urls:
        return canonical_repository(urls[-1][1])
    top = git.work_tree() or git.common_dir()
    return canonical_repository(str(top.resolve()))


@dataclass(frozen=True)
class IndexStats:
    """What one ``index`` run did."""

    db: str
    repository: str
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
    db: IndexUrl | Path | None = None,
    repository: str | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> IndexStats:
    """Ingest every stored line that verifies against the policy's trust settings.

    One run is one transaction of the repository's rows (readers see the previous run or
    this one; an interrupted run leaves the previous one). Incremental: commits whose note
    blob did not change are skipped, and within a changed note only lines whose digest was
    never seen are verified. A different policy, trusted root or notes ref (or ``rebuild``)
    starts this repository from nothing; other repositories in the index are untouched.
    """
    git = Git.discover(repo)
    check_repository_safe(git)
    loaded = resolve_policy(git, options.policy, resolve_commit(git, "HEAD"))
    trust = options.trust(loaded)
    root_digest = trust.source.pinned_digest()
    settings = {
        "policy_digest": loaded.digest,
        "keys_digest": _keys_digest(loaded),  # a rotated key file changes what verifies
        "trust_root_digest": root_digest or "sigstore-production-tuf",
        "notes_ref": loaded.policy.notes_ref,
    }
    name = repository_id(git, repository)
    where = _as_url(db) or default_db(git)
    store = NotesStore(git, loaded.policy.notes_ref)
    with Index.open(where) as index:
        if index.backend == "postgresql":
            from provenance.audit.roles import check_writer

            check_writer(index, name)
        notes = store.note_blobs()
        with index.writing(name) as writer:
            run = _Run(git, store, writer, loaded, trust, root_digest, progress)
            rebuilt = run.prepare(settings, notes, rebuild)
            run.ingest(notes)
            writer.set_settings({"notes_tip": store.tip() or "", "indexed_at": _now()})
        if run.indexed or rebuilt:
            index.analyze()
        totals = index.counts(name)
    return IndexStats(
        db=where.shown(),
        repository=name,
        rebuilt=rebuilt,
        commits_scanned=run.scanned,
        new_lines=run.new_lines,
        indexed=run.indexed,
        refused=run.refused,
        totals=totals,
        policy_source=loaded.source,
        trust_root_digest=root_digest,
        notes_ref=loaded.policy.notes_ref,
        notes_available=bool(notes),
    )


@dataclass
class _Run:
    """One index run of one repository, inside its transaction."""

    git: Git
    store: NotesStore
    writer: Writer
    loaded: LoadedPolicy
    trust: TrustContext
    root_digest: str | None
    progress: Progress | None
    scanned: int = 0
    new_lines: int = 0
    indexed: int = 0
    refused: int = 0

    def prepare(self, settings: dict[str, str], notes: dict[str, str], rebuild: bool) -> bool:
        """Empty the repository's rows when its settings changed or lines went away."""
        current = self.writer.settings()
        rebuilt = (
            rebuild
            or any(current.get(k) != v for k, v in settings.items())
            or _lines_went_away(self.writer, self.store, notes)
        )
        if rebuilt:
            self.writer.reset(settings)
        required = str(self.loaded.policy.approvals.required)  # for impact --db (0002)
        self.writer.set_settings({"policy_source": self.loaded.source,
                                  "approvals_required": required})  # fmt: skip
        return rebuilt

    def ingest(self, notes: dict[str, str]) -> None:
        """Verify the new lines of every changed note, chunk by chunk, and decide again."""
        from provenance.app.gate import classify_commits
        from provenance.audit.ingest import LineJob, redecide, to_rows, verify_jobs

        seen = self.writer.note_blobs()
        changed = sorted(c for c, blob in notes.items() if seen.get(c) != blob)
        self.scanned = len(changed)
        for start in range(0, len(changed), _CHUNK):
            chunk = changed[start : start + _CHUNK]
            lines = self.store.read_many(chunk)
            commits = _read_commits(self.git, chunk)
            known = self.writer.known_lines(chunk)
            jobs = [
                LineJob(commits[sha], i, ln)
                for sha in chunk
                if sha in commits
                for i, ln in enumerate(lines[sha])
                if (sha, line_digest(ln)) not in known
            ]
            self.trust.verifier_if_needed({j.commit.sha: [j.line] for j in jobs})
            progress = _chunk_progress(self.progress, start, len(changed))
            results = verify_jobs(jobs, self.trust, progress)
            rows, bad = to_rows(
                jobs,
                results,
                verified_at=datetime.now(UTC),
                trust_root_digest=self.root_digest,
                policy_digest=self.loaded.digest,
            )
            touched = sorted({j.commit.sha for j in jobs})
            related = classify_commits(self.git, touched, self.loaded) if touched else {}
            self.indexed += self.writer.add(rows, bad)
            redecide(self.writer, [commits[sha] for sha in touched], self.loaded.policy,
                     {sha: related[sha].identity_related for sha in touched})  # fmt: skip
            self.writer.set_note_blobs({sha: notes[sha] for sha in chunk if sha in commits})
            self.new_lines += len(jobs)
            self.refused += len(bad)


def _as_url(db: IndexUrl | Path | None) -> IndexUrl | None:
    """A path given to a library call is a SQLite file, as on the command line."""
    return sqlite_url(db) if isinstance(db, Path) else db


def upgrade_index(db: IndexUrl) -> tuple[str | None, str]:
    """``index --upgrade``: migrate the index's schema to this version (from, to)."""
    from sqlalchemy.exc import SQLAlchemyError

    from provenance.audit.db import database_error, make_engine
    from provenance.audit.migrate import upgrade

    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            conn.execution_options(write=True)
            with conn.begin():
                return upgrade(conn, drop_legacy=db.backend == "sqlite")
    except SQLAlchemyError as e:
        raise database_error(db, "upgrade", e) from e
    finally:
        engine.dispose()


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


def _lines_went_away(index: Writer, store: NotesStore, notes: dict[str, str]) -> bool:
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
    db: str
    stale: bool


def _stale(git: Git, index: Index, name: str) -> bool:
    """Did this clone's notes move since its repository was last indexed?"""
    settings = index.settings(name)
    if not settings:
        return False
    tip = NotesStore(git, settings.get("notes_ref") or NotesStore.default_ref).tip() or ""
    return tip != settings.get("notes_tip", "")


def _clone(repo: Path | None) -> Git | None:
    try:
        return Git.discover(repo or ".")
    except GitError:
        return None


def query(
    repo: Path | None,
    q: Query,
    *,
    db: IndexUrl | Path | None = None,
    repository: str | None = None,
) -> Answer[Hit]:
    """Verified change attestations matching ``q``, across the index's repositories.

    With ``db`` no clone is needed (an auditor asking a shared index); inside one, the
    answer says whether that clone's notes moved since its repository was indexed.
    """
    git, db = _clone(repo), _as_url(db)
    if db is None:
        if git is None:
            raise UsageError(
                "no index named and not inside a git repository",
                hint="pass --db URL (or PROVENANCE_INDEX_URL), or run it in a clone",
            )
        db = default_db(git)
    with Index.open(db, create=False) as index:
        hits = run_query(index, q)
        stale = False
        if git is not None:
            try:
                stale = _stale(git, index, repository_id(git, repository))
            except UsageError:
                stale = False
    return Answer(hits, db.shown(), stale)


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


def _summaries(
    git: Git, db: IndexUrl | Path | None, repository: str | None, commits: list[str]
) -> tuple[dict[str, CommitSummary], str, bool]:
    """This repository's provenance columns of ``commits`` (another repository's rows for
    the same commit ids, a fork's, never count)."""
    where = _as_url(db) or default_db(git)
    name = repository_id(git, repository)
    with Index.open(where, create=False) as index:
        own = commit_summaries(index, name, commits)
        summaries = through_links(git, index, name, own, commits)
        return summaries, where.shown(), _stale(git, index, name)


def log(
    repo: Path,
    spec: str | None,
    *,
    db: IndexUrl | Path | None = None,
    repository: str | None = None,
    max_count: int | None = None,
) -> Answer[LogEntry]:
    """``git log`` of ``spec`` (default HEAD) with agent, model, approvers and status."""
    git = Git.discover(repo)
    records = log_records(git, _log_revisions(git, spec or "HEAD"), max_count)
    summaries, shown, stale = _summaries(git, db, repository, [r.commit for r in records])
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
    return Answer(entries, shown, stale)


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


def blame(
    repo: Path,
    file: str,
    *,
    rev: str = "HEAD",
    db: IndexUrl | Path | None = None,
    repository: str | None = None,
) -> Answer[BlameLine]:
    """Per line of ``file`` at ``rev``: the commit that last changed it, its agent and approvers."""
    git = Git.discover(repo)
    sha = resolve_commit(git, rev)
    path = _repo_path(git, file)
    if not path_exists(git, sha, path):
        raise UsageError(f"{path} does not exist at {rev}")
    rows = blame_lines(git, sha, path)
    summaries, shown, stale = _summaries(git, db, repository, [c for _, c, _ in rows])
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
    return Answer(lines, shown, stale)

"""The SQLite index of verified attestations: schema, writes, and per-commit standing.

Only lines that verified on ingest become ``attestations`` rows; every line seen (verified or
not) is remembered by digest in ``lines`` so a re-run skips it. ``meta`` records the policy and
trusted root the rows were verified against: when either changes, the index is rebuilt. The
index is a cache of the store and can always be deleted and rebuilt.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from provenance.audit.models import AttestationRow, RefusedLine, SkillRow
from provenance.errors import ProvenanceError

if TYPE_CHECKING:  # queries never load the verifier (nor sigstore)
    from provenance.verify.approvals import ApprovalFacts, ChangeFacts

SCHEMA_VERSION = "1"
#: Separator of the list columns (reasons, approvers): never part of a reason or a person.
LIST_SEP = "\x1f"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS notes (commit_sha TEXT PRIMARY KEY, blob TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lines (
  commit_sha TEXT NOT NULL, line_digest TEXT NOT NULL, ok INTEGER NOT NULL,
  reasons TEXT NOT NULL, PRIMARY KEY (commit_sha, line_digest)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attestations (
  id INTEGER PRIMARY KEY,
  line_digest TEXT NOT NULL,
  commit_sha TEXT NOT NULL,
  kind TEXT NOT NULL,
  payload_digest TEXT NOT NULL,
  format TEXT NOT NULL,
  signer TEXT COLLATE NOCASE,
  issuer TEXT,
  signed_time TEXT,
  claimed_time TEXT,
  time_ts REAL,
  verified_at TEXT NOT NULL,
  trust_root_digest TEXT,
  policy_digest TEXT NOT NULL,
  change_signer INTEGER NOT NULL,
  approver TEXT COLLATE NOCASE,
  predicate_type TEXT NOT NULL,
  agent TEXT COLLATE NOCASE,
  agent_version TEXT,
  model TEXT COLLATE NOCASE,
  session_id TEXT,
  prompter TEXT COLLATE NOCASE,
  repository TEXT,
  identity_related INTEGER,
  decision TEXT,
  approves TEXT,
  comment TEXT,
  counted INTEGER NOT NULL DEFAULT 0,
  skills_text TEXT NOT NULL DEFAULT '',
  paths_text TEXT NOT NULL DEFAULT '',
  rules_text TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'unknown',
  reasons TEXT NOT NULL DEFAULT '',
  approvers TEXT NOT NULL DEFAULT '',
  UNIQUE (commit_sha, line_digest)
);
CREATE TABLE IF NOT EXISTS path_names (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS att_paths (
  att_id INTEGER NOT NULL, path_id INTEGER NOT NULL, old_path_id INTEGER, status TEXT NOT NULL,
  PRIMARY KEY (att_id, path_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS att_rules (
  rule TEXT NOT NULL, att_id INTEGER NOT NULL, path_id INTEGER NOT NULL,
  PRIMARY KEY (rule, att_id, path_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS skills (
  att_id INTEGER NOT NULL, name TEXT NOT NULL COLLATE NOCASE, uri TEXT, version TEXT,
  digest TEXT
);
CREATE TABLE IF NOT EXISTS commits (
  commit_sha TEXT PRIMARY KEY, status TEXT NOT NULL, reasons TEXT NOT NULL,
  approvers TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS att_commit ON attestations (commit_sha, kind);
CREATE INDEX IF NOT EXISTS att_agent ON attestations (kind, agent);
CREATE INDEX IF NOT EXISTS att_model ON attestations (kind, model);
CREATE INDEX IF NOT EXISTS att_prompter ON attestations (kind, prompter);
CREATE INDEX IF NOT EXISTS att_time ON attestations (kind, time_ts);
CREATE INDEX IF NOT EXISTS att_approver ON attestations (approver, commit_sha);
CREATE INDEX IF NOT EXISTS att_signer ON attestations (signer, commit_sha);
CREATE INDEX IF NOT EXISTS att_paths_path ON att_paths (path_id, att_id);
CREATE INDEX IF NOT EXISTS att_paths_old ON att_paths (old_path_id, att_id);
CREATE INDEX IF NOT EXISTS att_rules_att ON att_rules (att_id, path_id);
CREATE INDEX IF NOT EXISTS skills_name ON skills (name, att_id);
CREATE INDEX IF NOT EXISTS skills_digest ON skills (digest, att_id);
CREATE INDEX IF NOT EXISTS skills_att ON skills (att_id);
"""

_TABLES = (
    "notes",
    "lines",
    "attestations",
    "path_names",
    "att_paths",
    "att_rules",
    "skills",
    "commits",
)


class AuditIndexError(ProvenanceError):
    """The index is missing, unreadable or from another schema (exit 3)."""


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _skill_label(skill: SkillRow) -> str:
    label = f"{skill.name}@{skill.version}" if skill.version else skill.name
    return f"{label} ({skill.digest})" if skill.digest else label


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class Index:
    """One SQLite database file; use as a context manager (commits on success)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> Index:
        """Open (and create) the index at ``path``."""
        if not create and not path.is_file():
            raise AuditIndexError(
                f"no index at {path}", hint="run `provenance index` first (it reads the store)"
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA cache_size=-131072")  # 128 MiB of page cache
            conn.execute("PRAGMA mmap_size=1073741824")
            conn.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as e:
            raise AuditIndexError(f"cannot open the index {path}: {e}") from e
        index = cls(conn, path)
        stored = index.meta().get("schema")
        if stored not in (None, SCHEMA_VERSION):
            raise AuditIndexError(
                f"{path} was written by another schema ({stored})",
                hint="run `provenance index --rebuild`",
            )
        return index

    def __enter__(self) -> Index:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: all of it lands, or none of it (a crash keeps the old index)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # --- settings ------------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        """Everything in ``meta`` (policy digest, trusted-root digest, notes ref, schema...)."""
        return dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    def set_meta(self, values: dict[str, str]) -> None:
        self.conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [*values.items(), ("schema", SCHEMA_VERSION)],
        )

    def reset(self, settings: dict[str, str]) -> None:
        """Forget everything (inside the caller's transaction) and record new settings."""
        for table in (*_TABLES, "meta"):
            self.conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        self.set_meta(settings)

    # --- incremental bookkeeping ---------------------------------------------------------------

    def note_blobs(self) -> dict[str, str]:
        """Commit -> note blob id as of the last run."""
        return dict(self.conn.execute("SELECT commit_sha, blob FROM notes").fetchall())

    def set_note_blobs(self, blobs: dict[str, str]) -> None:
        self.conn.executemany(
            "INSERT INTO notes (commit_sha, blob) VALUES (?, ?) "
            "ON CONFLICT (commit_sha) DO UPDATE SET blob = excluded.blob",
            list(blobs.items()),
        )

    def known_lines(self, commits: Iterable[str]) -> set[tuple[str, str]]:
        """(commit, line digest) of every line already seen on these commits.

        Keyed by commit too: a valid line copied onto another commit first (where it is
        refused) must not hide it on the commit it belongs to.
        """
        wanted = list(dict.fromkeys(commits))
        known: set[tuple[str, str]] = set()
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT commit_sha, line_digest FROM lines WHERE commit_sha IN ({marks})",  # noqa: S608
                chunk,
            )
            known.update(rows)
        return known

    # --- writes --------------------------------------------------------------------------------

    def _path_id(self, path: str | None, cache: dict[str, int]) -> int | None:
        if path is None:
            return None
        if path not in cache:
            self.conn.execute("INSERT OR IGNORE INTO path_names (path) VALUES (?)", (path,))
            (cache[path],) = self.conn.execute(
                "SELECT id FROM path_names WHERE path = ?", (path,)
            ).fetchone()
        return cache[path]

    def add(self, rows: Sequence[AttestationRow], refused: Sequence[RefusedLine] = ()) -> int:
        """Insert verified rows and remember refused lines; returns rows inserted."""
        cache: dict[str, int] = {}
        added = 0
        for row in rows:
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO attestations (line_digest, commit_sha, kind, payload_digest,"
                " format, signer, issuer, signed_time, claimed_time, time_ts, verified_at,"
                " trust_root_digest, policy_digest, change_signer, approver, predicate_type,"
                " agent, agent_version, model, session_id, prompter, repository,"
                " identity_related, decision, approves, comment, skills_text, paths_text,"
                " rules_text)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    row.line_digest,
                    row.commit,
                    row.kind,
                    row.payload_digest,
                    row.format,
                    row.signer,
                    row.issuer,
                    _iso(row.signed_time),
                    _iso(row.claimed_time),
                    _epoch(row.signed_time or row.claimed_time),
                    _iso(row.verified_at),
                    row.trust_root_digest,
                    row.policy_digest,
                    int(row.change_signer),
                    row.approver,
                    row.predicate_type,
                    row.agent,
                    row.agent_version,
                    row.model,
                    row.session_id,
                    row.prompter,
                    row.repository,
                    None if row.identity_related is None else int(row.identity_related),
                    row.decision,
                    row.approves,
                    row.comment,
                    LIST_SEP.join(_skill_label(s) for s in row.skills),
                    LIST_SEP.join(sorted({p.path for p in row.paths})),
                    LIST_SEP.join(sorted({r for p in row.paths for r in p.rules})),
                ),
            )
            if cur.rowcount != 1:
                continue
            added += 1
            att = cur.lastrowid
            for p in row.paths:
                pid = self._path_id(p.path, cache)
                self.conn.execute(
                    "INSERT OR IGNORE INTO att_paths (att_id, path_id, old_path_id, status)"
                    " VALUES (?, ?, ?, ?)",
                    (att, pid, self._path_id(p.old_path, cache), p.status),
                )
                self.conn.executemany(
                    "INSERT OR IGNORE INTO att_rules (rule, att_id, path_id) VALUES (?, ?, ?)",
                    [(rule, att, pid) for rule in p.rules],
                )
            self.conn.executemany(
                "INSERT INTO skills (att_id, name, uri, version, digest) VALUES (?, ?, ?, ?, ?)",
                [(att, s.name, s.uri, s.version, s.digest) for s in row.skills],
            )
        self.conn.executemany(
            "INSERT OR IGNORE INTO lines (line_digest, commit_sha, ok, reasons) VALUES (?,?,?,?)",
            [(r.line_digest, r.commit, 1, "") for r in rows]
            + [(r.line_digest, r.commit, 0, ",".join(r.reasons)) for r in refused],
        )
        return added

    def facts(self, commit: str) -> tuple[list[ChangeFacts], list[tuple[str, ApprovalFacts]]]:
        """What the gate's decision reads of a commit's verified rows (and each line digest).

        Rows hold exactly the facts :func:`provenance.verify.gate.standing` needs, so the
        index decides as the gate does without rebuilding any predicate.
        """
        from provenance.verify.approvals import ApprovalFacts, ChangeFacts

        rows = self.conn.execute(
            "SELECT line_digest, kind, signer, signed_time, payload_digest, approver, prompter,"
            " approves, decision, claimed_time FROM attestations WHERE commit_sha = ? ORDER BY id",
            (commit,),
        ).fetchall()
        changes: list[ChangeFacts] = []
        approvals: list[tuple[str, ApprovalFacts]] = []
        for line, kind, signer, signed, payload, approver, prompter, approves, *rest in rows:
            if kind == "change":
                changes.append(ChangeFacts(payload, signer, approver, prompter))
                continue
            decision, claimed = rest
            facts = ApprovalFacts(
                reasons=(),
                approves=approves,
                approver=approver,
                signer=signer,
                signed_time=_dt(signed),
                decided_at=_dt(claimed) or datetime.min.replace(tzinfo=UTC),
                decision=decision or "",
            )
            approvals.append((line, facts))
        return changes, approvals

    def set_standing(
        self,
        commit: str,
        status: str,
        reasons: Sequence[str],
        approvers: Sequence[str],
        counted: Sequence[str],
    ) -> None:
        """Record a commit's decision and which approval lines counted toward it."""
        self.conn.execute(
            "INSERT INTO commits (commit_sha, status, reasons, approvers) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (commit_sha) DO UPDATE SET status = excluded.status,"
            " reasons = excluded.reasons, approvers = excluded.approvers",
            (commit, status, LIST_SEP.join(reasons), LIST_SEP.join(approvers)),
        )
        self.conn.execute(
            "UPDATE attestations SET counted = 0, status = ?, reasons = ?, approvers = ?"
            " WHERE commit_sha = ?",
            (status, LIST_SEP.join(reasons), LIST_SEP.join(approvers), commit),
        )
        self.conn.executemany(
            "UPDATE attestations SET counted = 1 WHERE commit_sha = ? AND line_digest = ?",
            [(commit, d) for d in counted],
        )

    def analyze(self) -> None:
        """Refresh the planner's statistics after a bulk change (about 0.5 s per 100k rows)."""
        self.conn.execute("ANALYZE")

    def counts(self) -> dict[str, int]:
        """Row counts for reports: verified attestations, refused lines, commits."""
        one = self.conn.execute
        return {
            "attestations": one("SELECT count(*) FROM attestations").fetchone()[0],
            "refused_lines": one("SELECT count(*) FROM lines WHERE ok = 0").fetchone()[0],
            "commits": one("SELECT count(*) FROM commits").fetchone()[0],
        }

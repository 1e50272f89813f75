"""``provenance run``: wrap an agent session, then stamp every commit it made.

The agent runs as a child process that never holds the signing credential
(:mod:`provenance.app.credentials` withholds it from the child and from every git process,
and puts it back only while a statement is signed). Before the agent starts, everything
that decides where the token goes is pinned and the repository's refs and remotes are
snapshotted; afterwards the session's commits are decided from objects
(:mod:`provenance.app.session_commits`), prepared, signed oldest first and stored.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from provenance.app.agent_terminal import run_child
from provenance.app.credentials import child_environment, restored, withheld_from_children
from provenance.app.policy_source import load_policy_at
from provenance.app.session_commits import Window, new_commits
from provenance.app.stamp import Prepared, Preparer, StampResult, confirm_stored, sign_and_store
from provenance.errors import GitError, ProvenanceError, SigningError, StoreError, UsageError
from provenance.gitio import Git
from provenance.gitio.remotes import Endpoint, configured_endpoints
from provenance.gitio.snapshots import (
    RefSnapshot,
    RemoteSnapshot,
    remote_snapshot,
    rev_list,
    session_identity,
    snapshot,
)
from provenance.gitio.transport import Programs, pin_programs
from provenance.record.change import SessionContext
from provenance.sign.signing import PinnedSigning, SigningOptions, pin_signing
from provenance.store import NotesStore
from provenance.store.pending import clear_pending, record_pending


@dataclass(frozen=True)
class RunResult:
    """What the session did and what the wrapper stamped."""

    session_id: str
    exit_status: int
    started_at: datetime
    ended_at: datetime
    before: RefSnapshot
    after: RefSnapshot
    stamped: list[StampResult] = field(default_factory=list)
    pending: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    #: What could not be decided, e.g. a remote that could not be read before or after.
    undecided: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- the child


# --------------------------------------------------------------------------- stamping


def _stamp_all(
    git: Git,
    prepared: list[Prepared],
    signing: PinnedSigning,
    withheld: dict[str, str],
) -> tuple[list[StampResult], list[tuple[str, str]]]:
    """Sign oldest first; the first failure leaves it and every later commit pending.

    After the pending entries are cleared, every stored attestation is looked up again
    (G59): one that is gone is reported pending, and the run exits 3.
    """
    stamped: list[StampResult] = []
    pending: list[tuple[str, str]] = []
    for n, item in enumerate(prepared):
        try:
            signed, added = sign_and_store(
                git, item.commit, item.statement, item.notes_ref, signing,
                while_signing=restored(withheld),  # the credential is back only while signing
            )  # fmt: skip
        except (SigningError, StoreError) as e:
            reason = e.diagnostics()
            rest = prepared[n:]
            try:
                record_pending(git, {p.commit: (p.statement, str(e)) for p in rest}, item.notes_ref)
            except StoreError as store_error:  # still reported, and the run exits 3
                reason += f" (and it could not be recorded pending: {store_error})"
            pending.extend((p.commit, reason) for p in rest)
            break
        stamped.append(
            StampResult(
                item.commit, item.digest, signed.signer, signed.issuer, item.identity_related, added
            )
        )
    with contextlib.suppress(StoreError):  # a stored attestation wins over a stale entry
        clear_pending(git, [s.commit for s in stamped])
    kept = {p.commit: p.statement for p in prepared if p.commit in {s.commit for s in stamped}}
    try:
        lost = set(confirm_stored(git, prepared[0].notes_ref, kept)) if kept else set()
    except StoreError as e:
        lost, why = set(kept), str(e)
    else:
        why = "its attestation was gone from the notes ref right after it was stored"
    pending += [(s.commit, why) for s in stamped if s.commit in lost]
    return [s for s in stamped if s.commit not in lost], pending


def _prepare_each(
    git: Git, made: list[str], session: SessionContext, notes_ref: str
) -> tuple[list[Prepared], list[tuple[str, str]]]:
    """Statements for the commits; one that cannot be built is left visibly pending."""
    preparer = Preparer(git)
    prepared: list[Prepared] = []
    failed: list[tuple[str, str]] = []
    for sha in made:
        try:
            item = preparer.prepare(sha, session)
        except ProvenanceError as e:
            failed.append((sha, f"could not build its statement: {e}"))
            continue
        # Stored where the policy at the session's start says, never where the agent's own
        # commits would redirect it.
        prepared.append(replace(item, notes_ref=notes_ref))
    return prepared, failed


@dataclass(frozen=True)
class _Start:
    """Everything about the repository fixed before the agent runs."""

    refs: RefSnapshot
    remotes: RemoteSnapshot
    identity: str | None
    notes_ref: str
    places: tuple[tuple[Path, tuple[int, int, int]], ...]


def _place_identity(path: Path) -> tuple[int, int, int]:
    """Device, inode (followed) and file type (not followed) of ``path``; zeros if missing."""
    try:
        followed, own = path.stat(), path.lstat()
    except OSError:
        return (0, 0, 0)
    return (followed.st_dev, followed.st_ino, own.st_mode & 0o170000)


def _places(git: Git) -> list[Path]:
    """The git dir, the common dir and the work tree's ``.git`` entry, as paths."""
    tree = git.work_tree()
    return [git.root, git.common_dir(), *([tree / ".git"] if tree else [])]


def _check_same_repository(start: _Start) -> None:
    """Refuse to stamp when the repository was swapped during the session (G62c).

    Replacing ``.git`` with a link to another repository would make the wrapper sign commits
    the agent chose there, and store the attestations where nobody looks.
    """
    for path, seen in start.places:
        if _place_identity(path) != seen:
            raise GitError(
                f"{path} was replaced during the session; nothing was signed",
                hint="the agent moved or linked the repository's git directory; inspect the "
                "clone, then stamp its commits with `provenance stamp`",
            )


def _before_session(git: Git) -> tuple[_Start, list[Endpoint], Programs]:
    """Snapshot refs and remotes, and pin what the session's commits are compared with."""
    programs = pin_programs(batch=True)
    endpoints = configured_endpoints(git)  # URLs pinned now: the agent may rewrite them
    refs = snapshot(git)
    start_policy = load_policy_at(git, refs.head) if refs.head else None
    start = _Start(
        refs=refs,
        remotes=remote_snapshot(git, programs, endpoints),
        identity=session_identity(git),
        notes_ref=start_policy.policy.notes_ref if start_policy else NotesStore.default_ref,
        places=tuple((p, _place_identity(p)) for p in _places(git)),
    )
    return start, endpoints, programs


def _undecided(before: RemoteSnapshot, after: RemoteSnapshot) -> list[str]:
    """Remotes that could not be read: what they might hold was not compared."""
    return [
        f"remote {name} could not be read {when} the session: {why}"
        for when, snap in (("before", before), ("after", after))
        for name, why in snap.unreadable.items()
    ]


def run_session(
    repo: Path,
    command: Sequence[str],
    session: SessionContext,
    signing: SigningOptions | PinnedSigning,
    *,
    withhold: Sequence[str] = (),
    cwd: Path | None = None,
    withheld: dict[str, str] | None = None,
) -> RunResult:
    """Run ``command`` as the agent, then stamp every commit it made (merges included).

    The agent runs in ``cwd`` (default: the current directory) whatever ``repo`` is.
    ``withheld``: the credentials already removed from this process by the caller (the CLI
    does so before anything else); otherwise they are withheld here. Everything that decides
    where the token goes, and the signing code itself, is loaded before the agent starts.
    """
    if not command:
        raise UsageError("give the agent command after --", hint="provenance run ... -- CMD")
    git = Git.discover(repo)
    if not isinstance(signing, PinnedSigning):
        signing = pin_signing(signing, git.work_tree())
    session = replace(session, session_id=session.session_id or f"prov-{uuid.uuid4()}")
    with contextlib.ExitStack() as stack:
        if withheld is None:
            withheld = stack.enter_context(withheld_from_children(withhold))
        start, endpoints, programs = _before_session(git)
        notes_ref = start.notes_ref
        started = datetime.now(UTC)
        env = child_environment(dict(os.environ), session, withhold)
        status = run_child(command, env, cwd)
        ended = datetime.now(UTC)
        _check_same_repository(start)
        after = snapshot(git)
        remotes_after = remote_snapshot(git, programs, endpoints)
        window = Window(int(started.timestamp()), int(ended.timestamp()), start.identity)
        made, skipped = new_commits(
            git, (start.refs, start.remotes), (after, remotes_after), window
        )
        timed = replace(session, started_at=started, ended_at=ended, exit_status=status)
        prepared, unprepared = _prepare_each(git, made, timed, notes_ref)
        unfinished = f"signing not finished (session {session.session_id})"
        pending_first = {p.commit: (p.statement, unfinished) for p in prepared}
        # A commit whose statement could not be built is pending with an empty statement:
        # `stamp --pending` reports it as one to stamp anew; the gate calls it pending.
        pending_first |= {sha: (b"", reason) for sha, reason in unprepared}
        try:
            record_pending(git, pending_first, notes_ref)
        except StoreError as e:
            # Signing and storing must not depend on the pending ref (the agent can break
            # it): go on; whatever ends unsigned is reported and the run exits 3.
            unprepared = [(sha, f"{why}; not recorded pending: {e}") for sha, why in unprepared]
        stamped, pending = _stamp_all(git, prepared, signing, withheld)
        pending = [*unprepared, *pending]
        dropped = rev_list(git, start.refs.tips(), after.tips())  # before anything is restored
    return RunResult(
        session_id=str(session.session_id),
        exit_status=status,
        started_at=started,
        ended_at=ended,
        before=start.refs,
        after=after,
        stamped=stamped,
        pending=pending,
        skipped=skipped,
        dropped=dropped,
        undecided=_undecided(start.remotes, remotes_after),
    )

"""``provenance run``: wrap an agent session, then stamp every commit it made.

The agent runs as a child process that never holds the signing credential: every variable
that carries one, or lets a process mint one (CI OIDC request tokens), is withheld from the
child and from every git process the wrapper starts, and restored in this process only while
a statement is being signed. The wrapper also makes itself non-dumpable, so a child running
as the same unprivileged user cannot read its environment or memory through ``/proc``, and
zeroes the values in its initial environment block. A child running as root can still read
the wrapper's memory: run agents as an unprivileged user.
"""

from __future__ import annotations

import contextlib
import ctypes
import fnmatch
import os
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from provenance.app.agent_terminal import run_child
from provenance.app.pending_stamps import clear_pending
from provenance.app.policy_source import load_policy_at
from provenance.app.session_commits import (
    RefSnapshot,
    RemoteSnapshot,
    Window,
    new_commits,
    remote_snapshot,
    rev_list,
    session_identity,
    snapshot,
)
from provenance.app.stamp import (
    PinnedSigning,
    Prepared,
    Preparer,
    SigningOptions,
    StampResult,
    confirm_stored,
    pin_signing,
    record_pending,
    sign_statement,
)
from provenance.errors import GitError, ProvenanceError, SigningError, StoreError, UsageError
from provenance.gitio import Git
from provenance.gitio.remotes import Endpoint, configured_endpoints
from provenance.gitio.transport import Programs, pin_programs
from provenance.record.change import SessionContext
from provenance.store import NotesStore

#: Exact names withheld from the agent: signing tokens and what mints OIDC tokens in CI.
WITHHELD_VARIABLES = (
    "PROVENANCE_IDENTITY_TOKEN",
    "SIGSTORE_ID_TOKEN",
    "SIGSTORE_IDENTITY_TOKEN",
    "GITLAB_OIDC_TOKEN",
    "BUILDKITE_OIDC_TOKEN",
    "BUILDKITE_AGENT_ACCESS_TOKEN",
    "BITBUCKET_STEP_OIDC_TOKEN",
    "SYSTEM_ACCESSTOKEN",
    "SYSTEM_OIDCREQUESTURI",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_OAUTH_ACCESS_TOKEN",
    "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AZURE_FEDERATED_TOKEN_FILE",
    "ACTIONS_RUNTIME_TOKEN",
    # Cloud credentials: with --key awskms:/gcpkms:/azurekms: they are the signing credential.
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_PASSWORD",
    "idToken",  # Azure DevOps AzureCLI task (addSpnToEnvironment)
    "servicePrincipalKey",
    "CLOUDSDK_AUTH_ACCESS_TOKEN",
    "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE",
    "GOOGLE_GHA_CREDS_PATH",
    "GOOGLE_CREDENTIALS",
    "BUILDKITE_AGENT_JOB_API_SOCKET",
    "BUILDKITE_AGENT_JOB_API_TOKEN",
    "VAULT_TOKEN",
)
#: Glob patterns (case-sensitive) withheld as well: GitLab ``id_tokens`` are user-named.
WITHHELD_PATTERNS = (
    "ACTIONS_ID_TOKEN_REQUEST_*",
    "CI_JOB_JWT*",
    "CIRCLE_OIDC_TOKEN*",
    "*_ID_TOKEN",
    "ID_TOKEN_*",  # GitLab's own id_tokens example names
    "*_OIDC_TOKEN",
)
SESSION_VARIABLE = "PROVENANCE_SESSION"
ASSISTED_BY_VARIABLE = "PROVENANCE_ASSISTED_BY"
_PR_SET_DUMPABLE, _PR_GET_DUMPABLE = 4, 3


def is_withheld(name: str, extra: Sequence[str] = ()) -> bool:
    """Is ``name`` a credential variable the agent must not see?"""
    if name in WITHHELD_VARIABLES:
        return True
    return any(fnmatch.fnmatchcase(name, p) for p in (*WITHHELD_PATTERNS, *extra))


def child_environment(
    environ: dict[str, str], session: SessionContext, extra: Sequence[str] = ()
) -> dict[str, str]:
    """The agent's environment: credentials removed, the session announced for the hook."""
    env = {k: v for k, v in environ.items() if not is_withheld(k, extra)}
    env[SESSION_VARIABLE] = session.session_id or ""
    env[ASSISTED_BY_VARIABLE] = f"{session.tool}:{session.model}"
    return env


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


def _set_dumpable(value: int) -> int | None:
    """prctl(PR_SET_DUMPABLE); returns the previous value (Linux only, else ``None``)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        previous = int(libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0))
        libc.prctl(_PR_SET_DUMPABLE, value, 0, 0, 0)
    except (OSError, AttributeError):
        return None
    return previous


def _wipe_initial_value(name: str) -> None:
    """Zero a variable's value where libc keeps it (Linux, best effort).

    ``/proc/PID/environ`` shows the environment block the process started with; removing a
    variable does not erase it there, and a child running as root could still read it.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None)
        libc.getenv.restype = ctypes.c_void_p
        libc.strlen.restype = ctypes.c_size_t
        pointer = libc.getenv(os.fsencode(name))
        if pointer:
            ctypes.memset(pointer, 0, libc.strlen(ctypes.c_void_p(pointer)))
    except (OSError, AttributeError):
        return


@contextlib.contextmanager
def withheld_from_children(extra: Sequence[str] = ()) -> Iterator[dict[str, str]]:
    """Remove credential variables from this process's environment for the duration.

    The values are kept in memory and restored on exit; :func:`restored` brings them back
    briefly while signing (ambient CI detection reads them from the environment).
    """
    saved = {k: v for k, v in os.environ.items() if is_withheld(k, extra)}
    for key in saved:
        _wipe_initial_value(key)
        del os.environ[key]
    previous = _set_dumpable(0)
    try:
        yield saved
    finally:
        os.environ.update(saved)
        if previous is not None:
            _set_dumpable(previous)


@contextlib.contextmanager
def restored(saved: dict[str, str]) -> Iterator[None]:
    """Put withheld variables back while no child process is started."""
    os.environ.update(saved)
    try:
        yield
    finally:
        for key in saved:
            os.environ.pop(key, None)


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
            with restored(withheld):
                signed = sign_statement(item.statement, signing)
            added = NotesStore(git, item.notes_ref).add(item.commit, [signed.line]) > 0
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
    common = git.out("rev-parse", "--path-format=absolute", "--git-common-dir").decode().strip()
    tree = git.work_tree()
    return [git.root, Path(common), *([tree / ".git"] if tree else [])]


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

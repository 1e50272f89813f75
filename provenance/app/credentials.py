"""The agent wrapper's credential handling: what the agent must never see, and how it is kept.

Kept apart from ``app/run.py`` for security review. Every variable that carries a signing
credential, or lets a process mint one (CI OIDC request tokens, cloud credentials, which with
a KMS ``--key`` are the signing credential), is withheld from the agent and from every git
process the wrapper starts: removed from this process's environment for the session, its
value zeroed where libc keeps the initial environment block (``/proc/PID/environ``), the
process made non-dumpable, and put back only while a statement is signed (ambient CI
detection reads it there). A child running as root can still read the wrapper's memory:
run agents as an unprivileged user (README "Wrapping an agent").
"""

from __future__ import annotations

import contextlib
import ctypes
import fnmatch
import os
import sys
from collections.abc import Iterator, Sequence

from provenance.record.change import SessionContext

#: Exact names withheld from the agent: signing tokens and what mints OIDC tokens in CI.
WITHHELD_VARIABLES = (
    "PROVENANCE_IDENTITY_TOKEN",
    "PROVENANCE_KEY_PASSPHRASE",
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


__all__ = [
    "ASSISTED_BY_VARIABLE",
    "SESSION_VARIABLE",
    "WITHHELD_PATTERNS",
    "WITHHELD_VARIABLES",
    "child_environment",
    "is_withheld",
    "restored",
    "withheld_from_children",
]

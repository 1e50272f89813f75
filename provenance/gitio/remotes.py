"""Which URL a remote name stands for, and which repository settings a transport refuses.

A remote's URL is the one thing taken from the repository's configuration, and only from a
config file that only the user (or root) can write; the transport itself never reads the
repository's configuration (:mod:`provenance.gitio.transport`). Settings there that would change
how git reaches a remote (``url.*.insteadOf``, ``remote.*.uploadpack``, ``core.sshCommand``,
``http.*``, ``credential.*``...) are reported so that a tampered clone fails loudly instead of
being silently ignored (THREATS.md G53).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from provenance.errors import GitError
from provenance.gitio.runner import Git
from provenance.gitio.transport import ALLOWED_PROTOCOLS, url_scheme
from provenance.safefiles import unsafe_reason

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: Repository-level keys that would change how git reaches a remote or whom it gives credentials.
_TRANSPORT_KEYS = re.compile(
    r"^(?:url\..*\.(?:insteadof|pushinsteadof)"
    r"|remote\..*\.(?:uploadpack|receivepack|vcs|proxy|proxyauthmethod)"
    r"|core\.(?:gitproxy|sshcommand|askpass|alternaterefscommand)"
    r"|ssh\..*|credential\..*|protocol\..*|gpg\..*|push\.gpgsign"
    r"|http\..*)$"
)
#: ``http.*`` keys that only tune a transfer (harmless, and common in repository configs).
_HARMLESS_HTTP = {"postbuffer", "lowspeedlimit", "lowspeedtime", "maxrequests", "version"}


@dataclass(frozen=True)
class Endpoint:
    """Where a transport goes: a configured remote's URLs, or a URL from the command line."""

    label: str
    fetch_url: str
    push_url: str


def transport_overrides(git: Git) -> list[str]:
    """Transport-affecting keys set in the repository's own configuration (with includes)."""
    out = git.out("config", "--list", "--show-scope", "-z", "--includes")
    found: list[str] = []
    fields = out.split(b"\0")
    for scope, entry in zip(fields[::2], fields[1::2], strict=False):
        key = entry.split(b"\n", 1)[0].decode(errors="replace").lower()
        if scope.decode() not in ("local", "worktree") or not _TRANSPORT_KEYS.match(key):
            continue
        if key.startswith("http.") and key.rsplit(".", 1)[-1] in _HARMLESS_HTTP:
            continue
        found.append(key)
    return sorted(set(found))


def _values(git: Git, key: str) -> list[tuple[str, str]]:
    """``(origin, value)`` for every value of ``key`` in every config file git reads."""
    proc = git.run("config", "-z", "--show-origin", "--get-all", "--end-of-options", key,
                   check=False)  # fmt: skip
    if proc.returncode not in (0, 1):
        raise GitError(f"cannot read {key}: {proc.stderr.decode(errors='replace').strip()}")
    fields = proc.stdout.split(b"\0")
    return [
        (origin.decode(errors="replace"), value.decode(errors="replace"))
        for origin, value in zip(fields[::2], fields[1::2], strict=False)
    ]


def _one(git: Git, name: str, key: str) -> str | None:
    values = _values(git, f"remote.{name}.{key}")
    if len(values) > 1:
        raise GitError(
            f"remote {name!r} has {len(values)} {key} values",
            hint=f"keep exactly one (git config --get-all remote.{name}.{key})",
        )
    if not values:
        return None
    origin, value = values[0]
    if not origin.startswith("file:"):
        raise GitError(f"remote.{name}.{key} comes from {origin}, not from a config file")
    problem = unsafe_reason(Path(origin[5:]))  # .git/config is in the work tree by nature
    if problem:
        raise GitError(
            f"the URL of remote {name!r} comes from a file someone else could write: {problem}",
            hint="give the URL itself (provenance sync URL), or define the remote in your "
            "global config (git config --global remote.NAME.url URL)",
        )
    return value


def resolve_endpoint(git: Git, remote: str) -> Endpoint:
    """The URLs for ``remote`` (a configured name, else a URL or path given by the user)."""
    if not remote or remote.startswith("-") or any(c in remote for c in "\n\r\0"):
        raise GitError(f"invalid remote {remote!r}", hint="name a remote (origin) or a URL")
    if not _NAME.match(remote):
        return _allowed(Endpoint(remote, remote, remote))
    url = _one(git, remote, "url")
    if url is None:
        raise GitError(
            f"no remote named {remote!r}",
            hint="name a configured remote (git remote -v), or give its URL",
        )
    push = _one(git, remote, "pushurl") or url
    return _allowed(Endpoint(remote, url, push))


def _allowed(endpoint: Endpoint) -> Endpoint:
    for url in (endpoint.fetch_url, endpoint.push_url):
        scheme = url_scheme(url)
        if scheme not in ALLOWED_PROTOCOLS:
            raise GitError(
                f"refusing the {scheme!r} transport of {url!r}",
                hint="use an ssh, https or local-path remote",
            )
    return endpoint


def configured_endpoints(git: Git) -> list[Endpoint]:
    """Every configured remote with one URL (for the agent wrapper's snapshots)."""
    out = git.run("config", "-z", "--get-regexp", r"^remote\..*\.url$", check=False).stdout
    urls: dict[str, list[str]] = {}
    for entry in out.split(b"\0"):
        key, _, value = entry.decode(errors="replace").partition("\n")
        if key:
            urls.setdefault(key[len("remote.") : -len(".url")], []).append(value)
    return [Endpoint(name, u[0], u[0]) for name, u in sorted(urls.items()) if len(u) == 1]

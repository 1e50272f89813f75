"""Repository ids: one name for a repository however its remote URL is spelled.

A network remote becomes ``host[:port]/path``: scheme dropped (``https://``, ``ssh://``,
``git://`` and scp-like ``git@host:path`` name the same repository), host lowercased, user
name and password dropped, default ports dropped, query and fragment dropped, repeated and
trailing slashes and a trailing ``.git`` removed. The path keeps its case (some hosts are
case-sensitive). A local path or ``file://`` URL becomes ``file://`` plus the absolute path.
So ``git@GitHub.com:Org/App.git``, ``https://user:tok@github.com/Org/App`` and
``ssh://git@github.com:22/Org/App.git/`` are all ``github.com/Org/App``.
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote, urlsplit

from provenance.errors import UsageError

_DEFAULT_PORTS = {"ssh": 22, "git+ssh": 22, "ssh+git": 22, "git": 9418, "http": 80, "https": 443}
_SCP = re.compile(r"^(?:(?P<user>[^@/]+)@)?(?P<host>\[[^\]]+\]|[^:/\[\]]+):(?P<path>(?!//).*)$")
_CANONICAL_PORT = re.compile(r"^(\[[^\]]+\]|[^@/:\[\]]+):([0-9]{1,5})/(.*)$")
_NETWORK = frozenset(_DEFAULT_PORTS)


def _clean_path(path: str) -> str:
    path = re.sub(r"/{2,}", "/", path).strip("/")
    while path.endswith(".git") or path.endswith("/"):
        path = path.removesuffix(".git").rstrip("/")
    return path


def _network(host: str, port: int | None, scheme: str, path: str) -> str:
    host = host.lower().strip("[]")
    host = f"[{host}]" if ":" in host else host
    if not host.strip("[]"):
        raise ValueError("no host")
    shown = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = _clean_path(path)
    if not path:
        raise ValueError("no path")
    return f"{shown}/{path}"


def canonical_repository(value: str) -> str:
    """The canonical id of the repository ``value`` names (module docstring).

    An id that is already canonical is returned unchanged, so ``--repository`` accepts
    either form.
    """
    text = value.strip()
    if not text or any(ord(c) < 0x20 for c in text):
        raise UsageError("a repository id must be a non-empty single line")
    try:
        if "://" in text:
            parts = urlsplit(text)
            scheme = parts.scheme.lower()
            if scheme == "file":
                return "file://" + _clean_local(unquote(parts.path))
            if scheme not in _NETWORK:
                raise ValueError(f"scheme {scheme!r}")
            return _network(parts.hostname or "", parts.port, scheme, parts.path)
        canonical = _CANONICAL_PORT.match(text)
        if canonical:  # host:port/path, as this function writes it
            host, port, path = canonical.groups()
            return _network(host, int(port), "https", path)
        scp = _SCP.match(text)
        if scp and not os.path.isabs(text):
            return _network(scp.group("host"), None, "ssh", scp.group("path"))
        if os.path.isabs(text) or text.startswith("."):
            return "file://" + _clean_local(text)
        host, _, path = text.partition("/")
        return _network(host, None, "https", path)  # already canonical: host/path
    except ValueError as e:
        raise UsageError(
            "cannot make a repository id of that remote",
            hint="pass --repository-id NAME (for example github.com/ORG/REPO)",
        ) from e


def _clean_local(path: str) -> str:
    absolute = os.path.abspath(path)
    cleaned = _clean_path(absolute)
    return "/" + cleaned


__all__ = ["canonical_repository"]

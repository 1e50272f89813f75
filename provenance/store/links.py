"""Rewrite links: a line in the notes ref naming the commits a rewritten commit came from.

A link is stored on NEW (the squash, rebase, amend or cherry-pick result) as one line::

    provenance-link/v1 {"new":"<NEW>","sources":["<SOURCE>", "<A>..<B>"]}

(RFC 8785 JSON after the prefix; a ``signature`` member, when a credential was at hand, holds
the signed statement of the same link so auditors see who linked). A link is a *claim* and is
never trusted: the verifier recomputes from git objects that NEW's identity-related content is
what the sources' attestations cover, and each source must pass on its own. So nothing here is
checked beyond shape; a malformed link line is simply no link.

The sources' objects are kept reachable under ``refs/provenance/sources/<sha>`` so that a
clone that fetches ``refs/provenance/*`` can recompute the equivalence after the feature
branch is deleted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import rfc8785

from provenance.errors import StoreError
from provenance.gitio.remotes import Endpoint
from provenance.gitio.runner import Git
from provenance.gitio.transport import Transport

LINK_PREFIX = b"provenance-link/v1 "
SOURCES_REF_PREFIX = "refs/provenance/sources/"
#: A link naming more sources than this is no link (a squash is one range).
MAX_SOURCES = 16
_OID = r"(?:[0-9a-f]{40}|[0-9a-f]{64})"
_SOURCE = re.compile(rf"^(?:(?P<base>{_OID})\.\.)?(?P<head>{_OID})$")


@dataclass(frozen=True)
class Source:
    """One source of a link: a commit (``base`` is ``None``) or the squashed range base..head."""

    head: str
    base: str | None = None

    def __str__(self) -> str:
        return f"{self.base}..{self.head}" if self.base else self.head

    def label(self) -> str:
        """Short form for reports: ``a1b2c3d4..c3d4e5f6`` or ``a1b2c3d4``."""
        return f"{self.base[:8]}..{self.head[:8]}" if self.base else self.head[:8]

    @classmethod
    def parse(cls, text: str) -> Source | None:
        """A source as stored (full object ids only), or ``None``."""
        m = _SOURCE.match(text)
        return cls(m["head"], m["base"]) if m else None


@dataclass(frozen=True)
class Link:
    """NEW rewrites ``sources`` (as claimed; ``signature`` is the signed form, if any)."""

    new: str
    sources: tuple[Source, ...]
    signature: Any = None

    def describe(self) -> str:
        """``squash of a1b2..c3d4``, ``rewrite of a1b2c3d4`` (what reports say)."""
        parts = [("squash of " if s.base else "rewrite of ") + s.label() for s in self.sources]
        return ", ".join(parts)

    def claim(self) -> dict[str, Any]:
        """The unsigned claim: what a signature covers."""
        return {"new": self.new, "sources": [str(s) for s in self.sources]}


def is_link_line(line: bytes) -> bool:
    """True for a line in the link format (well-formed or not)."""
    return line.startswith(LINK_PREFIX)


def encode_link(link: Link) -> bytes:
    """The stored line of ``link``."""
    doc = link.claim() | ({"signature": link.signature} if link.signature is not None else {})
    encoded: bytes = rfc8785.dumps(doc)
    return LINK_PREFIX + encoded


def parse_link(line: bytes, commit: str) -> Link | None:
    """The link a line stored on ``commit`` claims, or ``None`` (not a link, malformed, or
    naming another commit as NEW: a copied link proves nothing)."""
    if not is_link_line(line):
        return None
    try:
        doc = json.loads(line[len(LINK_PREFIX) :])
    except ValueError:
        return None
    if not isinstance(doc, dict) or not {"new", "sources"} <= set(doc) <= {
        "new",
        "sources",
        "signature",
    }:
        return None
    sources = doc["sources"]
    if doc["new"] != commit or not isinstance(sources, list):
        return None
    if not 0 < len(sources) <= MAX_SOURCES or not all(isinstance(s, str) for s in sources):
        return None
    parsed = [Source.parse(s) for s in sources]
    if any(p is None for p in parsed):
        return None
    return Link(commit, tuple(p for p in parsed if p is not None), doc.get("signature"))


def source_commits(link: Link) -> list[str]:
    """Every object a link names (range ends included)."""
    out: list[str] = []
    for s in link.sources:
        out += [s.base, s.head] if s.base else [s.head]
    return out


def keep_sources(git: Git, shas: Iterable[str]) -> list[str]:
    """Point ``refs/provenance/sources/<sha>`` at each commit so clones can fetch it."""
    made = []
    for sha in dict.fromkeys(shas):
        ref = SOURCES_REF_PREFIX + sha
        proc = git.run("update-ref", "--no-deref", "-m", "provenance: link source", ref, sha,
                       check=False)  # fmt: skip
        if proc.returncode != 0:
            msg = proc.stderr.decode(errors="replace").strip()
            raise StoreError(f"cannot keep {sha} under {ref}: {msg}", hint="check the commit id")
        made.append(ref)
    return made


def local_sources(git: Git) -> dict[str, str]:
    """``refs/provenance/sources/*`` here: ref name -> commit."""
    out = git.out("for-each-ref", "--format=%(refname) %(objectname)", "--", SOURCES_REF_PREFIX)
    pairs = (line.split(" ", 1) for line in out.decode().splitlines())
    return {name: oid for name, oid in pairs}


def _names_itself(name: str, oid: str) -> bool:
    """A source ref is named by the commit it keeps; any other is ignored (never trusted)."""
    return name.startswith(SOURCES_REF_PREFIX) and name[len(SOURCES_REF_PREFIX) :] == oid


def sync_sources(git: Git, transport: Transport, endpoint: Endpoint) -> tuple[int, int]:
    """Fetch the remote's link sources we lack, push ours it lacks; (fetched, pushed).

    Source refs never move (each is named by its commit), so nothing is overwritten either way.
    """
    remote = {n: o for n, o in transport.ls_remote(endpoint.fetch_url).items()
              if _names_itself(n, o)}  # fmt: skip
    local = local_sources(git)
    fetched = 0
    for name, oid in remote.items():
        if name not in local and transport.fetch(endpoint.fetch_url, name) == oid:
            git.out("update-ref", "--no-deref", name, oid, "0" * len(oid))
            fetched += 1
    pushed = 0
    for name, oid in local.items():
        if name not in remote and _names_itself(name, oid):
            pushed += transport.push(endpoint.push_url, oid, name).accepted
    return fetched, pushed


__all__ = [
    "LINK_PREFIX",
    "MAX_SOURCES",
    "SOURCES_REF_PREFIX",
    "Link",
    "Source",
    "encode_link",
    "is_link_line",
    "keep_sources",
    "local_sources",
    "parse_link",
    "source_commits",
    "sync_sources",
]

"""Commit objects read straight from the object database, and the digest that binds them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from provenance.errors import GitError
from provenance.gitio.revision import resolve_revision
from provenance.gitio.runner import Git

_HEX40 = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_SINGLE_HEADERS = (b"tree", b"author", b"committer", b"encoding")


@dataclass(frozen=True)
class Commit:
    """A parsed commit plus the exact bytes git hashed."""

    sha: str
    raw: bytes
    tree: str
    parents: tuple[str, ...]
    author: str
    committer: str
    author_email: str
    committer_email: str
    committer_time: int

    @property
    def digest(self) -> str:
        """sha256 over the commit object as git frames it: ``commit <len>\\0<raw>``."""
        return commit_digest(self.raw)


def commit_digest(raw: bytes) -> str:
    """Hex sha256 of ``b"commit %d\\0" + raw`` (what a sha256 repository would name it)."""
    return hashlib.sha256(b"commit %d\x00" % len(raw) + raw).hexdigest()


def _email(ident: str) -> str:
    start, end = ident.find("<"), ident.find(">")
    return ident[start + 1 : end].strip().lower() if 0 <= start < end else ""


def parse_commit(sha: str, raw: bytes) -> Commit:
    """Parse a raw commit; duplicate single-valued headers are refused (THREATS.md E29)."""
    header, _, _ = raw.partition(b"\n\n")
    seen: dict[bytes, bytes] = {}
    parents: list[str] = []
    for line in header.split(b"\n"):
        if line.startswith(b" "):
            continue  # continuation of a multi-line header (gpgsig, mergetag)
        key, _, value = line.partition(b" ")
        if key == b"parent":
            parents.append(value.decode("ascii", errors="replace"))
        elif key in _SINGLE_HEADERS:
            if key in seen:
                raise GitError(f"commit {sha} is malformed: duplicate {key.decode()} header")
            seen[key] = value
    if b"tree" not in seen or b"author" not in seen or b"committer" not in seen:
        raise GitError(f"commit {sha} is malformed: missing tree, author or committer")
    author = seen[b"author"].decode("utf-8", errors="replace")
    committer = seen[b"committer"].decode("utf-8", errors="replace")
    try:
        ctime = int(committer.rsplit(" ", 2)[-2])
    except (IndexError, ValueError):
        ctime = 0
    return Commit(
        sha=sha,
        raw=raw,
        tree=seen[b"tree"].decode("ascii", errors="replace"),
        parents=tuple(parents),
        author=author,
        committer=committer,
        author_email=_email(author),
        committer_email=_email(committer),
        committer_time=ctime,
    )


def resolve_commit(git: Git, rev: str) -> str:
    """Full commit id for a user-supplied revision (never parsed as an option).

    Every command resolves revisions here; an ambiguous name is refused with
    ``revision_ambiguous`` (:mod:`provenance.gitio.revision`, THREATS.md G42).
    """
    return resolve_revision(git, rev)


def read_commit(git: Git, sha: str) -> Commit:
    """Read and parse one commit object by full id."""
    if not _HEX40.fullmatch(sha):
        raise GitError(f"not a full object id: {sha!r}")
    return parse_commit(sha, git.out("cat-file", "commit", sha))


def read_commits(git: Git, shas: list[str]) -> dict[str, Commit]:
    """Read many commits through one ``cat-file --batch`` process."""
    from provenance.gitio.batch import read_objects

    out: dict[str, Commit] = {}
    for oid, otype, data in read_objects(git, shas):
        if otype != "commit" or data is None:
            raise GitError(f"{oid} is not a readable commit object")
        out[oid] = parse_commit(oid, data)
    return out


def check_repository_safe(git: Git) -> None:
    """Refuse shallow and partial clones, and ``refs/replace`` (THREATS.md E29).

    A partial clone lacks objects and git would fetch them from the promisor remote on
    first use: a network connection under ``--offline``, and objects nobody checked.
    """
    shallow = git.out("rev-parse", "--is-shallow-repository").strip()
    if shallow == b"true":
        raise GitError(
            "the repository is a shallow clone: history cannot be verified",
            hint="fetch full history (git fetch --unshallow, fetch-depth: 0 in CI)",
        )
    partial = git.run("config", "--get", "extensions.partialClone", check=False).stdout.strip()
    promisors = git.run(
        "config", "--bool", "--get-regexp", r"^remote\..*\.promisor$", check=False
    ).stdout.split()
    if partial or b"true" in promisors:
        raise GitError(
            "the repository is a partial clone (--filter): objects are missing and would be "
            "fetched on demand",
            hint="verify in a full clone (git clone without --filter)",
        )
    # Not `--git-path info/grafts`: that names GIT_GRAFT_FILE, which git_env points elsewhere.
    grafts = git.common_dir() / "info" / "grafts"
    if grafts.exists():
        raise GitError(
            f"the repository has {grafts}: grafts rewrite history (git ignores them here, but "
            "the history you see would not be the one verified)",
            hint="remove the grafts file or verify in a clean clone",
        )
    replaced = git.out("for-each-ref", "--format=%(refname)", "refs/replace/").strip()
    if replaced:
        raise GitError(
            "the repository has refs/replace/* objects that could disguise history",
            hint="delete them (git replace -d) or verify in a clean clone",
        )


def blob_at(git: Git, rev: str, path: str) -> bytes | None:
    """The blob at ``path`` in ``rev``'s tree (objects only, never the work tree), or ``None``."""
    proc = git.run("cat-file", "blob", f"{rev}:{path}", check=False)
    return proc.stdout if proc.returncode == 0 else None


def remote_url(git: Git, remote: str = "origin") -> str | None:
    """URL of a remote, or ``None`` when it is not configured."""
    proc = git.run("config", "--get", "--", f"remote.{remote}.url", check=False)
    url = proc.stdout.decode().strip()
    return url or None

"""Snapshots of what a repository and its remotes point at, for deciding what a session made.

Refs (every branch, tag and other ref, worktree HEADs; remote-tracking tips apart), each
pinned remote's refs read through :mod:`provenance.gitio.transport` (never with the
repository's own transport settings, THREATS.md G53), the committer identity git gives this
environment, and what remote-tracking reflogs say a fetch brought in (only ever used to
exclude: an agent can delete or forge reflogs, G61).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from provenance.errors import GitError
from provenance.gitio.remotes import Endpoint
from provenance.gitio.runner import Git
from provenance.gitio.transport import Programs, transport

#: Refs whose commits are not the session's history: attestations, stashes (WIP commits).
_NOT_HISTORY = ("refs/notes/", "refs/stash")
#: How long reading one remote may take before it is reported as unreadable.
REMOTE_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class RefSnapshot:
    """HEAD, its branch, every other ref's commit, and the remote-tracking tips at one moment."""

    head: str | None
    branch: str | None
    heads: dict[str, str]
    remotes: tuple[str, ...]

    def tips(self) -> list[str]:
        """Every commit this snapshot can reach from (remote-tracking tips aside)."""
        return sorted({*self.heads.values(), *([self.head] if self.head else [])})


def snapshot(git: Git) -> RefSnapshot:
    """Read HEAD, the current branch, every branch, tag and other ref, and worktree HEADs.

    Any ref can carry an agent's commits (a tag, a detached linked worktree, a ref of its
    own); only notes and the stash are left out. Remote-tracking tips are kept apart.
    """
    head = git.head()
    branch = git.run("symbolic-ref", "--quiet", "HEAD", check=False)
    fmt = "%(objectname) %(objecttype) %(*objectname) %(*objecttype) %(refname)"
    refs = git.out("for-each-ref", f"--format={fmt}").decode()
    heads: dict[str, str] = {}
    remotes: list[str] = []
    for line in refs.splitlines():
        oid, otype, peeled, ptype, name = line.split(" ", 4)
        if otype == "tag" and ptype == "commit":
            oid, otype = peeled, ptype
        if otype != "commit" or name.startswith(_NOT_HISTORY):
            continue
        if name.startswith("refs/remotes/"):
            remotes.append(oid)
        else:
            heads[name] = oid
    for n, oid in enumerate(_worktree_heads(git)):
        heads[f"worktree:{n}"] = oid
    return RefSnapshot(
        head=head,
        branch=branch.stdout.decode().strip() or None if branch.returncode == 0 else None,
        heads=heads,
        remotes=tuple(sorted(set(remotes))),
    )


def _worktree_heads(git: Git) -> list[str]:
    """The HEAD commit of every worktree (a detached one is on no branch).

    A worktree on an unborn branch (a fresh ``git init``) is listed with the null id; it
    has no commit, and passing the null id on would make every later rev-list fail.
    """
    out = git.run("worktree", "list", "--porcelain", "-z", check=False).stdout
    oids = [f[5:].decode() for f in out.split(b"\0") if f.startswith(b"HEAD ") and len(f) > 5]
    return [oid for oid in oids if oid.strip("0")]  # all zeros: an unborn branch, no commit


@dataclass(frozen=True)
class RemoteSnapshot:
    """Each pinned remote's refs at one moment; remotes that could not be read, and why."""

    refs: dict[str, dict[str, str]] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)

    def oids(self) -> list[str]:
        return sorted({oid for refs in self.refs.values() for oid in refs.values()})


def remote_snapshot(git: Git, programs: Programs, endpoints: Sequence[Endpoint]) -> RemoteSnapshot:
    """``ls-remote`` every pinned remote, never with the repository's own transport settings."""
    snap = RemoteSnapshot()
    if not endpoints:
        return snap
    with transport(git, programs) as moving:
        for endpoint in endpoints:
            try:
                snap.refs[endpoint.label] = moving.ls_remote(
                    endpoint.fetch_url, timeout=REMOTE_TIMEOUT_SECONDS
                )
            except GitError as e:
                snap.unreadable[endpoint.label] = str(e).splitlines()[0]
    return snap


def session_identity(git: Git) -> str | None:
    """The committer email git gives commits made with this environment, if it can tell."""
    proc = git.run("var", "GIT_COMMITTER_IDENT", check=False)
    ident = proc.stdout.decode(errors="replace")
    start, end = ident.find("<"), ident.find(">")
    email = ident[start + 1 : end].strip().lower() if 0 <= start < end else ""
    return email if proc.returncode == 0 and email else None


def present_commits(git: Git, oids: Sequence[str]) -> list[str]:
    """The object ids that name commits in this repository (others cannot be reached)."""
    if not oids:
        return []
    out = git.out("cat-file", "--batch-check", input="".join(f"{o}\n" for o in oids).encode())
    return [
        p[0] for p in (line.split() for line in out.decode().splitlines()) if p[1:2] == ["commit"]
    ]


def fetched_during(git: Git, since: int) -> list[str]:
    """Commits the remote-tracking reflogs say a fetch or pull brought in since ``since``.

    Only ever used to exclude: an agent can delete or forge reflogs, which can only make
    fewer commits look like its own.
    """
    names = git.out("for-each-ref", "--format=%(refname)", "refs/remotes/").decode().split()
    brought: list[tuple[str, str]] = []
    for name in names:
        log = git.run(
            "reflog", "show", "--date=unix", "--format=%H%x09%gd%x09%gs", name, "--", check=False
        ).stdout.decode(errors="replace")
        entries = [line.split("\t", 2) for line in log.splitlines() if line.count("\t") >= 2]
        for i, (new, selector, subject) in enumerate(entries):
            when = selector.rpartition("@{")[2].rstrip("}")
            if not when.isdigit() or int(when) < since or subject.startswith("update by push"):
                continue
            old = entries[i + 1][0] if i + 1 < len(entries) else ""
            brought.append((new, old))
    fetched: set[str] = set()
    for new, old in brought:
        fetched.update(rev_list(git, present_commits(git, [new]), present_commits(git, [old])))
    return sorted(fetched)


def rev_list(git: Git, include: Sequence[str], exclude: Sequence[str]) -> list[str]:
    """``rev-list --topo-order --reverse include --not exclude`` (oldest first)."""
    if not include:
        return []
    args = ["rev-list", "--topo-order", "--reverse", *include]
    if exclude:
        args += ["--not", *exclude]
    return git.out(*args).decode().split()


__all__ = [
    "REMOTE_TIMEOUT_SECONDS",
    "RefSnapshot",
    "RemoteSnapshot",
    "fetched_during",
    "present_commits",
    "remote_snapshot",
    "rev_list",
    "session_identity",
    "snapshot",
]

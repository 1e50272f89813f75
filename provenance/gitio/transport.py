"""Fetch, push and ls-remote with nothing taken from the repository's own configuration.

git reads how to reach a remote from ``.git/config``, which an agent working in the clone can
write: ``remote.NAME.uploadpack`` (git keeps the *first* value it reads, so ``-c`` loses),
``core.gitProxy``, ``core.sshCommand``, ``url.*.insteadOf``, ``http.*.proxy``,
``credential.*.helper``... Each names a program, or a place that receives the user's
credentials. So every transport call here runs in a private, empty repository of ours that
shares only the object directory with the real one: git then reads the system and global
configuration (the user's) and our own, never the repository's (THREATS.md G53).

The programs are pinned before anything repository-controlled is read: ``git`` and ``ssh`` are
resolved from the absolute entries of the user's ``PATH`` (or ``GIT_SSH_COMMAND``/``GIT_SSH``
from the user's environment), only ``file``, ``ssh``, ``https`` and ``http`` are allowed, and
``--upload-pack``/``--receive-pack`` are always given on the command line. For a local-path
remote they run the remote side with hooks disabled: git clears ``GIT_CONFIG_PARAMETERS`` for
the local transport, so the overrides are part of the command itself.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from provenance.errors import GitError
from provenance.gitio.runner import HARDENING, Git, find_program, git_env, git_program

#: Schemes a transport call may use (``GIT_ALLOW_PROTOCOL``): no ``ext::``, ``git://``, helpers.
ALLOWED_PROTOCOLS = ("file", "ssh", "https", "http")
#: What the remote side of a local-path remote runs with: no hooks, no commands from its config.
_REMOTE_SIDE = (
    "-c core.hooksPath=/dev/null -c core.fsmonitor=false -c core.alternateRefsCommand=true "
    "-c receive.autogc=false -c gc.auto=0 -c protocol.ext.allow=never"
)
#: Our own hardening minus the two keys that would disable ssh and the user's credential helpers
#: (the private repository has no config of its own, so they come from the user's files).
_TRANSPORT_HARDENING = (
    *(
        arg
        for pair in zip(HARDENING[::2], HARDENING[1::2], strict=True)
        if pair[1] not in ("core.sshCommand=false", "credential.helper=", "core.askPass=")
        for arg in pair
    ),
    "-c",
    "advice.graftFileDeprecated=false",
)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_SCP_LIKE = re.compile(r"^(?:[^@/:]+@)?(?:\[[^\]]+\]|[^/:]+):")
_TIMEOUT_SECONDS = 120
#: Push refusals that mean "the remote moved meanwhile" (merge again), in git's own words.
_MOVED = ("(fetch first)", "(non-fast-forward)", "(failed to update ref)", "(stale info)")


def url_scheme(url: str) -> str:
    """The transport git would use for ``url``: a scheme, ``ssh`` (scp-like) or ``file``."""
    m = _SCHEME.match(url)
    if m:
        scheme = m.group(1).lower()
        return "ssh" if scheme in ("ssh", "git+ssh", "ssh+git") else scheme
    if "::" in url.split("/", 1)[0]:
        return url.split("::", 1)[0].lower()  # a remote helper (ext::, fd::, ...)
    if _SCP_LIKE.match(url) and not url.startswith(("/", ".")):
        return "ssh"
    return "file"


@dataclass(frozen=True)
class Programs:
    """The git and ssh this process runs for transports, resolved once."""

    git: str
    env: tuple[tuple[str, str], ...]

    def environment(self, objects: Path | None = None) -> dict[str, str]:
        """Environment of a transport call: scrubbed, protocols limited, ssh pinned."""
        extra = {
            "GIT_ALLOW_PROTOCOL": ":".join(ALLOWED_PROTOCOLS),
            "GIT_PROXY_COMMAND": "",
            **dict(self.env),
        }
        if objects is not None:
            extra["GIT_OBJECT_DIRECTORY"] = str(objects)
        return git_env(extra)

    def remote_side(self, program: str) -> str:
        """``--upload-pack``/``--receive-pack`` value for a local-path remote."""
        return f"{shlex.quote(self.git)} {_REMOTE_SIDE} {program}"


def pin_programs(*, batch: bool = False) -> Programs:
    """Resolve git and ssh now, from the user's environment (never from a repository).

    ``batch``: ssh must never ask for a passphrase or host key (the agent wrapper, unattended).
    """
    git = git_program()
    env: dict[str, str] = {}
    for name in ("GIT_SSH_COMMAND", "GIT_SSH", "GIT_SSH_VARIANT"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    if "GIT_SSH_COMMAND" not in env and "GIT_SSH" not in env:
        ssh = find_program("ssh")
        if ssh is not None:
            env["GIT_SSH"] = ssh
    if batch:
        base = env.pop("GIT_SSH_COMMAND", None) or shlex.quote(env.pop("GIT_SSH", "ssh"))
        env["GIT_SSH_COMMAND"] = f"{base} -o BatchMode=yes"
    return Programs(git=git, env=tuple(sorted(env.items())))


@dataclass(frozen=True)
class PushOutcome:
    """What a push did: accepted, rejected because the remote moved, or failed."""

    accepted: bool
    moved: bool
    message: str


class Transport:
    """Transport calls for one repository, from a private empty repository of ours."""

    def __init__(self, git: Git, programs: Programs, scratch: Path, cwd: Path) -> None:
        self.git = git
        self.programs = programs
        self.scratch = scratch
        self.cwd = cwd
        self.objects = git.common_dir() / "objects"

    def _argv(self, args: Sequence[str]) -> list[str]:
        return [self.programs.git, *_TRANSPORT_HARDENING, "--git-dir", str(self.scratch), *args]

    def run(
        self, *args: str, objects: bool = True, timeout: float = _TIMEOUT_SECONDS
    ) -> subprocess.CompletedProcess[bytes]:
        """Run git in the private repository (sharing the real object store when ``objects``)."""
        env = self.programs.environment(self.objects if objects else None)
        try:
            return subprocess.run(
                self._argv(args),
                capture_output=True,
                env=env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise GitError(f"git {args[0]} did not finish within {timeout:.0f} s") from e

    def _pinned(self, url: str, program: str) -> str:
        if url_scheme(url) == "file":
            return self.programs.remote_side(program.removeprefix("git-"))
        return program

    def _check(self, url: str) -> None:
        scheme = url_scheme(url)
        if scheme not in ALLOWED_PROTOCOLS:
            raise GitError(
                f"refusing the {scheme!r} transport of {url!r}",
                hint="use an ssh, https or local-path remote",
            )

    def ls_remote(self, url: str, timeout: float = _TIMEOUT_SECONDS) -> dict[str, str]:
        """Ref name -> object id on the remote (``NAME^{}``: what an annotated tag points to)."""
        self._check(url)
        proc = self.run(
            "ls-remote",
            f"--upload-pack={self._pinned(url, 'git-upload-pack')}",
            "--end-of-options",
            url,
            objects=False,
            timeout=timeout,
        )
        if proc.returncode != 0:
            raise GitError(f"git ls-remote {url} failed: {_text(proc.stderr)}")
        refs: dict[str, str] = {}
        for line in proc.stdout.decode(errors="replace").splitlines():
            oid, _, name = line.partition("\t")
            if name:
                refs[name] = oid
        return refs

    def fetch(self, url: str, ref: str, have: Sequence[str] = ()) -> str | None:
        """Fetch ``ref`` from ``url`` into the shared object store; its object id, or ``None``."""
        self._check(url)
        for n, oid in enumerate(have):  # negotiation: what we already hold
            self.run("update-ref", f"refs/have/{n}", oid)
        target = "refs/fetched/tip"
        proc = self.run(
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--no-auto-gc",
            f"--upload-pack={self._pinned(url, 'git-upload-pack')}",
            "--end-of-options",
            url,
            f"+{ref}:{target}",
        )
        if proc.returncode != 0:
            err = _text(proc.stderr)
            if "couldn't find remote ref" in err:
                return None
            raise GitError(f"git fetch {url} failed: {err}")
        tip = self.run("rev-parse", "--verify", "--quiet", target)
        return tip.stdout.decode().strip() or None

    def push(self, url: str, oid: str, ref: str) -> PushOutcome:
        """Push ``oid`` to ``ref``, never forced; says whether a rejection means "it moved"."""
        self._check(url)
        self.run("update-ref", "refs/push/tip", oid)
        proc = self.run(
            "push",
            "--porcelain",
            "--quiet",
            "--no-verify",
            f"--receive-pack={self._pinned(url, 'git-receive-pack')}",
            "--end-of-options",
            url,
            f"refs/push/tip:{ref}",
        )
        out = _text(proc.stdout + b"\n" + proc.stderr)
        if proc.returncode == 0:
            return PushOutcome(True, False, out)
        rejected = [ln for ln in out.splitlines() if ln.startswith("!")]
        moved = bool(rejected) and all(any(m in ln for m in _MOVED) for ln in rejected)
        return PushOutcome(False, moved, out)


@contextmanager
def transport(git: Git, programs: Programs) -> Iterator[Transport]:
    """A :class:`Transport` whose private repository is removed afterwards."""
    fmt = git.out("rev-parse", "--show-object-format").decode().strip() or "sha1"
    top = _toplevel(git)
    with tempfile.TemporaryDirectory(prefix="provenance-transport-") as tmp:
        scratch = Path(tmp) / "repo.git"
        proc = subprocess.run(
            [programs.git, *HARDENING, "init", "--bare", "--quiet", "--template=",
             f"--object-format={fmt}", str(scratch)],
            capture_output=True, env=programs.environment(), check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            raise GitError(f"cannot create a private repository: {_text(proc.stderr)}")
        yield Transport(git, programs, scratch, top)


def _toplevel(git: Git) -> Path:
    """Where relative remote paths are resolved from: the work tree, else the git dir."""
    return git.work_tree() or git.root


def _text(data: bytes) -> str:
    return data.decode(errors="replace").strip()

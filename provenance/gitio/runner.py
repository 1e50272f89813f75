"""Hardened git invocation: no hooks, fsmonitor, external diff, textconv, pager or replace refs.

Every git process this package starts goes through :func:`Git.run`. The repository under test
is hostile input (THREATS.md G38): its config may name commands to run, so each call overrides
the keys that can execute programs and clears the environment variables that redirect git.

The ``git`` program itself is resolved once per process (:func:`git_program`), as an absolute
path, from the absolute entries of ``PATH`` only, and refused when someone else could have
written it: a relative or empty ``PATH`` entry names the current directory, which is the
agent's work tree (THREATS.md G53, G55).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from provenance.errors import GitError
from provenance.safefiles import unsafe_reason

#: ``-c`` overrides that stop repository config from running commands or changing what we read.
HARDENING: tuple[str, ...] = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.untrackedCache=false",
    "-c",
    "core.pager=cat",
    "-c",
    "core.sshCommand=false",
    "-c",
    "core.askPass=",
    "-c",
    "diff.external=",
    "-c",
    "diff.noprefix=false",
    "-c",
    "diff.mnemonicPrefix=false",
    "-c",
    "diff.relative=false",
    "-c",
    "diff.renames=false",
    "-c",
    "log.showSignature=false",
    "-c",
    "gc.auto=0",
    "-c",
    # GIT_GRAFT_FILE=/dev/null (below) disables grafts; git would call that "deprecated
    # grafts" in every message of ours that quotes its stderr.
    "advice.graftFileDeprecated=false",
    "-c",
    "maintenance.auto=false",
    "-c",
    "protocol.ext.allow=never",
    "-c",
    "credential.helper=",
    "-c",
    "notes.displayRef=",
)

#: Environment variables removed before running git: they redirect objects, refs or commands.
_SCRUBBED_ENV = (
    "GIT_EXTERNAL_DIFF",
    "GIT_DIFF_OPTS",
    "GIT_NOTES_REF",
    "GIT_NOTES_DISPLAY_REF",
    "GIT_REPLACE_REF_BASE",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_PAGER",
    "GIT_EDITOR",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_INDEX_FILE",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_SHALLOW_FILE",
    "GIT_GRAFT_FILE",
    "GIT_TRACE",
    "GIT_TRACE2",
    "GIT_TRACE2_EVENT",
    "GIT_TRACE2_PERF",
)


def safe_search_path(value: str | None = None) -> str:
    """``PATH`` (default: this process's) without relative or empty entries.

    A relative entry (``./node_modules/.bin``, ``bin``) or an empty one (a leading, trailing or
    doubled ``:``) names a directory relative to wherever a program runs, often a work tree.
    """
    value = os.environ.get("PATH", os.defpath) if value is None else value
    return os.pathsep.join(p for p in value.split(os.pathsep) if p and os.path.isabs(p))


def find_program(name: str) -> str | None:
    """Absolute path of ``name`` in the absolute ``PATH`` entries, or ``None``."""
    for entry in safe_search_path().split(os.pathsep):
        candidate = os.path.join(entry, name) if entry else ""
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def resolve_git() -> str:
    """The absolute path of ``git`` in the absolute ``PATH`` entries, checked.

    Refused (``GitError``) when git, or a directory above it, is owned by someone other than
    the user or root, or writable by other users: the wrapper runs git after the agent did.
    """
    found = find_program("git")
    if found is None:
        raise GitError(
            "git is not installed (or only reachable through a relative PATH entry)",
            hint="install git 2.30 or newer in a directory named by an absolute PATH entry",
        )
    problem = unsafe_reason(Path(found))
    if problem is not None:
        raise GitError(
            f"refusing to run {found}: {problem}",
            hint="put a git that only you or root can write first on PATH",
        )
    return found


_GIT: list[str] = []  # resolved once per process


def git_program() -> str:
    """The git every git process of this process runs: :func:`resolve_git` on first use.

    The agent wrapper calls it before the agent starts, so what the agent changes afterwards
    (``PATH`` entries, files in the work tree) never decides which program runs.
    """
    if not _GIT:
        _GIT.append(resolve_git())
    return _GIT[0]


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every git child gets: scrubbed, C locale, no prompts, no replace refs."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    env["PATH"] = safe_search_path()  # what git itself runs (ssh, helpers) is found there
    for key in list(env):
        if key.startswith("GIT_CONFIG_KEY_") or key.startswith("GIT_CONFIG_VALUE_"):
            del env[key]
    env.update(
        {
            "GIT_NO_REPLACE_OBJECTS": "1",
            "GIT_NO_LAZY_FETCH": "1",  # a partial clone never fetches behind our back (git 2.44+)
            "GIT_GRAFT_FILE": os.devnull,  # .git/info/grafts could re-parent BASE (hide commits)
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_OPTIONAL_LOCKS": "0",
            "GIT_PAGER": "cat",
            "LC_ALL": "C",
            "LANG": "C",
        }
    )
    if extra:
        env.update(extra)
    return env


def _discover_error(start: Path, stderr: str) -> GitError:
    """Why ``start`` is no repository to us, as git said it (not always "not a repository")."""
    if "dubious ownership" in stderr:
        named = re.search(r"safe\.directory (\S+)", stderr)
        top = named.group(1) if named else str(start)
        # git refuses a repository another user owns (CVE-2022-24765): its config could run
        # commands as us. We do not override that; the user decides.
        return GitError(
            f'git refuses {start}: it is owned by another user ("dubious ownership")',
            hint="run as the repository's owner, or if you trust it: "
            f"git config --global --add safe.directory {top}",
        )
    last = next((ln for ln in reversed(stderr.splitlines()) if ln.strip()), "")
    if "not a git repository" in last or not last:
        return GitError(
            f"{start} is not inside a git repository",
            hint="run the command from a clone, or pass --repo",
        )
    return GitError(f"git cannot open {start}: {last.strip()}", hint="fix the repository")


@dataclass(frozen=True)
class Git:
    """A repository on disk, driven through hardened git subprocesses."""

    root: Path

    @classmethod
    def discover(cls, path: Path | str = ".") -> Git:
        """Find the repository containing ``path`` (work tree or bare)."""
        start = Path(path).resolve()
        try:
            out = subprocess.run(
                [git_program(), *HARDENING, "-C", str(start), "rev-parse", "--absolute-git-dir"],
                capture_output=True,
                env=git_env(),
                check=True,
            ).stdout
        except FileNotFoundError as e:
            raise GitError("git is not installed", hint="install git 2.30 or newer") from e
        except subprocess.CalledProcessError as e:
            raise _discover_error(start, e.stderr.decode(errors="replace")) from e
        git_dir = Path(out.decode().strip())
        return cls(git_dir)

    def work_tree(self) -> Path | None:
        """The work tree of a repository opened by its git dir (``None`` when bare)."""
        linked = self.root / "gitdir"  # a linked worktree: .git/worktrees/NAME/gitdir
        if linked.is_file():
            return Path(linked.read_text().strip()).parent
        if self.root.name == ".git":
            return self.root.parent
        return None

    def common_dir(self) -> Path:
        """The common git dir (shared by linked worktrees), as an absolute path."""
        out = self.out("rev-parse", "--path-format=absolute", "--git-common-dir")
        return Path(out.decode().strip())

    def head(self) -> str | None:
        """The commit HEAD names, or ``None`` (an unborn branch)."""
        proc = self.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
        sha = proc.stdout.decode().strip()
        return sha if proc.returncode == 0 and sha else None

    def config_by_scope(self, key: str) -> list[tuple[str, str]]:
        """(scope, value) of every setting of ``key``, in git's order (``git config
        --show-scope``); the runner's own ``-c`` settings are scope ``command``."""
        proc = self.run("config", "--show-scope", "--get-all", key, check=False)
        pairs = (line.split("\t", 1) for line in proc.stdout.decode().splitlines())
        return [(scope, value) for scope, value in (p for p in pairs if len(p) == 2)]

    def is_ancestor(self, older: str, newer: str) -> bool:
        """Is commit ``older`` reachable from ``newer`` (both full ids)?"""
        return self.run("merge-base", "--is-ancestor", older, newer, check=False).returncode == 0

    def argv(self, args: Sequence[str]) -> list[str]:
        """Full argv for a git call against this repository's git dir."""
        return [git_program(), *HARDENING, "--git-dir", str(self.root), *args]

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        check: bool = True,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run git and capture bytes; raise :class:`GitError` on failure when ``check``."""
        proc = subprocess.run(
            self.argv(args), input=input, capture_output=True, env=git_env(env), check=False
        )
        if check and proc.returncode != 0:
            msg = proc.stderr.decode(errors="replace").strip()
            raise GitError(f"git {args[0]} failed: {msg}")
        return proc

    def out(self, *args: str, input: bytes | None = None) -> bytes:
        """Stdout of a successful git call."""
        return self.run(*args, input=input).stdout

    def popen(self, *args: str) -> subprocess.Popen[bytes]:
        """Start a long-running git (``cat-file --batch``) with pipes on stdin and stdout."""
        return subprocess.Popen(
            self.argv(args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=git_env(),
        )


def run_without_repository(args: Sequence[str], input: bytes) -> bytes:
    """Run a git command that needs no repository, reading no repository or user config.

    For parsers such as ``interpret-trailers``, whose output a repository's config could
    change (``trailer.<alias>.key`` renames keys: ``Assisted-by`` could be made to vanish).
    """
    env = git_env({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull})
    proc = subprocess.run(
        ["git", *HARDENING, "--git-dir", os.devnull, *args],
        input=input,
        capture_output=True,
        env=env,
        cwd="/",
        check=False,
    )
    if proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip()
        raise GitError(f"git {args[0]} failed: {msg}")
    return proc.stdout


def clone_mirror(source: Path, dest: Path) -> Git:
    """``git clone --mirror`` of a local repository or bundle file into ``dest``."""
    proc = subprocess.run(
        [git_program(), *HARDENING, "clone", "--mirror", "--quiet", "--", str(source), str(dest)],
        capture_output=True,
        env=git_env(),
        check=False,
    )
    if proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip()
        raise GitError(f"git clone of {source} failed: {msg}")
    return Git(dest)

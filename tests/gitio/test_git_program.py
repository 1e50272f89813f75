"""Which git runs: an absolute program the agent could not have planted (THREATS.md G53 (variant)).

The red-team review's ``./node_modules/.bin`` in ``PATH`` made the wrapper run an agent's
``git`` as the human, after the session, with the token file readable.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from provenance.errors import GitError
from provenance.gitio.runner import find_program, git_env, resolve_git, safe_search_path

SHIM = '#!/bin/sh\necho planted > {sentinel}\nexec /usr/bin/git "$@"\n'


def _plant(directory: Path, sentinel: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    shim = directory / "git"
    shim.write_text(SHIM.format(sentinel=sentinel))
    shim.chmod(0o755)
    return shim


def test_relative_and_empty_path_entries_are_dropped() -> None:
    value = os.pathsep.join(["./node_modules/.bin", "", "bin", "/usr/bin", ".", "/bin", ""])
    assert safe_search_path(value) == os.pathsep.join(["/usr/bin", "/bin"])


def test_a_git_in_a_relative_path_entry_is_never_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """THREATS.md G53 (variant): relative entries name the work tree the agent writes."""
    sentinel = tmp_path / "ran"
    _plant(tmp_path / "node_modules" / ".bin", sentinel)
    _plant(tmp_path, sentinel)  # for the empty entry: the current directory itself
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", f"./node_modules/.bin::{os.environ['PATH']}")
    found = resolve_git()
    assert os.path.isabs(found) and not found.startswith(str(tmp_path))
    assert find_program("git") == found
    assert git_env()["PATH"] == safe_search_path()
    assert "./node_modules/.bin" not in git_env()["PATH"].split(os.pathsep)


def test_a_git_in_a_directory_others_can_write_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """THREATS.md G55 (variant): an absolute PATH entry another user can write is the agent's."""
    shared = tmp_path / "shared-bin"
    _plant(shared, tmp_path / "ran")
    shared.chmod(0o777)  # no sticky bit: anyone may replace the program
    monkeypatch.setenv("PATH", f"{shared}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(GitError, match="writable by other users"):
        resolve_git()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the program another owner")
def test_a_git_owned_by_another_user_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """THREATS.md G55 (variant): the agent's own ~/bin on the wrapper's PATH."""
    agent_bin = tmp_path / "agent-bin"
    shim = _plant(agent_bin, tmp_path / "ran")
    os.chown(shim, 65534, 65534)
    monkeypatch.setenv("PATH", f"{agent_bin}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(GitError, match="owned by uid 65534"):
        resolve_git()


def test_no_git_on_the_absolute_path_entries_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _plant(tmp_path / "bin", tmp_path / "ran")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", f"bin{os.pathsep}{tmp_path / 'empty'}")
    with pytest.raises(GitError, match="relative PATH entry"):
        resolve_git()
    assert shutil.which("git")  # the machine has one; only the search path hides it

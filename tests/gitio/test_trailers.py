"""Trailers are git's to parse (``interpret-trailers --parse``), never the repository's config's."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from provenance.gitio import Git, read_commit
from provenance.gitio.trailers import could_have_trailers, message_of, parse_trailers
from tests.helpers import GitRepo

MESSAGES = [
    "subject\n\nbody\n\nAssisted-by: claude-code:claude-opus-4\nSigned-off-by: A <a@x>\n",
    "subject\n\nAssisted-by: codex:gpt-5\n",
    "subject\nAssisted-by: not-a-trailer:same-paragraph\n",
    "Assisted-by: subject-only:x\n",
    "subject\n\nAssisted-by: a:b\nthis line is prose\n",
    "subject\n\nprose line\nmore prose\nSigned-off-by: A <a@x>\nassisted-BY: c:d\n",
    "subject\n\nassisted-by:   spaced:value  \n  continued\n",
    "subject\n \nAssisted-by: x:y\n",  # a whitespace-only line ends the first paragraph
    "subject\n\n---\nAssisted-by: after:divider\n",
    "subject\n\nno trailers here\n",
]


def _git_itself(message: str) -> list[tuple[str, str]]:
    out = subprocess.run(
        ["git", "interpret-trailers", "--parse", "--no-divider"],
        input=message, capture_output=True, text=True, check=True,
        env={"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "PATH": "/usr/bin:/bin"},
    ).stdout  # fmt: skip
    return [(k.strip(), v.strip()) for k, _, v in (ln.partition(":") for ln in out.splitlines())]


@pytest.mark.parametrize("message", MESSAGES)
def test_what_git_parses_and_the_prefilter_never_skips_a_trailer(message: str) -> None:
    """The cheap pre-check only skips messages where git finds nothing."""
    theirs = _git_itself(message)
    assert parse_trailers(message.encode()) == theirs
    if theirs:
        assert could_have_trailers(message.encode())


def test_repository_config_cannot_rename_or_hide_a_trailer(tmp_path: Path) -> None:
    """``trailer.<alias>.key`` in the repository under test would turn Assisted-by into
    another key (git does so for any alias the key is a prefix of): it is never read."""
    repo = GitRepo.init(tmp_path / "repo")
    sha = repo.commit("subject\n\nAssisted-by: codex:gpt-5")
    repo.git("config", "trailer.assisted-by-x.key", "Harmless")
    hidden = repo.git("interpret-trailers", "--parse", input=b"s\n\nAssisted-by: codex:gpt-5\n")
    assert hidden.startswith("Harmless")  # what a naive call inside the repository sees
    raw = read_commit(Git.discover(repo.path), sha).raw
    assert parse_trailers(message_of(raw)) == [("Assisted-by", "codex:gpt-5")]

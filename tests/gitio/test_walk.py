"""Range walking (THREATS.md E24, E29, G37): what a range is, and what each merge itself changed.

A merge's own changes are its difference from git's automatic merge of its parents: code in
neither parent (evil merge), a conflict resolution, or a fix one side brought and the merge
silently dropped. A clean merge changed nothing itself; octopus merges fall back to the union of
the diffs against every parent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.errors import GitError, UsageError
from provenance.gitio import Git, check_repository_safe
from provenance.gitio.walk import (
    RangeCommit,
    RangeError,
    merge_changes,
    parse_range,
    range_changes,
    walk_range,
)
from provenance.models import FileChange
from tests.helpers import GitRepo

VIEWS = "def index(request):\n    return render(request, 'index.html')\n"
SSO = "def callback(request):\n    token = exchange(request)\n    return token\n"
FIX = "    verify_signature(token)\n"
AUTH_CHECK = "    if not request.user.is_superuser:\n        raise PermissionDenied\n"
CONF = "".join(f"setting_{i} = {i}\n" for i in range(8))


class History:
    """One repository with a named commit per scenario."""

    def __init__(self, repo: GitRepo) -> None:
        self.repo = repo
        self.shas: dict[str, str] = {}

    def branch(self, name: str, start: str) -> None:
        self.repo.git("checkout", "-q", "-f", "-B", name, start)

    def commit(self, name: str, files: dict[str, str]) -> str:
        self.shas[name] = self.repo.commit(name, files)
        return self.shas[name]

    def merge(
        self, name: str, *branches: str, edit: dict[str, str] | None = None, conflict: bool = False
    ) -> str:
        """Merge without committing, apply ``edit`` (the merge's own change), then commit."""
        r = self.repo
        try:
            r.git("merge", "-q", "--no-ff", "--no-commit", *branches)
        except AssertionError:
            if not conflict:
                raise
        for rel, content in (edit or {}).items():
            r.write(rel, content)
        r.git("add", "-A")
        r.git("commit", "-q", "--no-verify", "-m", name)
        self.shas[name] = r.git("rev-parse", "HEAD")
        return self.shas[name]

    def rc(self, name: str) -> RangeCommit:
        line = self.repo.git("rev-list", "--parents", "-n1", self.shas[name]).split()
        return RangeCommit(line[0], tuple(line[1:]))


@pytest.fixture(scope="module")
def hist(tmp_path_factory: pytest.TempPathFactory) -> History:
    h = History(GitRepo.init(tmp_path_factory.mktemp("walk") / "repo"))
    base = h.commit(
        "base",
        {"app/views.py": VIEWS, "app/auth/sso.py": SSO, "conf.txt": CONF, "README.md": "r\n"},
    )
    # evil merge: both sides harmless, the merge itself adds an authorization check
    h.branch("evil-a", base)
    h.commit("evil-a1", {"README.md": "r\nside a\n"})
    h.branch("evil-b", base)
    h.commit("evil-b1", {"docs.txt": "side b\n"})
    h.merge("evil", "evil-a", edit={"app/views.py": VIEWS + AUTH_CHECK})
    # dropped fix: the second parent fixes sso.py, the merge keeps the unfixed file
    h.branch("fix", base)
    h.commit("fix1", {"app/auth/sso.py": SSO + FIX})
    h.branch("drop", base)
    h.commit("drop1", {"README.md": "r\nunrelated\n"})
    h.merge("drop", "fix", edit={"app/auth/sso.py": SSO})
    # clean merge: nothing of its own
    h.branch("clean", base)
    h.commit("clean1", {"clean.txt": "c\n"})
    h.merge("clean-merge", "evil-b")
    # conflict: both sides change one line, the merge resolves it with a third value
    h.branch("conflict-a", base)
    h.commit("conflict-a1", {"conf.txt": CONF.replace("setting_3 = 3", "setting_3 = 30")})
    h.branch("conflict-b", base)
    h.commit("conflict-b1", {"conf.txt": CONF.replace("setting_3 = 3", "setting_3 = 300")})
    resolved = CONF.replace("setting_3 = 3", "setting_3 = 42")
    h.merge("conflict", "conflict-a", edit={"conf.txt": resolved}, conflict=True)
    # octopus: three branches, each adding a file
    for n in (1, 2, 3):
        h.branch(f"oct{n}", base)
        h.commit(f"oct{n}c", {f"oct{n}.txt": f"{n}\n"})
    h.branch("octopus", base)
    h.merge("octopus-merge", "oct1", "oct2", "oct3")
    # unrelated history
    h.repo.git("checkout", "-q", "-f", "--orphan", "orphan")
    h.repo.git("rm", "-q", "-rf", ".")
    h.commit("orphan1", {"other.txt": "o\n"})
    return h


def _by_path(changes: list[FileChange]) -> dict[str, FileChange]:
    return {c.path: c for c in changes}


# --- range checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "head", "reason"),
    [
        ("evil", "evil", "range_empty"),
        ("evil", "base", "base_not_ancestor"),  # head is behind base
        ("drop", "drop1", "base_not_ancestor"),
        ("evil-a1", "evil-b1", "base_not_ancestor"),  # siblings
        ("fix1", "evil", "base_not_ancestor"),
        ("orphan1", "base", "unrelated_histories"),
        ("base", "orphan1", "unrelated_histories"),
    ],
)
def test_ranges_that_prove_nothing_are_errors(
    hist: History, base: str, head: str, reason: str
) -> None:
    git = Git.discover(hist.repo.path)
    with pytest.raises(RangeError) as info:
        walk_range(git, hist.shas[base], hist.shas[head])
    assert info.value.reason == reason
    assert info.value.exit_code == 1
    assert reason in info.value.diagnostics()


@pytest.mark.parametrize("spec", ["a...b", "main...HEAD", "...HEAD", "HEAD..", "..HEAD"])
def test_symmetric_and_half_ranges_are_refused(spec: str) -> None:
    with pytest.raises(RangeError) as info:
        parse_range(spec)
    assert info.value.reason == "range_invalid"


def test_parse_range() -> None:
    assert parse_range("v1.0..HEAD") == ("v1.0", "HEAD")
    assert parse_range("HEAD") is None


def test_unknown_revision_is_a_usage_error(hist: History) -> None:
    with pytest.raises(UsageError):
        walk_range(Git.discover(hist.repo.path), "no-such-branch", hist.shas["base"])
    with pytest.raises(UsageError):
        walk_range(Git.discover(hist.repo.path), "--all", hist.shas["base"])


def test_walk_lists_every_commit_oldest_first_with_merges(hist: History) -> None:
    git = Git.discover(hist.repo.path)
    base, head, commits = walk_range(git, hist.shas["base"], "drop")
    assert (base, head) == (hist.shas["base"], hist.shas["drop"])
    shas = [c.sha for c in commits]
    assert set(shas) == {hist.shas[n] for n in ("fix1", "drop1", "drop")}
    assert shas[-1] == hist.shas["drop"]
    merge = commits[-1]
    assert merge.is_merge and merge.parents == (hist.shas["drop1"], hist.shas["fix1"])
    assert not any(c.is_merge for c in commits[:-1])


# --- merges: their own changes ----------------------------------------------------------------


def test_evil_merge_code_in_neither_parent_is_the_merges_change(hist: History) -> None:
    changes = merge_changes(Git.discover(hist.repo.path), hist.rc("evil"))
    (views,) = changes
    assert views.path == "app/views.py"
    assert views.added == tuple(AUTH_CHECK.splitlines()) and views.removed == ()


def test_merge_dropping_a_fix_from_the_second_parent_shows_the_removal(hist: History) -> None:
    changes = merge_changes(Git.discover(hist.repo.path), hist.rc("drop"))
    (sso,) = changes
    assert sso.path == "app/auth/sso.py"
    assert sso.removed == (FIX.rstrip("\n"),) and sso.added == ()


def test_clean_merge_has_no_changes_of_its_own(hist: History) -> None:
    assert merge_changes(Git.discover(hist.repo.path), hist.rc("clean-merge")) == []


def test_conflict_resolution_shows_up(hist: History) -> None:
    (conf,) = merge_changes(Git.discover(hist.repo.path), hist.rc("conflict"))
    assert conf.path == "conf.txt"
    assert "setting_3 = 42" in conf.added
    assert any(line.startswith("<<<<<<<") for line in conf.removed)
    assert {"setting_3 = 30", "setting_3 = 300"} <= set(conf.removed)


def test_octopus_merge_falls_back_to_every_parent(hist: History) -> None:
    rc = hist.rc("octopus-merge")
    assert len(rc.parents) == 4
    changes = _by_path(merge_changes(Git.discover(hist.repo.path), rc))
    assert set(changes) == {"oct1.txt", "oct2.txt", "oct3.txt"}
    assert all(c.status == "A" for c in changes.values())


def test_range_changes_covers_merges_and_non_merges(hist: History) -> None:
    git = Git.discover(hist.repo.path)
    _base, _head, commits = walk_range(git, hist.shas["base"], hist.shas["evil"])
    changes = range_changes(git, commits)
    assert set(changes) == {hist.shas[n] for n in ("evil-a1", "evil-b1", "evil")}
    assert [c.path for c in changes[hist.shas["evil-a1"]]] == ["README.md"]
    assert [c.path for c in changes[hist.shas["evil-b1"]]] == ["docs.txt"]
    assert [c.path for c in changes[hist.shas["evil"]]] == ["app/views.py"]


# --- hostile input ----------------------------------------------------------------------------


def _literal_commit(repo: GitRepo, raw: bytes) -> str:
    return repo.git("hash-object", "-t", "commit", "-w", "--literally", "--stdin", input=raw)


def test_malformed_commit_inside_the_range_is_refused(tmp_path: Path) -> None:
    """THREATS.md E29: a duplicate ``tree`` header (git reads the first, others the second)."""
    repo = GitRepo.init(tmp_path / "repo")
    base = repo.commit("base", {"README.md": "r\n"})
    evil = repo.commit("evil tree", {"app/auth/backdoor.py": "ALLOW_ALL = True\n"})
    harmless_tree = repo.git("rev-parse", f"{base}^{{tree}}")
    evil_tree = repo.git("rev-parse", f"{evil}^{{tree}}")
    ident = "A <a@example.com> 1700000000 +0000"
    raw = (
        f"tree {harmless_tree}\nparent {base}\ntree {evil_tree}\n"
        f"author {ident}\ncommitter {ident}\n\nlooks harmless\n"
    ).encode()
    malformed = _literal_commit(repo, raw)
    child = repo.git("commit-tree", harmless_tree, "-p", malformed, "-m", "child")
    git = Git.discover(repo.path)
    with pytest.raises(GitError, match="duplicate tree"):
        walk_range(git, base, child)


def test_grafts_that_hide_a_commit_are_refused(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    base = repo.commit("base", {"README.md": "r\n"})
    hidden = repo.commit("hidden", {"app/auth/backdoor.py": "ALLOW_ALL = True\n"})
    top = repo.commit("top", {"README.md": "r\nr\n"})
    (repo.path / ".git" / "info").mkdir(exist_ok=True)
    (repo.path / ".git" / "info" / "grafts").write_text(f"{top} {base}\n")
    assert repo.git("rev-list", f"{base}..{top}") == top  # git itself no longer sees it
    git = Git.discover(repo.path)
    with pytest.raises(GitError, match="grafts"):
        check_repository_safe(git)
    # and our own git processes never read the grafts file: the walk sees the real history
    _, _, commits = walk_range(git, base, top)
    assert [c.sha for c in commits] == [hidden, top]


def test_hostile_merge_driver_and_attributes_run_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """THREATS.md G38: ``merge=evil`` in .gitattributes (work tree and info/) with a driver."""
    sentinel = tmp_path / "sentinel"
    evil = tmp_path / "evil.sh"
    evil.write_text(f"#!/bin/sh\necho ran >> {sentinel}\nexit 0\n")
    evil.chmod(0o755)
    repo = GitRepo.init(tmp_path / "repo")
    base = repo.commit("base", {"f.txt": CONF})
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("side", {"f.txt": CONF.replace("setting_0 = 0", "setting_0 = zero")})
    repo.git("checkout", "-q", "main")
    repo.commit("main", {"f.txt": CONF.replace("setting_7 = 7", "setting_7 = seven")})
    repo.git("merge", "-q", "--no-edit", "side")
    merge = repo.git("rev-parse", "HEAD")
    for key in ("merge.evil.driver", "merge.default"):
        repo.git("config", key, f"{evil} %O %A %B")
    repo.git("config", "core.attributesFile", str(tmp_path / "attrs"))
    (tmp_path / "attrs").write_text("* merge=evil\n")
    repo.write(".gitattributes", "* merge=evil\n")
    (repo.path / ".git" / "info").mkdir(exist_ok=True)
    (repo.path / ".git" / "info" / "attributes").write_text("* merge=evil\n")
    monkeypatch.chdir(repo.path)
    git = Git.discover(repo.path)
    _b, _h, commits = walk_range(git, base, merge)
    changes = range_changes(git, commits)
    assert not sentinel.exists(), "a merge driver from the repository ran"
    assert changes[merge] == []  # the driver would have kept "ours" and faked a change

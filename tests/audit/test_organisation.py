"""Many repositories in one index: each decided with its own policy and root, none able to
change another's answers (issue 19). Runs on both backends.

The two repositories are clones of one world, so they share every commit id: a query or a
decision that forgot the repository would mix their rows, and these tests would see it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.app.audit import build_index, log, query, repository_id
from provenance.audit import Hit, IndexUrl, Query, canonical_repository
from provenance.errors import UsageError
from provenance.gitio import Git
from tests.audit.conftest import World, clone_world

A, B = "github.com/org/a", "github.com/org/b"


def _two(world: World, tmp_path: Path) -> tuple[World, World]:
    """Clone A (one approval required) and clone B, whose HEAD policy requires none."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = clone_world(world, tmp_path / "a"), clone_world(world, tmp_path / "b")
    policy = b.repo.path / ".provenance" / "policy.toml"
    b.repo.commit("relax", {".provenance/policy.toml": policy.read_text().replace(
        "required = 1", "required = 0")})  # fmt: skip
    return a, b


def _by_repo(hits: list[Hit]) -> dict[tuple[str, str], Hit]:
    return {(h.repository, h.commit): h for h in hits}


def test_each_repository_is_decided_with_its_own_policy(
    world: World, tmp_path: Path, index_db: IndexUrl
) -> None:
    a, b = _two(world, tmp_path)
    first = build_index(a.repo.path, a.options(), db=index_db, repository=A)
    second = build_index(b.repo.path, b.options(), db=index_db, repository=B)
    assert (first.repository, second.repository) == (A, B)
    assert first.totals == second.totals == {"attestations": 3, "refused_lines": 2, "commits": 2}
    hits = _by_repo(query(None, Query(), db=index_db).items)
    assert set(hits) == {(r, c) for r in (A, B) for c in (a.sso, a.scim)}
    assert hits[(A, a.scim)].reasons == ("approval_missing",)  # A needs bob or carol
    assert hits[(B, a.scim)].status == "ok"  # B's own policy needs nobody
    assert hits[(A, a.scim)].policy_digest != hits[(B, a.scim)].policy_digest
    only_a = query(None, Query(repository=A), db=index_db).items
    assert {(h.repository, h.commit) for h in only_a} == {(A, a.sso), (A, a.scim)}
    assert query(None, Query(repository="github.com/org/none"), db=index_db).items == []
    by_bob = query(None, Query(approver="bob", repository=B), db=index_db).items
    assert [(h.repository, h.commit) for h in by_bob] == [(B, a.sso)]
    # log in each clone shows that clone's repository, never the other's rows
    a_log = log(a.repo.path, a.spec, db=index_db, repository=A).items
    assert {e.commit: e.status for e in a_log}[a.scim] == "approval_missing"
    unnamed = log(a.repo.path, a.spec, db=index_db).items  # its own id: file://…, not indexed
    assert {e.status for e in unnamed} == {"unattested"}
    b_log = log(b.repo.path, f"{b.base}..{b.docs}", db=index_db, repository=B).items
    assert {e.commit: e.status for e in b_log}[b.scim] == "ok"


def test_rebuilding_one_repository_leaves_the_others_untouched(
    world: World, tmp_path: Path, index_db: IndexUrl
) -> None:
    a, b = _two(world, tmp_path)
    build_index(a.repo.path, a.options(), db=index_db, repository=A)
    build_index(b.repo.path, b.options(), db=index_db, repository=B)
    before = query(None, Query(repository=A), db=index_db).items
    b.repo.git("notes", "--ref=refs/notes/provenance", "remove", b.sso)  # B must rebuild
    again = build_index(b.repo.path, b.options(), db=index_db, repository=B)
    assert again.rebuilt and again.totals["attestations"] == 1
    assert query(None, Query(repository=A), db=index_db).items == before
    forced = build_index(b.repo.path, b.options(), db=index_db, repository=B, rebuild=True)
    assert forced.rebuilt
    assert query(None, Query(repository=A), db=index_db).items == before
    hits = _by_repo(query(None, Query(), db=index_db).items)
    assert (B, a.sso) not in hits and (A, a.sso) in hits


def test_the_default_repository_id_is_the_canonical_remote(world: World, tmp_path: Path) -> None:
    mine = clone_world(world, tmp_path)
    git = Git.discover(mine.repo.path)
    assert repository_id(git) == f"file://{mine.repo.path}"
    mine.repo.git("remote", "add", "origin", "git@GitHub.com:Org/App.git")
    assert repository_id(git) == "github.com/Org/App"
    assert repository_id(git, "https://ci:token@github.com/Org/Other.git") == "github.com/Org/Other"


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("git@GitHub.com:Org/App.git", "github.com/Org/App"),
        ("https://user:secret@github.com/Org/App", "github.com/Org/App"),
        ("ssh://git@github.com:22/Org/App.git/", "github.com/Org/App"),
        ("https://github.com//Org/App.git?x=1#y", "github.com/Org/App"),
        ("git://host.xz/path/to/repo.git/", "host.xz/path/to/repo"),
        ("https://gitlab.example.com:8443/a/b.git", "gitlab.example.com:8443/a/b"),
        ("ssh://host.xz:2222/~user/repo.git", "host.xz:2222/~user/repo"),
        ("http://[::1]:8080/x.git", "[::1]:8080/x"),
        ("/srv/git/app.git", "file:///srv/git/app"),
        ("file:///srv/git/app/", "file:///srv/git/app"),
    ],
)
def test_repository_ids_are_canonical(given: str, canonical: str) -> None:
    assert canonical_repository(given) == canonical
    assert canonical_repository(canonical) == canonical  # idempotent: --repository takes either


@pytest.mark.parametrize(
    "bad", ["", "   ", "ftp://host/x", "https://host", "line\nbreak", "https://h:99999/x"]
)
def test_a_repository_id_that_names_nothing_is_a_usage_error(bad: str) -> None:
    with pytest.raises(UsageError) as e:
        canonical_repository(bad)
    assert e.value.exit_code == 2

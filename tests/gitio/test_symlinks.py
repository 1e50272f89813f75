"""Symlink aliases (THREATS.md E26, G48): the other paths through which a file is reached."""

from __future__ import annotations

from provenance.gitio.enrich import attach_aliases
from provenance.gitio.symlinks import MAX_ALIASES, MAX_EXPLORED, AliasIndex
from provenance.models import FileChange


def test_directory_file_and_chained_links() -> None:
    index = AliasIndex.of(
        {"app/auth": "../lib/core", "app/sso.py": "../lib/sso_impl.py", "web/a": "../app/auth"}
    )
    assert set(index.aliases("lib/core/verify.py")) == {
        "app/auth/verify.py",
        "web/a/verify.py",
    }
    assert index.aliases("lib/sso_impl.py") == ("app/sso.py",)
    assert index.aliases("lib/other.py") == ()


def test_absolute_escaping_and_empty_targets_map_nothing() -> None:
    index = AliasIndex.of({"a": "/etc", "b": "../../x", "c": "", "d": "C:\\x"})
    assert index.aliases("x/y") == ()
    assert index.aliases("etc/passwd") == ()


def test_links_to_the_root_and_cycles_are_bounded() -> None:
    index = AliasIndex.of({"app/auth/root": "../..", "lib/loop": "."})
    found, complete = index.search("lib/x.py")
    assert "app/auth/root/lib/x.py" in found
    assert "lib/loop/x.py" in found
    assert complete and "lib/loop/loop/x.py" not in found  # each link once per chain


def test_union_of_several_trees() -> None:
    index = AliasIndex.of({"app/auth": "../lib"}, {"app/auth": "../lib"}, {"x": "lib"})
    assert set(index.aliases("lib/k.py")) == {"app/auth/k.py", "x/k.py"}


def _flood(count: int) -> dict[str, str]:
    links = {f"docs/examples/verify_{i:02d}.py": "../../lib/core/verify.py" for i in range(count)}
    return {**links, "app/auth": "../lib/core"}


def test_identity_aliases_are_kept_before_the_list_fills() -> None:
    """THREATS.md G48 (variant): 32 neutral links filled the list; the identity alias was cut."""
    change = FileChange("lib/core/verify.py", "lib/core/verify.py", "M", "100644", "100644")
    (kept,) = attach_aliases([change], [_flood(40)], {}, lambda p: p.startswith("app/auth/"))
    assert kept.aliases[0] == "app/auth/verify.py"
    assert len(kept.aliases) == MAX_ALIASES and kept.aliases_truncated
    (few,) = attach_aliases([change], [_flood(3)], {}, lambda p: p.startswith("app/auth/"))
    assert len(few.aliases) == 4 and not few.aliases_truncated


def test_a_search_that_reaches_its_bound_says_so() -> None:
    """THREATS.md G48 (variant): incomplete is reported, never a silently short list."""
    links = {f"m/l{i}": "../lib" for i in range(MAX_EXPLORED + 10)}
    found, complete = AliasIndex.of(links).search("lib/x.py")
    assert not complete and len(found) == MAX_EXPLORED
    deep = {f"d{i}": f"d{i + 1}" for i in range(20)} | {"d20": "lib"}
    found, complete = AliasIndex.of(deep).search("lib/x.py")
    assert not complete and "d0/x.py" not in found  # more than MAX_DEPTH links in a chain

"""Symlink aliases (THREATS.md E26, G48): the other paths through which a file is reached."""

from __future__ import annotations

from provenance.gitio.symlinks import MAX_ALIASES, AliasIndex


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
    found = index.aliases("lib/x.py")
    assert "app/auth/root/lib/x.py" in found
    assert "lib/loop/x.py" in found
    assert len(found) <= MAX_ALIASES


def test_union_of_several_trees() -> None:
    index = AliasIndex.of({"app/auth": "../lib"}, {"app/auth": "../lib"}, {"x": "lib"})
    assert set(index.aliases("lib/k.py")) == {"app/auth/k.py", "x/k.py"}

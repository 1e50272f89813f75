"""Path globs: the string tests of ``_globs`` agree with the regexes ``pathspec`` derives."""

from __future__ import annotations

import re
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.classify._globs import (
    GlobIndex,
    GlobSet,
    component_keys,
    fast_tests,
    glob_regex,
    is_name_glob,
)
from provenance.classify._paths import KIND_GLOBS, PATH_RULES

BUILTIN_GLOBS = sorted(
    {g for r in PATH_RULES for g in (*r.globs, *r.unless)}
    | {g for v in KIND_GLOBS.values() for g in v}
)


@cache
def reference(globs: tuple[str, ...]) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """How globs were matched before the string tests: pathspec's regexes, joined."""
    component = [glob_regex(g) for g in globs if is_name_glob(g)]
    full = [glob_regex(g) for g in globs if not is_name_glob(g)]
    return _join(component), _join(full)


def _join(regexes: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{r})" for r in regexes)) if regexes else None


def reference_match(globs: tuple[str, ...], form: str) -> bool:
    component, full = reference(globs)
    if full is not None and full.match(form):
        return True
    return component is not None and any(component.match(k) for k in component_keys(form))


def names_like(globs: list[str]) -> list[str]:
    """Component names around the literals of ``globs``: equal, extended, delimited, dirs."""
    literals = {p for g in globs for p in re.split(r"\*|\[\._-\]|/", g) if p}
    out = set()
    for lit in literals:
        for before in ("", "a", ".", "_", "-", "x.", "ab-"):
            for after in ("", "s", ".", "_", "-", ".py", "_x", "/"):
                out.add(before + lit + after)
    return sorted(out)


def test_nearly_all_builtin_name_globs_have_string_tests() -> None:
    slow = [g for g in BUILTIN_GLOBS if is_name_glob(g) and fast_tests(g) is None]
    assert slow == []


def test_each_builtin_glob_agrees_with_pathspec() -> None:
    for glob in BUILTIN_GLOBS:
        globs = GlobSet.compile([glob])
        for name in names_like([glob]):
            for form in (name, "src/" + name, name + "x.py"):
                assert globs.match(form) == reference_match((glob,), form), (glob, form)


def test_builtin_index_agrees_with_each_set() -> None:
    sets = {r.id: GlobSet.compile(r.globs) for r in PATH_RULES}
    sets |= {"kind:" + k: GlobSet.compile(v) for k, v in KIND_GLOBS.items()}
    index = GlobIndex(sets)
    names = names_like(BUILTIN_GLOBS)[::7]
    for i, name in enumerate(names):
        form = f"{names[i - 1]}/{name}".rstrip("/")
        expected = {n for n, s in sets.items() if reference_match(s.globs, form)}
        assert index.names(form) == expected, form


GLOB_PARTS = st.sampled_from(["*", "**", "[._-]", "/", "a", "b", ".", "-", "_", "ab", "?", "[ab]"])
GLOBS = st.lists(GLOB_PARTS, min_size=1, max_size=6).map("".join)
FORM_PARTS = st.sampled_from(["a", "b", "ab", ".", "-", "_", "/", "x", "\n", "ba.b", "a-b"])
FORMS = st.lists(FORM_PARTS, max_size=8).map("".join)


@settings(max_examples=500, deadline=None)
@given(st.lists(GLOBS, min_size=1, max_size=3), st.lists(FORMS, min_size=1, max_size=5))
def test_any_globs_agree_with_pathspec(globs: list[str], forms: list[str]) -> None:
    try:
        expected = [reference_match(tuple(globs), f) for f in forms]
    except ValueError:
        with pytest.raises(ValueError):
            GlobSet.compile(globs)
        return
    compiled = GlobSet.compile(globs)
    index = GlobIndex({"x": compiled})
    for form, match in zip(forms, expected, strict=True):
        assert compiled.match(form) == match, (globs, form)
        assert index.names(form) == ({"x"} if match else set()), (globs, form)


def test_string_tests_of_the_word_shapes() -> None:
    assert fast_tests("auth") == (("exact", "auth", ""),)
    assert fast_tests("locale/") == (("dir", "locale", ""),)
    assert fast_tests("*.pem") == (("suffix", ".pem", ""),)
    assert fast_tests("*jwt*") == (("infix", "jwt", ""),)
    assert fast_tests("requirements*.txt") == (("affix", "requirements", ".txt"),)
    assert fast_tests("auth[._-]*") == tuple(("prefix", f"auth{d}", "") for d in "._-")
    assert fast_tests("**/x") is None and fast_tests("a?") is None and fast_tests("A") is None

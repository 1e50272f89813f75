"""Glob matching with ``pathspec``'s gitignore semantics, mostly without regexes.

A glob without an inner slash matches a file or directory name at any depth (gitignore
semantics), so it is tested against each component of a path, with results memoised per
component: most paths of a repository share their components. Globs with an inner slash are
tested against the whole path with the regex ``pathspec`` derives from them.

Nearly all name-level globs are a literal with ``*`` at one or both ends (``*.pem``,
``auth[._-]*``, ``*jwt*``...). ``pathspec`` turns such a glob into
``^(?:.+/)?BODY(?:/|$)``, which on one component ``name`` or ``name/`` (no other slash) holds
exactly when ``BODY`` matches all of ``name``: an equality, ``startswith``, ``endswith`` or
substring test. Those are answered from dictionaries keyed by literal, so a thousand globs
cost a few lookups per new component and no regex compilation at all. Any other glob, and any
path holding a newline (where ``$`` could match before it), goes through ``pathspec``'s
regexes, compiled on first use. ``tests/record/test_classify_globs.py`` checks both routes
agree.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import cached_property

import pathspec

_NAMED_GROUP = re.compile(r"\(\?P<\w+>")
#: Deletes what a fast glob may hold besides ``[._-]``: ``*``, a trailing ``/`` and literal
#: characters that are not special to pathspec.
_FAST_CHARACTERS = str.maketrans("", "", "abcdefghijklmnopqrstuvwxyz0123456789._-*/")
#: What ``[._-]`` matches.
_DELIMITERS = "._-"


def _gitignore_class() -> type[pathspec.RegexPattern]:
    """pathspec's gitignore pattern class (``GitIgnoreBasicPattern`` in pathspec 1.x)."""
    factory = pathspec.lookup_pattern("gitignore")
    if isinstance(factory, type) and issubclass(factory, pathspec.RegexPattern):
        return factory
    raise ImportError("pathspec does not provide a regex-based 'gitignore' pattern")


_GITIGNORE = _gitignore_class()


def glob_regex(glob: str) -> str:
    """The regex ``pathspec`` derives from one gitignore-style glob.

    Raises ``ValueError`` for empty globs, comments and negations, which make no sense as a
    rule on their own.
    """
    if not glob.strip() or glob.startswith(("#", "!")):
        raise ValueError(f"not a usable path glob: {glob!r}")
    try:
        # Uncompiled: the regexes are compiled once, joined, per rule.
        regex, include = _GITIGNORE.pattern_to_regex(glob)
    except Exception as e:  # pathspec raises its own error family for malformed globs
        raise ValueError(f"invalid path glob {glob!r}: {e}") from e
    if regex is None or not include:
        raise ValueError(f"not a usable path glob: {glob!r}")
    # Named groups would clash once several regexes are joined into one alternation.
    return _NAMED_GROUP.sub("(?:", regex)


def _join(regexes: Iterable[str]) -> re.Pattern[str] | None:
    parts = list(regexes)
    return re.compile("|".join(f"(?:{r})" for r in parts)) if parts else None


def is_name_glob(glob: str) -> bool:
    """True for globs matched per path component: no slash except a trailing one."""
    return "/" not in glob.rstrip("/")


#: How a fast name-level glob tests a component name.
EXACT, DIRECTORY, PREFIX, SUFFIX, INFIX, AFFIX = (
    "exact",
    "dir",
    "prefix",
    "suffix",
    "infix",
    "affix",
)
Test = tuple[str, str, str]  # (kind, literal, second literal of an AFFIX test, else "")


def fast_tests(glob: str) -> tuple[Test, ...] | None:
    """String tests equivalent to a name-level glob, or ``None`` when it needs its regex.

    A directory-only literal ``name/`` holds for the component ``name/``. Otherwise each
    ``[._-]`` is expanded to its three characters, and what remains must be ``L``, ``L*``,
    ``*L``, ``*L*`` or ``L*M`` with literals made of ``[a-z0-9._-]`` only.
    """
    if not glob or glob.replace("[._-]", "").translate(_FAST_CHARACTERS) or "/" in glob[:-1]:
        return None  # empty, an inner slash, or a character that pathspec treats specially
    marked = glob.replace("[._-]", "\0")  # a glob holds no NUL: it is not a fast character
    if marked.endswith("/"):
        literal = marked[:-1]
        if not literal or "\0" in literal or "*" in literal:
            return None
        return ((DIRECTORY, literal, ""),)
    variants = [marked]
    while "\0" in variants[0]:
        variants = [v.replace("\0", d, 1) for v in variants for d in _DELIMITERS]
    tests = []
    for variant in variants:
        test = _shape(variant)
        if test is None:
            return None
        tests.append(test)
    return tuple(tests)


def _shape(glob: str) -> Test | None:
    """The test for a glob made of literal characters and ``*`` only."""
    stars = glob.count("*")
    if stars == 0:
        return (EXACT, glob, "")
    if stars == 1:
        head, tail = glob.split("*")
        if head and tail:
            return (AFFIX, head, tail)
        if head or tail:
            return (PREFIX, head, "") if head else (SUFFIX, tail, "")
        return None  # "*" alone
    if stars == 2 and len(glob) > 2 and glob[0] == "*" == glob[-1] and "*" not in glob[1:-1]:
        return (INFIX, glob[1:-1], "")
    return None


class GlobSet:
    """Gitignore-style globs matched against normalised paths (see the module docstring)."""

    def __init__(self, globs: Iterable[str]) -> None:
        self.globs = tuple(globs)
        self.fast: list[tuple[Test, ...]] = []
        self.component_regexes: list[str] = []
        self.full_regexes: list[str] = []
        for glob in self.globs:
            name_level = is_name_glob(glob)
            tests = fast_tests(glob) if name_level else None
            if tests is not None:
                self.fast.append(tests)
            else:  # glob_regex also rejects unusable globs
                (self.component_regexes if name_level else self.full_regexes).append(
                    glob_regex(glob)
                )
        #: Name-level globs without string tests, and globs with an inner slash.
        self.component = _join(self.component_regexes)
        self.full = _join(self.full_regexes)

    @classmethod
    def compile(cls, globs: Iterable[str]) -> GlobSet:
        """Check and prepare globs; an unusable or malformed glob raises ``ValueError``."""
        return cls(globs)

    def __bool__(self) -> bool:
        return bool(self.globs)

    @cached_property
    def regex_only(self) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        """Name-level and path-level regexes over every glob (for paths with a newline)."""
        component = [glob_regex(g) for g in self.globs if is_name_glob(g)]
        return _join(component), _join(glob_regex(g) for g in self.globs if not is_name_glob(g))

    @cached_property
    def _names(self) -> _NameTests:
        return _NameTests({"": self})

    def match(self, form: str) -> bool:
        """True when some glob matches the normalised path ``form``."""
        if not self.globs:
            return False
        if "\n" in form:
            component, full = self.regex_only
            if full is not None and full.match(form):
                return True
            return component is not None and any(map(component.match, component_keys(form)))
        if self.full is not None and self.full.match(form):
            return True
        return any(self._names.names(key) for key in component_keys(form))


def component_keys(form: str) -> list[str]:
    """Each component of ``form``; all but the last keep a ``/`` so dir-only globs apply."""
    parts = form.split("/")
    return [p + "/" for p in parts[:-1]] + parts[-1:]


class _NameTests:
    """The name-level globs of several named ``GlobSet``s, as dictionary lookups."""

    def __init__(self, sets: Mapping[str, GlobSet]) -> None:
        tables: dict[str, defaultdict[str, set[str]]] = {
            kind: defaultdict(set) for kind in (EXACT, DIRECTORY, PREFIX, SUFFIX, INFIX)
        }
        affix: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
        for name, globs in sets.items():
            for tests in globs.fast:
                for kind, literal, tail in tests:
                    if kind == AFFIX:
                        affix[literal, tail].add(name)
                    else:
                        tables[kind][literal].add(name)
        frozen = {k: {lit: frozenset(n) for lit, n in t.items()} for k, t in tables.items()}
        self._exact = frozen[EXACT]
        self._directory = frozen[DIRECTORY]
        self._prefix = frozen[PREFIX]
        self._suffix = frozen[SUFFIX]
        self._infix = frozen[INFIX]
        self._affix = tuple((a, t, len(a) + len(t), frozenset(n)) for (a, t), n in affix.items())
        self._prefix_lengths = sorted({len(lit) for lit in self._prefix})
        self._suffix_lengths = sorted({len(lit) for lit in self._suffix})
        self._infix_lengths = sorted({len(lit) for lit in self._infix})
        self._regexes = [(n, s.component) for n, s in sets.items() if s.component_regexes]

    def names(self, key: str) -> set[str]:
        """Names of the sets with a name-level glob matching the component ``key``."""
        found: set[str] = set()
        name = key[:-1] if key.endswith("/") else key
        size = len(name)
        hit = self._exact.get(name)
        if hit:
            found |= hit
        if name is not key:
            hit = self._directory.get(name)
            if hit:
                found |= hit
        for n in self._prefix_lengths:
            if n > size:
                break
            hit = self._prefix.get(name[:n])
            if hit:
                found |= hit
        for n in self._suffix_lengths:
            if n > size:
                break
            hit = self._suffix.get(name[-n:])
            if hit:
                found |= hit
        for n in self._infix_lengths:
            if n > size:
                break
            for i in range(size - n + 1):
                hit = self._infix.get(name[i : i + n])
                if hit:
                    found |= hit
        for head, tail, least, names in self._affix:
            if size >= least and name.startswith(head) and name.endswith(tail):
                found |= names
        for set_name, regex in self._regexes:
            if regex is not None and regex.match(key):
                found.add(set_name)
        return found


class GlobIndex:
    """Named ``GlobSet``s matched together, with per-component and per-path memoisation."""

    def __init__(self, sets: Mapping[str, GlobSet]) -> None:
        self._sets = dict(sets)
        self._any = any(self._sets.values())
        self._names = _NameTests(self._sets)
        self._by_full = [(n, s) for n, s in self._sets.items() if s.full_regexes]
        self._component_cache: dict[str, frozenset[str]] = {}

    def __bool__(self) -> bool:
        return self._any

    def names(self, form: str) -> frozenset[str]:
        """Names of the sets that match the normalised path ``form``."""
        if "\n" in form:
            return frozenset(n for n, s in self._sets.items() if s.match(form))
        found: set[str] = set()
        for key in component_keys(form):
            hit = self._component_cache.get(key)
            if hit is None:
                hit = frozenset(self._names.names(key))
                if len(self._component_cache) > 200_000:
                    self._component_cache.clear()
                self._component_cache[key] = hit
            found |= hit
        found.update(n for n, s in self._by_full if s.full is not None and s.full.match(form))
        return frozenset(found)

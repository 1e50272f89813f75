"""Glob matching: ``pathspec`` compiles each gitignore-style glob; we only combine the regexes.

A glob without an inner slash matches a file or directory name at any depth (gitignore
semantics), so it is tested against each component of a path, with results memoised per
component: most paths of a repository share their components, which keeps thousands of
globs cheap. Globs with an inner slash are tested against the whole path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pathspec

_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


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


@dataclass(frozen=True)
class GlobSet:
    """Globs compiled to one regex for name-level globs and one for path-level globs."""

    component: re.Pattern[str] | None
    full: re.Pattern[str] | None

    @classmethod
    def compile(cls, globs: Iterable[str]) -> GlobSet:
        """Compile globs; name-level ones are those without a slash before a trailing one."""
        component: list[str] = []
        full: list[str] = []
        for glob in globs:
            (full if "/" in glob.rstrip("/") else component).append(glob_regex(glob))
        return cls(_join(component), _join(full))

    def match(self, form: str) -> bool:
        """True when some glob matches the normalised path ``form``."""
        if self.full is not None and self.full.match(form):
            return True
        if self.component is None:
            return False
        return any(self.component.match(part) for part in component_keys(form))


def component_keys(form: str) -> list[str]:
    """Each component of ``form``; all but the last keep a ``/`` so dir-only globs apply."""
    parts = form.split("/")
    return [p + "/" for p in parts[:-1]] + parts[-1:]


class GlobIndex:
    """Named ``GlobSet``s matched together, with per-component and per-path memoisation."""

    def __init__(self, sets: Mapping[str, GlobSet]) -> None:
        self._by_component = [(n, s.component) for n, s in sets.items() if s.component]
        self._by_full = [(n, s.full) for n, s in sets.items() if s.full]
        self._component_cache: dict[str, frozenset[str]] = {}

    def __bool__(self) -> bool:
        return bool(self._by_component or self._by_full)

    def names(self, form: str) -> frozenset[str]:
        """Names of the sets that match the normalised path ``form``."""
        found: set[str] = set()
        for key in component_keys(form):
            hit = self._component_cache.get(key)
            if hit is None:
                hit = frozenset(n for n, rx in self._by_component if rx.match(key))
                if len(self._component_cache) > 200_000:
                    self._component_cache.clear()
                self._component_cache[key] = hit
            found |= hit
        found.update(n for n, rx in self._by_full if rx.match(form))
        return frozenset(found)

"""Deriving a ``_prefilter`` condition from a regex parse tree (see ``_prefilter``)."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from provenance.classify._prefilter import (
    _BREAK,
    _DIGITS,
    _RUN,
    Adjacent,
    AllOf,
    AnyOf,
    Condition,
    Gap,
    Head,
    Region,
)
from provenance.classify._prefilter_shape import listed, shipped

#: Strings a region may match before the derivation gives up on the pattern.
_MAX_STRINGS = 4096
#: Characters of a class expanded one by one; larger classes are unknown characters.
_MAX_CLASS = 8

# --- deriving a condition from a parse tree ---------------------------------------------------


class _Unsupported(Exception):
    """The pattern uses something the derivation does not model; no condition."""


def required(pattern: str, flags: int) -> Condition | None:
    """A condition implied by every match of ``re.compile(pattern, flags)``, if one is found.

    The built-in patterns' conditions were derived ahead of time (``_prefilter_shape``, kept
    equal to ``derive`` by a test); any other pattern, such as a policy's own rule or a rule
    edited since the table was generated, is derived here.
    """
    spec = shipped().get((pattern, int(flags)))
    return derive(pattern, flags) if spec is None else listed(spec)


def derive(pattern: str, flags: int) -> Condition | None:
    """``required``, worked out from the pattern's parse tree."""
    try:
        parser = importlib.import_module("re._parser")
        constants = importlib.import_module("re._constants")
        tree = parser.parse(pattern, flags)
        unsupported = constants.SRE_FLAG_IGNORECASE | constants.SRE_FLAG_LOCALE
        if (flags | tree.state.flags) & (unsupported | constants.SRE_FLAG_ASCII):
            return None  # case folding or ASCII-only \b and \w: tokens would differ
        return _Walker(constants).pattern(list(tree))
    except (_Unsupported, ImportError, AttributeError, re.error, ValueError, TypeError):
        return None


def _add_digits(string: str) -> str:
    return string if string.endswith(_DIGITS) else string + _DIGITS


def _is_word(char: str) -> bool:
    """A character ``\\w`` matches (and ``\\b`` separates from others) in str patterns."""
    return char.isalnum() or char == "_"


def _ends_token(string: str) -> bool:
    """True when a word character right after ``string`` would start a token."""
    return bool(string) and not _is_word(string[-1]) and string[-1] != _DIGITS


def _region(strings: set[str]) -> Region | None:
    """The condition that one of ``strings`` (with ``_BREAK`` marks) occurs; None if trivial."""
    heads = set()
    for string in strings:
        head = _head(string)
        if not head.tokens and not head.substrings:
            return None  # the region may match the empty string
        heads.add(head)
    return Region(heads)


@lru_cache(maxsize=16384)
def _head(string: str) -> Head:
    """Atoms of one string a region may match (with ``_BREAK`` and ``_DIGITS`` marks)."""
    atoms = set()
    runs = list(_RUN.finditer(string))
    for run in runs:
        if run.start() > 0:  # after a non-word character or a boundary: a token starts here
            atom = _token_atom(run.group(), ended=run.end() < len(string))
            if atom:
                atoms.add(atom)
    pieces = [p for p in string.replace(_BREAK, "").split(_DIGITS) if p]
    only_run = len(runs) == 1 and string.strip(_BREAK) == runs[0].group()
    if only_run and runs[0].start() > 0:  # its token atom implies the substrings
        return Head(frozenset(atoms), ())
    return Head(frozenset(atoms), tuple(pieces))


def _token_atom(run: str, *, ended: bool) -> str:
    """The atom for a token that starts with ``run`` (and ends with it if ``ended``)."""
    if _DIGITS not in run:
        return ("=" if ended else "^") + run
    stem = run[: run.index(_DIGITS)]
    if ended and run == stem + _DIGITS and stem:
        return "#" + stem  # the stem followed by digits only
    return "^" + stem if stem else ""


def _all_of(parts: Iterable[Condition | None]) -> Condition | None:
    """Every part holds (nested conjunctions flattened); None when nothing is required."""
    flat: list[Condition] = []
    for part in parts:
        if isinstance(part, AllOf):
            flat.extend(part.parts)
        elif part is not None:
            flat.append(part)
    if len(flat) <= 1:
        return flat[0] if flat else None
    return AllOf(tuple(sorted(flat, key=lambda p: p.cost)))


def _any_of(options: Iterable[Condition | None]) -> Condition | None:
    """Some option holds; None when one of them requires nothing. Regions are merged."""
    flat: list[Condition] = []
    for option in options:
        if option is None:
            return None
        flat.extend(option.parts if isinstance(option, AnyOf) else (option,))
    regions = [o for o in flat if isinstance(o, Region)]
    others = [o for o in flat if not isinstance(o, Region)]
    if len(regions) > 1:
        others.append(Region(h for r in regions for h in r.heads))
    else:
        others.extend(regions)
    return others[0] if len(others) == 1 else AnyOf(tuple(others))


class _Walker:
    """Turns a parse tree into regions and gaps (see the module docstring).

    ``sequence`` carries the strings of the region in progress into groups and alternatives,
    and back out of them, so a region spans group boundaries (``\\b(?:a|b)\\b``).
    """

    def __init__(self, constants: Any) -> None:
        self.c = constants
        self.boundaries = {
            constants.AT_BOUNDARY,
            constants.AT_BEGINNING,
            constants.AT_BEGINNING_LINE,
            constants.AT_BEGINNING_STRING,
            constants.AT_END,
            constants.AT_END_LINE,
            constants.AT_END_STRING,
        }
        self._literal_only: dict[int, bool] = {}  # by id() of a node's argument

    def pattern(self, items: list[tuple[Any, Any]]) -> Condition | None:
        """What a whole pattern requires."""
        required, tail = self.sequence(items, {""})
        return _all_of([required, _region(tail)])

    def sequence(
        self, items: list[tuple[Any, Any]], strings: set[str]
    ) -> tuple[Condition | None, set[str]]:
        """What a sequence requires, and the strings of the region still open at its end.

        ``strings`` are those of the region open before the sequence. Groups are spliced into
        the sequence; an alternative with gaps takes the literal-only nodes that follow it into
        each branch, so a branch's last region sees a closing ``\\b``.
        """
        c = self.c
        parts: list[Condition | None] = []
        items = list(items)
        i = 0
        while i < len(items):
            op, av = items[i]
            i += 1
            if self.literal_only(op, av):
                strings = self.extend(op, av, strings)
            elif op is c.SUBPATTERN and not av[1] and not av[2]:
                items[i:i] = list(av[3])
            elif op is c.BRANCH:
                end = i
                while end < len(items) and self.literal_only(*items[end]):
                    end += 1
                suffix, i = items[i:end], end
                options: list[Condition | None] = []
                tails: set[str] = set()
                for branch in av[1]:
                    required, tail = self.sequence([*branch, *suffix], strings)
                    options.append(_all_of([required, _region(tail)]))
                    tails |= tail
                parts.append(_any_of(options))
                strings = tails
            elif (spec := self.non_word_gap(op, av)) is not None:
                # Only non-word characters, such as \\s*: a token starts after them, and one
                # ends before them if there is at least one. What precedes and what follows
                # them (across further such gaps) are also adjacent.
                least, gap = spec
                gaps, rest = [gap], i
                while rest < len(items) and (more := self.non_word_gap(*items[rest])):
                    gaps.append(more[1])
                    rest += 1
                parts.append(self.adjacent(strings, gaps, items[rest:]))
                if least:
                    strings = {s if s.endswith(_BREAK) else s + _BREAK for s in strings}
                parts.append(_region(strings))
                strings = {_BREAK} if least or all(map(_ends_token, strings)) else {""}
            elif (op is c.MAX_REPEAT or op is c.MIN_REPEAT) and av[0] >= 1:
                required, tail = self.sequence(list(av[2]), strings)  # the first repetition
                parts += [required, _region(tail)]
                strings = {""}
            else:  # unknown text: ., \\w, [^...], optional repeats, scoped flags...
                parts.append(_region(strings))
                strings = {""}
            if len(strings) > _MAX_STRINGS:
                raise _Unsupported("too many strings")
        return _all_of(parts), strings

    def literal_only(self, op: Any, av: Any) -> bool:
        """True when the node matches one of finitely many literal strings (memoised)."""
        c = self.c
        if op is c.LITERAL or op is c.AT or op is c.ASSERT or op is c.ASSERT_NOT:
            return True
        found = self._literal_only.get(id(av))
        if found is None:
            found = self._literal_only[id(av)] = self._is_literal_only(op, av)
        return found

    def _is_literal_only(self, op: Any, av: Any) -> bool:
        c = self.c
        if op is c.IN:
            return self.class_chars(av) is not None or self.digits([(op, av)])
        if op is c.SUBPATTERN:
            _group, add_flags, del_flags, body = av
            return not add_flags and not del_flags and all(self.literal_only(*n) for n in body)
        if op is c.BRANCH:
            return all(self.literal_only(*n) for b in av[1] for n in b)
        if op is c.MAX_REPEAT or op is c.MIN_REPEAT:
            low, high, body = av
            if self.digits(body):
                return True
            return low == 0 and high == 1 and all(self.literal_only(*n) for n in body)
        return False

    def digits(self, items: list[tuple[Any, Any]]) -> bool:
        """True for a single ``\\d`` or ``[0-9]``."""
        c = self.c
        return (
            len(items) == 1
            and items[0][0] is c.IN
            and items[0][1]
            in (
                [(c.CATEGORY, c.CATEGORY_DIGIT)],
                [(c.RANGE, (ord("0"), ord("9")))],
            )
        )

    def extend(self, op: Any, av: Any, strings: set[str]) -> set[str]:
        """The strings of the region so far followed by what a literal-only node matches."""
        c = self.c
        if op is c.LITERAL:
            if chr(av) in (_BREAK, _DIGITS):
                raise _Unsupported("a literal used as a mark")
            return {s + chr(av) for s in strings}
        if op is c.IN:
            chars = self.class_chars(av)
            if chars is None:  # a digit
                return {_add_digits(s) for s in strings}
            if _BREAK in chars or _DIGITS in chars:
                raise _Unsupported("a literal used as a mark")
            return {s + char for s in strings for char in chars}
        if op is c.AT:
            if av in self.boundaries:  # \b, ^, $, \A, \Z: no token continues across it
                return {s if s.endswith(_BREAK) else s + _BREAK for s in strings}
            return strings  # \B: says nothing about tokens
        if op is c.ASSERT or op is c.ASSERT_NOT:
            return strings  # lookarounds consume nothing
        if op is c.SUBPATTERN:
            return self.extend_all(av[3], strings)
        if op is c.BRANCH:
            return set().union(*(self.extend_all(branch, strings) for branch in av[1]))
        if self.digits(av[2]):  # \\d*, \\d+, [0-9]{2} ...: digits, or none if that may be
            digits = {_add_digits(s) for s in strings}
            return digits if av[0] >= 1 else strings | digits
        return strings | self.extend_all(av[2], strings)  # an optional part

    def extend_all(self, items: Iterable[tuple[Any, Any]], strings: set[str]) -> set[str]:
        """``extend`` by each literal-only node of a sequence in turn."""
        for op, av in items:
            strings = self.extend(op, av, strings)
        return strings

    def non_word_gap(self, op: Any, av: Any) -> tuple[int, Gap] | None:
        """The least length and the characters of a node that matches only non-word
        characters (``\\s*``, ``[ \\t]+``...), else None."""
        c = self.c
        if op is c.IN:
            gap = self.non_word_class(av)
            return None if gap is None else (1, gap)
        if op is c.MAX_REPEAT or op is c.MIN_REPEAT:
            low, _high, body = av
            if len(body) == 1 and body[0][0] is c.IN:
                gap = self.non_word_class(body[0][1])
                return None if gap is None else (int(low), gap)
        return None

    def non_word_class(self, items: list[tuple[Any, Any]]) -> Gap | None:
        """The characters of a class of whitespace, ``\\W`` and non-word literals only."""
        c = self.c
        chars: set[str] = set()
        space = non_word = False
        for op, av in items:
            if op is c.CATEGORY and av is c.CATEGORY_SPACE:
                space = True
            elif op is c.CATEGORY and av is c.CATEGORY_NOT_WORD:
                non_word = True
            elif op is c.LITERAL and not _is_word(chr(av)):
                chars.add(chr(av))
            else:
                return None
        return Gap(frozenset(chars), space, non_word) if items else None

    def adjacent(self, before: set[str], gaps: list[Gap], rest: list[Any]) -> Adjacent | None:
        """What a region, gaps and the literal-only nodes at the start of ``rest`` require
        together, if their literal ends are known."""
        after: set[str] = {""}
        for op, av in rest:
            if not self.literal_only(op, av) or len(after) > _MAX_STRINGS:
                break
            after = self.extend(op, av, after)
        tails = {s.replace(_BREAK, "").rpartition(_DIGITS)[2] for s in before}
        heads = {s.replace(_BREAK, "").partition(_DIGITS)[0] for s in after}
        if "" in tails or "" in heads:
            return None  # an end is unknown or empty: nothing beyond the regions themselves
        chars = frozenset().union(*(g.chars for g in gaps))
        gap = Gap(chars, any(g.space for g in gaps), any(g.non_word for g in gaps))
        # A string ending with another precedes the gap only if that one does; likewise for
        # strings starting with another after it: the shorter ones suffice.
        tails = {t for t in tails if not any(t != u and t.endswith(u) for u in tails)}
        heads = {h for h in heads if not any(h != u and h.startswith(u) for u in heads)}
        return Adjacent(tuple(sorted(tails)), gap, tuple(sorted(heads)))

    def class_chars(self, items: list[tuple[Any, Any]]) -> list[str] | None:
        """The characters of a small class without negation or categories, else None."""
        c = self.c
        chars: list[str] = []
        for op, av in items:
            if op is c.LITERAL:
                chars.append(chr(av))
            elif op is c.RANGE and av[1] - av[0] < _MAX_CLASS:
                chars.extend(map(chr, range(av[0], av[1] + 1)))
            else:
                return None
        return chars if len(chars) <= _MAX_CLASS else None

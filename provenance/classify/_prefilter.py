"""Necessary conditions for a regex to match, checked with set lookups before running it.

Most texts match none of the content rules, yet a regex such as ``\\b(?:owner|user id|...)``
has no literal prefix for ``re`` to search for, so ``re`` attempts a match at every position of
every text: that was most of the classifier's time. ``required`` reads a regex's parse tree once
and derives a condition that every match satisfies, made of *atoms*:

- token atoms: ``=word`` (some token of the text is exactly ``word``), ``#word`` (``word``
  followed by decimal digits) or ``^word`` (some token starts with ``word``), where tokens are
  the maximal runs of word characters, the units ``\\b`` separates;
- substrings the text must contain.

A *region* is a stretch of the pattern that matches only literal text: literals, small
character classes, digit runs, optional parts and alternatives of those, and zero-width
``\\b``, anchors and lookarounds. It matches one of finitely many strings (*heads*), one of
which occurs in the text; ``\\b`` and anchors tell where a token starts or ends, which turns a
head into token atoms. Anything else (``\\s*``, ``\\w+``, ``.``, large classes...) is a gap
of unknown text. So a sequence requires all of its regions (``AllOf``), and an alternative
containing gaps one of its branches (``AnyOf``). Across a gap of non-word characters only
(``\\s*``), the regions on both sides must also be ``Adjacent``.

Every condition also yields *clauses*: sets of token atoms such that each match has an atom of
every clause. They are what the scanner indexes rules by (``_content``): a text whose tokens
miss a clause cannot match, which rules out most rules for most texts without a regex, and
without evaluating ``holds``.

The derivation only ever drops information it is unsure of, so a condition is implied by every
match; a pattern it does not understand (case folding, ASCII-only ``\\w``, too many strings)
gets no condition, and its regex simply always runs. The derivation lives in ``_derive``;
``tests/record/test_classify_prefilter.py`` checks soundness on strings sampled from every
built-in rule. The built-in rules' conditions ship derived ahead of time (``_prefilter_shape``).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple, Protocol

#: Marks a token boundary inside a region's literal text (never a literal of a usable pattern).
_BREAK = "\x00"
#: Stands for one or more decimal digits (``\\d+``) inside a region's literal text.
_DIGITS = "\x01"
#: A token in a region's literal text: word characters and digit runs.
_RUN = re.compile(r"[\w\x01]+")
#: Clauses a disjunction may expand to before it is summarised by one.
_MAX_CLAUSES = 256
#: Clauses derived from one region.
_MAX_REGION_CLAUSES = 3
#: Substring sets at one trie node beyond which implied ones are not looked for.
_MAX_PRUNED = 64

_ASCII_NON_WORD = str.maketrans(
    {c: " " for c in map(chr, range(128)) if not (c.isalnum() or c == "_")}
)
_WORD_RUN = re.compile(r"\w+")


def tokens(text: str) -> set[str]:
    """The distinct maximal runs of word characters (``\\w`` as ``re`` sees it) in ``text``."""
    if text.isascii():
        return set(text.translate(_ASCII_NON_WORD).split())
    return set(_WORD_RUN.findall(text))


class Condition(Protocol):
    """Implied by every match of some regex."""

    @property
    def atoms(self) -> frozenset[str]:
        """The token atoms the condition refers to."""
        ...

    @property
    def cost(self) -> int:
        """Rough number of substring searches ``holds`` may make."""
        ...

    @property
    def clauses(self) -> tuple[frozenset[str], ...]:
        """Sets of token atoms such that every match has an atom of each (a weaker, cheaper
        condition used to index rules by atom)."""
        ...

    @property
    def literals(self) -> tuple[str, ...] | None:
        """Strings one of which every match contains, if known (a test without tokens)."""
        ...

    def holds(self, present: Set[str], text: str) -> bool:
        """False only if no match is possible in ``text``, whose token atoms are ``present``."""
        ...


class Head(NamedTuple):
    """One string a region may match, as atoms: all of them are present."""

    tokens: frozenset[str]
    substrings: tuple[str, ...]


@dataclass(frozen=True)
class _Trie:
    """Heads sharing their first token atoms share a path; ``done`` heads end here."""

    done: tuple[tuple[str, ...], ...]  # the substrings of each head ending here
    children: Mapping[str, _Trie]
    keys: frozenset[str]

    @classmethod
    def of(cls, heads: Iterable[tuple[tuple[str, ...], tuple[str, ...]]]) -> _Trie:
        """A trie of heads given as (token atoms in path order, substrings)."""
        done: set[tuple[str, ...]] = set()
        below: defaultdict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = defaultdict(list)
        for atoms, substrings in heads:
            if atoms:
                below[atoms[0]].append((atoms[1:], substrings))
            else:
                done.add(substrings)
        if () in done:  # a head with nothing left to check: the node always holds
            return cls(((),), {}, frozenset())
        children = {atom: cls.of(rest) for atom, rest in below.items()}
        return cls(_weakest(done), children, frozenset(children))

    def holds(self, present: Set[str], text: str) -> bool:
        """True when the atoms of some head through this node are all present."""
        for substrings in self.done:
            for substring in substrings:
                if substring not in text:
                    break
            else:
                return True
        children = self.children
        for atom in self.keys.intersection(present):  # noqa: SIM110 -- a hot loop, any() is slower
            if children[atom].holds(present, text):
                return True
        return False


class Region:
    """A region of literal text: one of its heads holds.

    Heads are kept in a trie over their token atoms (built on first use), so a text lacking
    the first atom of every head is rejected with one set operation, and shared atoms are
    checked once.
    """

    def __init__(self, heads: Iterable[Head]) -> None:
        self.heads = frozenset(heads)

    @cached_property
    def paths(self) -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
        """Each head as (its token atoms in trie order, its substrings).

        A head's path starts with the atoms most heads share (the alternatives of a group
        each appear in many heads), so the first level of the trie has few keys.
        """
        shared = Counter(a for h in self.heads for a in h.tokens)

        def order(atom: str) -> tuple[int, int, bool, str]:
            return (-shared[atom], -len(atom), atom[0] != "=", atom)

        return tuple((tuple(sorted(h.tokens, key=order)), h.substrings) for h in self.heads)

    @cached_property
    def trie(self) -> _Trie:
        """The heads' paths as a trie."""
        return _Trie.of(self.paths)

    @cached_property
    def atoms(self) -> frozenset[str]:
        """Token atoms of the heads."""
        return frozenset().union(*(h.tokens for h in self.heads))

    @cached_property
    def cost(self) -> int:
        """Substring searches for the heads without token atoms."""
        return sum(1 for h in self.heads if not h.tokens)

    @cached_property
    def clauses(self) -> tuple[frozenset[str], ...]:
        """The atoms at each level of the trie (a head shorter than a level repeats its last
        atom): every head has one atom of each. Alternatives in sequence, such as
        ``(?:get|make) ?(?:key|token)``, give one clause per group. None if a head has no
        token atom.
        """
        if self.cost:
            return ()
        paths = [path for path, _ in self.paths]
        depth = min(max(map(len, paths)), _MAX_REGION_CLAUSES)
        levels = (frozenset(path[min(k, len(path) - 1)] for path in paths) for k in range(depth))
        return tuple(dict.fromkeys(levels))

    @cached_property
    def literals(self) -> tuple[str, ...]:
        """A literal of each head: its longest substring or token word, without the
        punctuation around it (``"jose"`` and ``'jose'`` both give ``jose``)."""
        return _literals(
            max((*map(_trimmed, h.substrings), *(a[1:] for a in h.tokens)), key=_longest)
            for h in self.heads
        )

    def holds(self, present: Set[str], text: str) -> bool:
        """True when some head's atoms are all present."""
        return self.trie.holds(present, text)


@dataclass(frozen=True)
class _Compound:
    """A combination of conditions."""

    parts: tuple[Condition, ...]

    @cached_property
    def atoms(self) -> frozenset[str]:
        """Token atoms of the parts."""
        return frozenset().union(*(p.atoms for p in self.parts))

    @cached_property
    def cost(self) -> int:
        """Substring searches of the parts."""
        return sum(p.cost for p in self.parts)


@dataclass(frozen=True)
class AllOf(_Compound):
    """Every part holds (cheapest parts first)."""

    @cached_property
    def clauses(self) -> tuple[frozenset[str], ...]:
        """The clauses of all parts."""
        return _minimal(c for p in self.parts for c in p.clauses)

    @cached_property
    def literals(self) -> tuple[str, ...] | None:
        """The literals of the part whose shortest literal is longest."""
        return _best_literals(p.literals for p in self.parts)

    def holds(self, present: Set[str], text: str) -> bool:
        """True when all parts hold."""
        return all(p.holds(present, text) for p in self.parts)


@dataclass(frozen=True)
class AnyOf(_Compound):
    """Some part holds."""

    @cached_property
    def clauses(self) -> tuple[frozenset[str], ...]:
        """Clauses of the disjunction: each unites one clause of every part (distribution).

        With many combinations only one is kept, uniting each part's smallest clause.
        """
        options = [p.clauses for p in self.parts]
        if not all(options):
            return ()  # some part implies no clause
        combinations = 1
        for clauses in options:
            combinations *= len(clauses)
        if combinations > _MAX_CLAUSES:
            options = [(min(clauses, key=len),) for clauses in options]
        return _minimal(frozenset().union(*pick) for pick in itertools.product(*options))

    @cached_property
    def literals(self) -> tuple[str, ...] | None:
        """The literals of all parts, if each has some."""
        options = [p.literals for p in self.parts]
        if any(o is None for o in options):
            return None
        return _literals(literal for o in options if o is not None for literal in o)

    def holds(self, present: Set[str], text: str) -> bool:
        """True when some part holds."""
        return any(p.holds(present, text) for p in self.parts)


def _literals(strings: Iterable[str]) -> tuple[str, ...]:
    """Strings without those containing another (which occurs wherever they do), longest
    first."""
    kept: list[str] = []
    for string in sorted(set(strings), key=len):
        if not any(k in string for k in kept):
            kept.append(string)
    return tuple(sorted(kept, key=lambda k: (-len(k), k)))


def _best_literals(options: Iterable[tuple[str, ...] | None]) -> tuple[str, ...] | None:
    """The option with fewest strings among those whose strings all have at least four
    characters (short ones occur by chance), else the one whose shortest string is longest."""
    known = [o for o in options if o]
    if not known:
        return None
    return max(known, key=lambda o: (min(map(len, o)) >= 4, -len(o), min(map(len, o)), o))


def _longest(string: str) -> tuple[int, str]:
    return (len(string), string)


def _trimmed(substring: str) -> str:
    """``substring`` from its first to its last word character (if it has any)."""
    words = list(_WORD_RUN.finditer(substring))
    return substring[words[0].start() : words[-1].end()] if words else substring


def _weakest(done: set[tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
    """Substring sets to test, without those that imply another (``===`` implies ``==``)."""
    ordered = sorted(done, key=lambda d: (len(d), sum(map(len, d)), d))
    if len(ordered) > _MAX_PRUNED:
        return tuple(ordered)  # too many to prune: all are tested (asking costs n squared)
    kept: list[tuple[str, ...]] = []
    for d in ordered:
        if not any(all(any(x in y for y in d) for x in k) for k in kept):
            kept.append(d)
    return tuple(kept)


def _minimal(clauses: Iterable[frozenset[str]]) -> tuple[frozenset[str], ...]:
    """The clauses that contain no other: a superset of a clause is implied by it."""
    kept: list[frozenset[str]] = []
    for clause in sorted(set(clauses), key=lambda c: (len(c), sorted(c))):
        if not any(k <= clause for k in kept):
            kept.append(clause)
    return tuple(kept)


def _strip_digits(token: str) -> str:
    """``token`` without its trailing decimal digits (what ``\\d`` matches)."""
    if token.isascii():
        return token.rstrip("0123456789")
    end = len(token)
    while end and token[end - 1].isdecimal():
        end -= 1
    return token[:end]


@dataclass(frozen=True)
class Gap:
    """Characters a run of unknown length may hold: all non-word (whitespace, ``\\W``...)."""

    chars: frozenset[str]
    space: bool  # any whitespace (``\\s``)
    non_word: bool  # any non-word character (``\\W``)

    def has(self, char: str) -> bool:
        """True if ``char`` may appear in the gap."""
        return (
            char in self.chars
            or (self.space and char.isspace())
            or (self.non_word and not (char.isalnum() or char == "_"))
        )


@dataclass(frozen=True)
class Adjacent:
    """Some ``before`` string is followed, after any run of ``gap`` characters, by some
    ``after`` string: what ``owner\\s*==`` requires beyond "owner" and "==" somewhere."""

    before: tuple[str, ...]
    gap: Gap
    after: tuple[str, ...]

    @property
    def atoms(self) -> frozenset[str]:
        """None: the strings are tested directly."""
        return frozenset()

    @property
    def clauses(self) -> tuple[frozenset[str], ...]:
        """None."""
        return ()

    @property
    def cost(self) -> int:
        """Searches in Python: test it after everything else."""
        return 1000

    @property
    def literals(self) -> tuple[str, ...] | None:
        """The strings on either side."""
        return _best_literals((self.before, self.after))

    def holds(self, present: Set[str], text: str) -> bool:
        """True when a ``before`` string, gap characters and an ``after`` string follow.

        Occurrences of the side with fewer strings are searched (one search per string),
        then the gap is walked towards the other side, testing all its strings at once.
        """
        has, size = self.gap.has, len(text)
        if len(self.after) <= len(self.before):
            for string in self.after:
                end = text.find(string)
                while end >= 0:
                    start = end
                    while True:  # the gap may start after any of its characters
                        if text.endswith(self.before, 0, start):
                            return True
                        if start == 0 or not has(text[start - 1]):
                            break
                        start -= 1
                    end = text.find(string, end + 1)
            return False
        for string in self.before:
            start = text.find(string)
            while start >= 0:
                end = start + len(string)
                while True:  # the gap may stop before any of its characters
                    if text.startswith(self.after, end):
                        return True
                    if end == size or not has(text[end]):
                        break
                    end += 1
                start = text.find(string, start + 1)
        return False


class TokenAtoms:
    """Which token atoms of some conditions a text satisfies, memoised per token.

    Each atom may carry labels (the clauses of ``Condition.clauses`` it belongs to, say);
    ``scan`` returns the atoms present in a text and the union of their labels.
    """

    def __init__(self, atoms: Iterable[str], labels: Mapping[str, Iterable[int]]) -> None:
        atoms = set(atoms)
        self._labels = {atom: frozenset(numbers) for atom, numbers in labels.items()}
        self._exact = frozenset(a[1:] for a in atoms if a[0] == "=")
        self._numbered = frozenset(a[1:] for a in atoms if a[0] == "#")
        prefixes = frozenset(a[1:] for a in atoms if a[0] == "^")
        self._prefixes = prefixes
        self._lengths = sorted({len(p) for p in prefixes})
        #: The first characters every prefix atom starts with (a quick test per token).
        self._least = self._lengths[0] if self._lengths else 0
        self._starts = frozenset(p[: self._least] for p in prefixes)
        self._seen: set[str] = set()
        self._hit_tokens: set[str] = set()  # tokens of ``_seen`` with some atom
        self._atoms: dict[str, frozenset[str]] = {}  # for each hit token
        self._labels_of: dict[str, frozenset[int]] = {}  # for each hit token

    def scan(self, text: str) -> tuple[set[str], set[int]]:
        """The token atoms that hold in ``text``, and their labels."""
        words = tokens(text)
        new = words - self._seen
        if new:
            if len(self._seen) > 200_000:
                self._seen.clear()
                self._hit_tokens.clear()
                self._atoms.clear()
                self._labels_of.clear()
                new = words
            for word in new:
                atoms = self._atoms_of(word)
                if atoms:
                    self._hit_tokens.add(word)
                    self._atoms[word] = frozenset(atoms)
                    self._labels_of[word] = frozenset().union(
                        *(self._labels.get(a, ()) for a in atoms)
                    )
            self._seen |= new
        hits = words & self._hit_tokens
        present: set[str] = set().union(*map(self._atoms.__getitem__, hits))
        return present, set().union(*map(self._labels_of.__getitem__, hits))

    def _atoms_of(self, token: str) -> tuple[str, ...]:
        found = ["=" + token] if token in self._exact else []
        if self._numbered and token[-1].isdecimal():
            stem = _strip_digits(token)
            if stem in self._numbered:
                found.append("#" + stem)
        if self._starts and token[: self._least] in self._starts:
            for n in self._lengths:
                if n > len(token):
                    break
                if token[:n] in self._prefixes:
                    found.append("^" + token[:n])
        return tuple(found)

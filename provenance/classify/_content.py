"""Which built-in content rules match the changed lines of a file, without running most regexes.

A rule is reported when one of its hint literals occurs in the lower-cased text (or it has
none) and its regex matches its view of the text, exactly as before prefilters existed. The
scanner tests more before running a regex, all of it implied by a match (``_prefilter``): that
the text's tokens satisfy each of the rule's clauses, then that its condition holds. The order
of the tests only affects speed: the words view's tokens are scanned once per text and looked
up per clause, so most rules cost nothing for most texts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import cache, cached_property

from provenance.classify._branches import Branches
from provenance.classify._derive import required
from provenance.classify._memo import SizedLRU
from provenance.classify._model import ContentRule, View
from provenance.classify._normalize import manifest_view, words_view
from provenance.classify._prefilter import Condition, TokenAtoms
from provenance.classify._ruleset import ruleset


def content_flags(rule: ContentRule) -> int:
    """The flags a content rule's regex is compiled with."""
    return re.MULTILINE | (re.IGNORECASE if rule.ignore_case else 0)


class BuiltinRule:
    """A built-in content rule: its prefilter, and its regex compiled on first use."""

    def __init__(self, rule: ContentRule) -> None:
        self.rule = rule
        self.view = rule.view.value
        self.flags = content_flags(rule)
        self.condition: Condition | None = required(rule.pattern, self.flags)
        #: Sets of token atoms: every match has an atom of each (the first, cheapest filter).
        self.clauses = () if self.condition is None else self.condition.clauses

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """The compiled pattern."""
        return re.compile(self.rule.pattern, self.flags)

    @cached_property
    def branches(self) -> Branches:
        """The pattern asked alternative by alternative (``matches``)."""
        return Branches(self.rule.pattern, self.flags)

    def matches(self, text: str) -> bool:
        """True when the pattern matches somewhere in ``text`` (``_branches``: same answer)."""
        return self.branches.search(text)


@cache
def builtin_rules(ruleset_id: str) -> tuple[BuiltinRule, ...]:
    """A built-in ruleset's content rules with their prefilters, prepared once per process."""
    return tuple(BuiltinRule(r) for r in ruleset(ruleset_id).content_rules)


_WORDS = View.WORDS.value
#: Rules with at most this many hints test them first (one or two substring searches cost
#: less than the other tests); rules with more, only once their regex matched.
_FEW_HINTS = 2


def render(raw: str, view: str) -> str:
    """The text a rule of ``view`` (a ``View`` value) is matched against."""
    if view == _WORDS:
        return words_view(raw)
    return manifest_view(raw) if view == View.MANIFEST.value else raw


class _ViewIndex:
    """The token atoms of the built-in conditions on one view, and the clauses naming each."""

    def __init__(self, rules: Iterable[BuiltinRule]) -> None:
        rules = list(rules)
        naming: dict[str, set[int]] = {}
        #: rule id -> numbers of its clauses
        self.clauses: dict[str, frozenset[int]] = {}
        number = 0
        for b in rules:
            numbers = []
            for clause in b.clauses:
                for atom in clause:
                    naming.setdefault(atom, set()).add(number)
                numbers.append(number)
                number += 1
            self.clauses[b.rule.id] = frozenset(numbers)
        atoms = (a for b in rules if b.condition for a in b.condition.atoms)
        #: token atoms, labelled with the numbers of the clauses they satisfy
        self.atoms = TokenAtoms(atoms, naming)


class _View:
    """One view of the changed lines, and the token atoms it satisfies (scanned once)."""

    __slots__ = ("_atoms", "_scanned", "text")

    def __init__(self, text: str, atoms: TokenAtoms) -> None:
        self.text = text
        self._atoms = atoms
        self._scanned: tuple[set[str], set[int]] | None = None

    def scan(self) -> tuple[set[str], set[int]]:
        """The token atoms present, and the numbers of the clauses they satisfy."""
        if self._scanned is None:
            self._scanned = self._atoms.scan(self.text)
        return self._scanned


def _has_hint(hints: tuple[str, ...], lower: str) -> bool:
    """True if a hint occurs in the lower-cased text, or there are none."""
    return not hints or _contains_any(hints, lower)


def _contains_any(needles: tuple[str, ...], text: str) -> bool:
    """True if one of ``needles`` occurs in ``text``."""
    for needle in needles:  # noqa: SIM110 -- a hot loop, any() is slower
        if needle in text:
            return True
    return False


class _Selection:
    """The rules for one combination of file kinds, arranged for ``ContentScanner.matching``.

    Rules on the words view are filed under one of their clauses, so only those whose clause
    some token satisfies are looked at. Rules on other views carry literals one of which
    every match contains: testing them is cheaper than scanning the tokens of the view.
    """

    def __init__(self, rules: Iterable[BuiltinRule], indexes: Callable[[str], _ViewIndex]) -> None:
        rules = list(rules)
        words: dict[int, list[tuple[frozenset[int], bool, BuiltinRule]]] = {}
        others: dict[str, list[tuple[frozenset[int], tuple[str, ...], bool, BuiltinRule]]] = {}
        for b in rules:
            if not b.clauses:
                continue
            numbers = indexes(b.view).clauses[b.rule.id]
            few_hints = len(b.rule.hints) <= _FEW_HINTS
            if b.view == _WORDS:
                words.setdefault(min(numbers), []).append((numbers, few_hints, b))
            else:
                smallest = min(b.clauses, key=len)
                literals = b.condition.literals if b.condition else None
                if literals is None:
                    literals = tuple(sorted({atom[1:] for atom in smallest}, key=len, reverse=True))
                others.setdefault(b.view, []).append((numbers, literals, few_hints, b))
        self.words = {number: tuple(pairs) for number, pairs in words.items()}
        self.word_keys = frozenset(words)
        self.others = tuple((view, tuple(entries)) for view, entries in others.items())
        self.unindexed = tuple(b for b in rules if not b.clauses)


#: ``ContentScanner.matching`` remembers texts of at most this many characters, this many
#: characters of them in all (decision 0021: what ``wants_source`` matched while the range was
#: read is matched again when its commit is judged, often in a forked worker).
_MEMO_CHARS = 1 << 16
_MEMO_BUDGET = 64 << 20


class ContentScanner:
    """Matches the built-in content rules; memoises rule selections and token atoms."""

    def __init__(self, enabled: Iterable[ContentRule], ruleset_id: str) -> None:
        self._enabled = {r.id for r in enabled}
        self._ruleset_id = ruleset_id
        self._selections: dict[frozenset[str], _Selection] = {}
        self._indexes: dict[str, _ViewIndex] = {}
        self._memo: SizedLRU[tuple[frozenset[str], str], tuple[ContentRule, ...]] = SizedLRU(
            _MEMO_BUDGET, lambda key: len(key[1])
        )

    def matching(self, kinds: frozenset[str], raw: str) -> Iterator[ContentRule]:
        """The enabled rules for files of ``kinds`` that match ``raw``, in ``_matching``'s order.

        Memoised for recent texts: the stages of ``@2`` and guard-flow ask about the same
        lines again (a quarter of the calls on a real history), and so does ``wants_source``
        before them.
        """
        if len(raw) > _MEMO_CHARS:
            return self._matching(kinds, raw)
        return iter(self._memo.get((kinds, raw), lambda: tuple(self._matching(kinds, raw))))

    def _matching(self, kinds: frozenset[str], raw: str) -> Iterator[ContentRule]:
        """The enabled rules for files of ``kinds`` that match ``raw`` (see the module docstring).

        On the words view, clauses rule out most rules and conditions most of the rest, so
        hints come last unless there are only one or two of them. On the other views, with
        few rules each, hints and literals go first, and tokens are scanned only if needed.
        """
        selection = self._selection(kinds)
        lower = raw.lower()
        views: dict[str, _View] = {}

        def view_of(name: str) -> _View:
            view = views.get(name)
            if view is None:
                view = views[name] = _View(render(raw, name), self._index(name).atoms)
            return view

        if selection.words:
            view = view_of(_WORDS)
            text = view.text
            present, satisfied = view.scan()
            for number in selection.word_keys & satisfied:
                for clauses, few, builtin in selection.words[number]:
                    condition = builtin.condition
                    hints = builtin.rule.hints
                    if (
                        clauses <= satisfied
                        and (not few or _has_hint(hints, lower))
                        and (condition is None or condition.holds(present, text))
                        and builtin.matches(text)
                        and (few or _has_hint(hints, lower))
                    ):
                        yield builtin.rule
        for name, entries in selection.others:
            view = view_of(name)
            for clauses, literals, few, builtin in entries:
                hints = builtin.rule.hints
                if (
                    (not few or _has_hint(hints, lower))
                    and _contains_any(literals, view.text)
                    and clauses <= view.scan()[1]
                    and self._matches(builtin, view)
                    and (few or _has_hint(hints, lower))
                ):
                    yield builtin.rule
        for builtin in selection.unindexed:
            if _has_hint(builtin.rule.hints, lower) and self._matches(
                builtin, view_of(builtin.view)
            ):
                yield builtin.rule

    def rule(self, rule_id: str) -> BuiltinRule | None:
        """The enabled built-in rule with that id, if any."""
        if rule_id not in self._enabled:
            return None
        return next((b for b in builtin_rules(self._ruleset_id) if b.rule.id == rule_id), None)

    @staticmethod
    def _matches(builtin: BuiltinRule, view: _View) -> bool:
        """The rule's condition holds and its regex matches."""
        condition = builtin.condition
        if condition is not None and not condition.holds(view.scan()[0], view.text):
            return False
        return builtin.matches(view.text)

    def _index(self, view: str) -> _ViewIndex:
        index = self._indexes.get(view)
        if index is None:
            rules = (b for b in builtin_rules(self._ruleset_id) if b.view == view)
            index = self._indexes[view] = _ViewIndex(rules)
        return index

    def _selection(self, kinds: frozenset[str]) -> _Selection:
        found = self._selections.get(kinds)
        if found is None:
            rules = (
                b
                for b in builtin_rules(self._ruleset_id)
                if b.rule.id in self._enabled and b.rule.kinds & kinds
            )
            found = self._selections[kinds] = _Selection(rules, self._index)
        return found

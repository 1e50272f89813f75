"""Content prefilters: whenever a rule's regex matches, its derived condition holds.

A condition that failed on a matching text would silently drop a verdict, so soundness is
checked on strings sampled from each built-in regex itself, placed in varied contexts.
"""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.classify._content import ContentScanner, builtin_rules, render
from provenance.classify._derive import required
from provenance.classify._normalize import split_camel, words_view
from provenance.classify._prefilter import Condition, TokenAtoms, tokens
from provenance.classify._ruleset import RULESET_V1, RULESET_V2, ruleset

P: Any = __import__("re._parser", fromlist=["parse"])
C: Any = __import__("re._constants", fromlist=["LITERAL"])

CONTEXTS = ["", " ", "x", "_", "(", "\n", "a.", "9", "é", "Foo", "\n\t", '"', "user "]


def sample(items: Any, rng: random.Random) -> str:
    """A string the parsed pattern ``items`` will often match (lookarounds are ignored)."""
    out = []
    for op, av in items:
        if op is C.LITERAL:
            out.append(chr(av))
        elif op is C.NOT_LITERAL:
            out.append("x" if chr(av) != "x" else "y")
        elif op is C.ANY:
            out.append(rng.choice("a ._-Z9"))
        elif op is C.IN:
            out.append(sample_class(av, rng))
        elif op is C.BRANCH:
            out.append(sample(rng.choice(av[1]), rng))
        elif op is C.SUBPATTERN:
            out.append(sample(av[3], rng))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            low, high, body = av
            count = rng.randint(low, min(high, low + 3))
            out.extend(sample(body, rng) for _ in range(count))
    return "".join(out)


def sample_class(items: Any, rng: random.Random) -> str:
    chars: list[str] = []
    categories = {
        C.CATEGORY_DIGIT: "07",
        C.CATEGORY_NOT_DIGIT: "a-",
        C.CATEGORY_SPACE: " \t\n",
        C.CATEGORY_NOT_SPACE: "a.",
        C.CATEGORY_WORD: "a_9Z",
        C.CATEGORY_NOT_WORD: " -.",
    }
    negate = False
    for op, av in items:
        if op is C.NEGATE:
            negate = True
        elif op is C.LITERAL:
            chars.append(chr(av))
        elif op is C.RANGE:
            chars.append(chr(rng.randint(*av)))
        elif op is C.CATEGORY:
            chars.extend(categories.get(av, "a"))
    if negate:
        pool = [c for c in "ax _-.Z9/'\"" if c not in chars]
        return rng.choice(pool)
    return rng.choice(chars)


def admits(condition: Condition, text: str) -> tuple[bool, bool]:
    """(condition holds, every clause has an atom) for ``text``."""
    atoms = TokenAtoms(condition.atoms, {})
    present, _ = atoms.scan(text)
    clauses = all(c & present for c in condition.clauses)
    return condition.holds(present, text), clauses


RULESETS = (RULESET_V1, RULESET_V2)
#: Every built-in rule with a condition, once per distinct pattern across the versions.
RULES = list(
    {
        (b.rule.pattern, b.flags): b
        for ruleset_id in RULESETS
        for b in builtin_rules(ruleset_id)
        if b.condition is not None
    }.values()
)


@pytest.mark.parametrize("ruleset_id", RULESETS)
def test_most_rules_have_a_condition(ruleset_id: str) -> None:
    rules = builtin_rules(ruleset_id)
    assert sum(b.condition is not None for b in rules) >= len(rules) - 2


@pytest.mark.parametrize("builtin", RULES, ids=lambda b: b.rule.id)
def test_condition_holds_whenever_the_regex_matches(builtin: Any) -> None:
    rng = random.Random(builtin.rule.id)
    tree = P.parse(builtin.rule.pattern, builtin.flags)
    matched = 0
    for _ in range(400):
        text = rng.choice(CONTEXTS) + sample(tree, rng) + rng.choice(CONTEXTS)
        if builtin.regex.search(text) is None:
            continue
        matched += 1
        assert admits(builtin.condition, text) == (True, True), text
    assert matched > 40  # the sampler exercises the rule


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        (r"\bfoo\b", ["a foo b", "foo"], ["food", "afoo", "fo o"]),
        (r"\bfoo", ["food"], ["afood"]),
        (r"\bauth\d*\b", ["auth", "auth42"], ["author", "auth4x"]),
        (r"owner\s*==", ["owner == x", "xowner=="], ["owner = x", "own == er", "owner x =="]),
        (r"\bkey\b['\"]*\s*[=!]=", ["key' == 1", "key==2"], ["key x == 1", "keys == 1"]),
        (r"\b(?:log ?in|sign ?up)\b", ["log in", "signup"], ["logs in", "sign-up"]),
        (r"^\s*secure\s*[:=]", ["  secure: 1"], ["insecure: 1", "secure"]),
        (r"(?<!db\.)\bsessions?\b(?! storage)", ["session"], ["sessionstorage"]),
    ],
)
def test_conditions_of_small_patterns(
    pattern: str, matching: list[str], not_matching: list[str]
) -> None:
    condition = required(pattern, re.MULTILINE)
    assert condition is not None
    for text in matching:
        assert re.search(pattern, text, re.MULTILINE)
        assert admits(condition, text) == (True, True), text
    for text in not_matching:
        assert not admits(condition, text)[0], text


@pytest.mark.parametrize("pattern", [r"(?i)foo", r"(?a)\bfoo\b", r"\w+", r"x|\d*", r"a?"])
def test_no_condition_when_unsure_or_trivial(pattern: str) -> None:
    assert required(pattern, re.MULTILINE) is None


ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=80)
CODE_TEXT = st.lists(
    st.sampled_from(["getUser", "OAuthToken", "is_admin", "HTTPServer", " ", "\n", "é", "x9", "_"]),
    max_size=12,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(ANY_TEXT, CODE_TEXT))
def test_tokens_are_the_word_runs_re_sees(text: str) -> None:
    assert tokens(text) == set(re.findall(r"\w+", text))


_ZERO_WIDTH_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@settings(max_examples=300, deadline=None)
@given(st.one_of(ANY_TEXT, CODE_TEXT), st.sampled_from([" ", "_"]))
def test_camel_split_is_the_zero_width_regex(text: str, sep: str) -> None:
    assert split_camel(text, sep) == _ZERO_WIDTH_CAMEL.sub(sep, text)
    if sep == " ":
        expected = _ZERO_WIDTH_CAMEL.sub(" ", text).translate({95: " ", 45: " "}).lower()
        assert words_view(text) == expected


ITERATIONS = 3000
KINDS = [
    frozenset({"python"}),
    frozenset({"js", "test"}),
    frozenset({"go"}),
    frozenset({"config", "ci"}),
    frozenset({"manifest"}),
    frozenset({"ruby", "template"}),
    frozenset({"sql"}),
    frozenset({"other"}),
]


def reference_matching(ruleset_id: str, kinds: frozenset[str], raw: str) -> set[str]:
    """Every rule's regex, run whenever one of its hints occurs (no prefilter)."""
    lower = raw.lower()
    return {
        b.rule.id
        for b in builtin_rules(ruleset_id)
        if b.rule.kinds & kinds
        and (not b.rule.hints or any(h in lower for h in b.rule.hints))
        and b.regex.search(render(raw, b.view))
    }


@pytest.mark.parametrize("ruleset_id", RULESETS)
def test_scanner_reports_exactly_the_rules_whose_regex_matches(ruleset_id: str) -> None:
    scanner = ContentScanner(ruleset(ruleset_id).content_rules, ruleset_id)
    rng = random.Random(7)
    trees = [(P.parse(b.rule.pattern, b.flags), b) for b in builtin_rules(ruleset_id)]
    for _ in range(ITERATIONS):
        parts = [sample(tree, rng) for tree, _ in rng.sample(trees, rng.randint(1, 4))]
        raw = "".join(rng.choice(CONTEXTS) + p for p in parts)
        if rng.random() < 0.5:
            raw = raw.upper() if rng.random() < 0.2 else raw.replace(" ", "_")
        kinds = rng.choice(KINDS)
        assert {r.id for r in scanner.matching(kinds, raw)} == reference_matching(
            ruleset_id, kinds, raw
        )

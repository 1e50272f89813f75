"""The shipped table of the built-in prefilter conditions is what deriving them gives.

A table condition stronger than the derived one would make the scanner skip a rule whose regex
matches (a fail-open gate), so every entry is compared structurally with ``derive``; a pattern
missing from the table is derived, so a policy's own rule or an edited rule stays correct.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from provenance.classify import _derive
from provenance.classify._branches import Branches
from provenance.classify._content import BuiltinRule
from provenance.classify._derive import derive, required
from provenance.classify._prefilter import Condition
from provenance.classify._prefilter_gen import table_keys
from provenance.classify._prefilter_shape import build, listed, shape, shipped
from provenance.classify._rules_evasion import RUNS_CODE
from provenance.classify._ruleset import RULESET_V1, RULESET_V2, ruleset


def test_each_built_in_pattern_has_its_derived_condition_in_the_table() -> None:
    """THREATS.md G45: the precomputed conditions are those the classifier would derive, for
    each content rule of ``@1`` and ``@2`` and each alternative ``_branches`` asks alone."""
    table = shipped()
    keys = table_keys()
    assert len(keys) > 100  # both rulesets' rules and their alternatives
    for key in keys:
        assert key in table, f"run scripts/gen-prefilters ({key[0][:80]!r} is missing)"
        assert shape(listed(table[key])) == shape(derive(*key)), (
            f"run scripts/gen-prefilters ({key[0][:80]!r} drifted)"
        )


def test_the_table_has_no_stale_entries() -> None:
    """An entry no built-in pattern asks for is a rule edited or removed since generation."""
    stale = sorted(set(shipped()) - set(table_keys()))
    assert not stale, f"run scripts/gen-prefilters (stale: {stale[:3]!r})"


def test_no_built_in_pattern_is_derived_at_run_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The table holds every (pattern, flags) the classifier asks for the built-in rules (so
    ``table_keys`` lists what is really asked), and ``required`` answers them from it."""
    asked: list[tuple[str, int]] = []
    real: Callable[[str, int], Condition | None] = derive

    def recording(pattern: str, flags: int) -> Condition | None:
        asked.append((pattern, flags))
        return real(pattern, flags)

    monkeypatch.setattr(_derive, "derive", recording)
    for ruleset_id in (RULESET_V1, RULESET_V2):
        for rule in ruleset(ruleset_id).content_rules:
            assert BuiltinRule(rule).branches is not None  # asks each alternative
    for pattern in RUNS_CODE.values():
        Branches(pattern, re.MULTILINE)
    assert asked == []
    required(r"\bacme_owner\b", re.MULTILINE)
    assert asked == [(r"\bacme_owner\b", re.MULTILINE)]  # the recorder does see derivations


def test_a_pattern_absent_from_the_table_is_derived() -> None:
    """THREATS.md G45: a policy's own rule, or a built-in edited before regeneration, gets the
    condition its regex implies, not none and not a stale one."""
    pattern = r"\b(?:acme_tenant|acme_org)_owner\s*==\s*\w+"
    assert (pattern, re.MULTILINE) not in shipped()
    condition = required(pattern, re.MULTILINE)
    assert condition is not None
    assert shape(condition) == shape(derive(pattern, re.MULTILINE))
    assert {"^acme_tenant_owner", "^acme_org_owner"} <= condition.atoms
    assert not condition.holds(set(), "tenant owner == x")
    assert condition.holds({"^acme_org_owner"}, "acme_org_owner == x")


def test_required_answers_from_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """The table decides what ``required`` returns for a listed pattern: why it must never
    be writable at run time, and why the drift test above guards each entry."""
    pattern = r"\bacme_owner\b"
    assert required(pattern, re.MULTILINE) is not None
    monkeypatch.setitem(shipped(), (pattern, re.MULTILINE), "null")
    assert required(pattern, re.MULTILINE) is None


def test_shapes_tell_conditions_apart() -> None:
    """The structural comparison sees a missing head, a changed gap and reordered parts."""
    owner = derive(r"\b(?:owner|admin)\s*==\s*user\b", re.MULTILINE)
    fewer = derive(r"\bowner\s*==\s*user\b", re.MULTILINE)
    wider = derive(r"\b(?:owner|admin)[\s:]*==\s*user\b", re.MULTILINE)
    assert shape(owner) == shape(derive(r"\b(?:admin|owner)\s*==\s*user\b", re.MULTILINE))
    assert len({shape(owner), shape(fewer), shape(wider)}) == 3
    assert shape(build(shape(owner))) == shape(owner)

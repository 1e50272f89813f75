"""A ``_prefilter`` condition as plain nested tuples, and back (decision 0021, amendment).

Deriving the built-in rules' conditions parses every regex, which cost each classifying
process about a tenth of a second at start. ``_prefilter_table.tsv`` holds them as *shapes*,
generated ahead of time by ``scripts/gen-prefilters``; a shape is made of strings, booleans
and tuples (lists in JSON) only, so a shape loads with one ``json.loads``, and ``build``
turns it back into a condition, when its rule is first used. ``shape`` is also the
structural equality the drift test compares conditions with: ``Region`` has none of its own,
and a shape lists the members of each set in sorted order.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from provenance.classify._prefilter import Adjacent, AllOf, AnyOf, Condition, Gap, Head, Region

#: Nested tuples of strings and booleans, tagged by their first item (or None: no condition).
Shape = tuple[Any, ...] | None
#: The generated table, a data file of this package. Each line: a JSON array [pattern, flags],
#: a tab (which JSON text never holds), and the JSON of that pattern's shape.
TABLE_FILE = "_prefilter_table.tsv"


@cache
def shipped() -> dict[tuple[str, int], str]:
    """The table shipped in the package: (pattern, flags) -> the JSON of its shape, parsed
    only for the patterns asked (``listed``).

    Read once per process, never written at run time: what a process could write must not
    decide which rules the classifier skips.
    """
    text = resources.files("provenance.classify").joinpath(TABLE_FILE).read_text("utf-8")
    table = {}
    for line in text.splitlines():
        key, _tab, spec = line.partition("\t")
        pattern, flags = json.loads(key)
        table[(pattern, flags)] = spec
    return table


def listed(spec: str) -> Condition | None:
    """The condition of a shape's JSON from the table."""
    return build(json.loads(spec))


def shape(condition: Condition | None) -> Shape:
    """``condition`` as nested tuples; equal shapes mean structurally equal conditions."""
    if condition is None:
        return None
    if isinstance(condition, Region):
        heads = sorted((tuple(sorted(h.tokens)), h.substrings) for h in condition.heads)
        return ("region", tuple(heads))
    if isinstance(condition, AllOf):
        return ("all", tuple(shape(p) for p in condition.parts))
    if isinstance(condition, AnyOf):
        return ("any", tuple(shape(p) for p in condition.parts))
    if isinstance(condition, Adjacent):
        gap = condition.gap
        spec = ("".join(sorted(gap.chars)), gap.space, gap.non_word)
        return ("adjacent", condition.before, spec, condition.after)
    raise TypeError(f"no shape for a prefilter condition of type {type(condition).__name__}")


def build(spec: Shape | list[Any]) -> Condition | None:
    """The condition ``spec`` is the shape of (``shape`` undone); lists may stand for tuples,
    as in the table's JSON."""
    if spec is None:
        return None
    tag = spec[0]
    if tag == "region":
        return Region(Head(frozenset(tokens), tuple(substrings)) for tokens, substrings in spec[1])
    if tag == "all":
        return AllOf(tuple(_part(p) for p in spec[1]))
    if tag == "any":
        return AnyOf(tuple(_part(p) for p in spec[1]))
    if tag == "adjacent":
        _tag, before, (chars, space, non_word), after = spec
        return Adjacent(tuple(before), Gap(frozenset(chars), space, non_word), tuple(after))
    raise ValueError(f"unknown prefilter shape {tag!r}")


def _part(spec: Shape | list[Any]) -> Condition:
    """A part of a compound condition (never None)."""
    condition = build(spec)
    if condition is None:
        raise ValueError("a compound prefilter condition has an empty part")
    return condition

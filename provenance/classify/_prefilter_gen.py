"""Generating the table of the built-in patterns' conditions, derived ahead of time.

``scripts/gen-prefilters`` writes the table; ``tests/classify/test_prefilter_table.py`` fails
when it differs from what ``_derive.derive`` gives now. The table is a data file of the
package, never written at run time, so nothing a process can write decides which rules the
classifier skips.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from provenance.classify._branches import split
from provenance.classify._content import content_flags
from provenance.classify._derive import derive
from provenance.classify._prefilter_shape import TABLE_FILE, Shape, shape
from provenance.classify._rules_evasion import RUNS_CODE
from provenance.classify._ruleset import RULESET_V1, RULESET_V2, ruleset

#: Where the table lives, relative to the project root.
TABLE_PATH = Path("provenance/classify") / TABLE_FILE


def table_keys() -> list[tuple[str, int]]:
    """Every (pattern, flags) the classifier asks ``required`` about for the built-in rules:
    each content rule of ``@1`` and ``@2``, and each alternative ``_branches`` asks alone."""
    keys: dict[tuple[str, int], None] = {}
    wholes: list[re.Pattern[str]] = []
    for ruleset_id in (RULESET_V1, RULESET_V2):
        for rule in ruleset(ruleset_id).content_rules:
            flags = content_flags(rule)
            keys[(rule.pattern, int(flags))] = None
            wholes.append(re.compile(rule.pattern, flags))
    wholes += [re.compile(pattern, re.MULTILINE) for pattern in RUNS_CODE.values()]
    for whole in wholes:
        found = split(whole)
        if found is not None:
            parts, flags = found
            keys.update(dict.fromkeys((part, int(flags)) for part in parts))
    return sorted(keys)


def table() -> dict[tuple[str, int], Shape]:
    """The table as it should be: each key's derived condition as a shape."""
    return {key: shape(derive(*key)) for key in table_keys()}


def render() -> str:
    """The table's text (``_prefilter_shape.TABLE_FILE``), one pattern a line, sorted."""
    return "".join(f"{json.dumps(key)}\t{json.dumps(spec)}\n" for key, spec in table().items())


def generate(root: Path) -> Path:
    """Write the table under the project ``root``; the path written."""
    path = root / TABLE_PATH
    path.write_text(render(), encoding="utf-8")
    return path

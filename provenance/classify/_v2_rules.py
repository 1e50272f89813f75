"""``builtin:identity@2``: ``@1``'s tables with the changes made for real applications."""

from __future__ import annotations

from provenance.classify._paths import KIND_GLOBS
from provenance.classify._ruleset import (
    BUILTIN_CONTENT_RULES,
    BUILTIN_PATH_RULES,
    RULESET_V2,
    Ruleset,
)

V2 = Ruleset(
    RULESET_V2,
    BUILTIN_PATH_RULES,
    BUILTIN_CONTENT_RULES,
    KIND_GLOBS,
    {"version": 2},
)

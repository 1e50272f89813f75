"""Rule value types: the public ``RuleSpec`` and the built-in rule shapes."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Strength(enum.Enum):
    """How much one rule hit counts towards an identity verdict.

    ``STRONG`` fires alone anywhere. ``MEDIUM`` fires alone except in test files, where it
    only combines. ``WEAK`` only combines (and is ignored in test files), because words such
    as "session" or "role" are common in code that is not identity code. Combining means at
    least ``FIRE_AT`` distinct *concepts* among the weak content hits and weak path hints, at
    least one of them from content: ``CookieBanner.tsx`` mentioning ``cookie`` is one concept
    seen twice, not two signals.
    """

    STRONG = "strong"
    MEDIUM = "medium"
    WEAK = "weak"

    def weight(self, *, in_test: bool) -> int:
        """2: fires alone; 1: counts towards a combination; 0: ignored."""
        if self is Strength.STRONG:
            return FIRE_AT
        if self is Strength.MEDIUM:
            return 1 if in_test else FIRE_AT
        return 0 if in_test else 1


#: Distinct concepts needed before weak hits are reported.
FIRE_AT = 2


class View(enum.Enum):
    """Which rendering of the changed lines a content rule is matched against.

    ``WORDS`` splits identifiers into lower-case words (``isAdmin`` and ``is_admin`` both read
    ``is admin``), so one pattern covers every naming style and ``\\b`` sits on word parts.
    ``RAW`` is the text as written (NFKC-normalised); ``MANIFEST`` is raw, lower-cased, with
    lockfile hashes removed so base64 noise cannot spell a library name.
    """

    WORDS = "words"
    RAW = "raw"
    MANIFEST = "manifest"


@dataclass(frozen=True)
class RuleSpec:
    """A content rule: a Python regular expression searched in added and removed lines.

    The pattern is compiled with ``re.MULTILINE``: ``^``/``$`` anchor at line boundaries.
    Matching is case-sensitive unless the pattern says ``(?i)``.
    """

    id: str
    pattern: str
    description: str = ""


@dataclass(frozen=True)
class PathRule:
    """A built-in path rule: gitignore-style globs matched against normalised paths."""

    id: str
    description: str
    globs: tuple[str, ...]
    strength: Strength = Strength.STRONG
    #: Globs that veto this rule (for example Ansible ``roles/`` directories for RBAC roles).
    unless: tuple[str, ...] = ()
    #: True when the rule also applies to documentation, styling and other inert files.
    always: bool = False
    #: True when a policy ``exclude`` cannot switch the rule off.
    unexcludable: bool = False
    #: What a weak hit is evidence of; hits sharing a concept count once (see ``Strength``).
    concept: str = ""

    def canonical(self) -> dict[str, Any]:
        """Stable JSON-ready form used for the ruleset digest."""
        return {
            "kind": "path",
            "id": self.id,
            "description": self.description,
            "globs": list(self.globs),
            "strength": self.strength.value,
            "unless": list(self.unless),
            "always": self.always,
            "unexcludable": self.unexcludable,
            "concept": self.concept or self.id,
        }


@dataclass(frozen=True)
class ContentRule:
    """A built-in content rule over the changed lines of files of some kinds."""

    id: str
    description: str
    pattern: str
    kinds: frozenset[str]
    view: View = View.WORDS
    strength: Strength = Strength.STRONG
    #: Lower-case literals; the regex runs only if one occurs in the lower-cased raw text.
    #: Empty means always run. This is a speed filter, so it must never reject a match.
    hints: tuple[str, ...] = ()
    #: Compile with ``re.IGNORECASE`` as well as ``re.MULTILINE``.
    ignore_case: bool = False
    #: What a weak hit is evidence of; hits sharing a concept count once (see ``Strength``).
    concept: str = ""

    def canonical(self) -> dict[str, Any]:
        """Stable JSON-ready form used for the ruleset digest."""
        return {
            "kind": "content",
            "id": self.id,
            "description": self.description,
            "pattern": self.pattern,
            "kinds": sorted(self.kinds),
            "view": self.view.value,
            "strength": self.strength.value,
            "hints": list(self.hints),
            "ignore_case": self.ignore_case,
            "concept": self.concept or self.id,
        }


@dataclass(frozen=True)
class Finding:
    """Where a rule fired: a path, and lines of one side of its diff (``first`` 0: the path).

    ``side`` is ``"new"`` for lines of the commit's version and ``"old"`` for lines of the
    parent's (a removal). Line numbers are 1-based and inclusive.
    """

    rule: str
    path: str
    side: str = "new"
    first: int = 0
    last: int = 0

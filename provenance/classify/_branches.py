"""Whether a rule's regex matches, asked one top-level alternative at a time (decision 0021).

``re`` tries every alternative of ``A|B|C`` at every position of the text, so a rule with a
dozen alternatives costs a dozen scans of a large diff even when none of their words occur.
A regex matches somewhere exactly when one of its top-level alternatives does (without
backreferences or conditionals, no alternative depends on another's groups; look-arounds
see the same text), so each alternative is compiled alone, with the pattern's flags, and
skipped when none of the literals every match of it contains (``_derive.required``) occurs.
Only the yes-or-no answer is the same: positions and groups still come from the whole regex.
"""

from __future__ import annotations

import re

from provenance.classify._derive import required

#: Backreferences and conditionals tie alternatives together: such patterns are not split.
_TIED = re.compile(r"\\[1-9]|\(\?P=|\(\?\(|\\g<")


def alternatives(pattern: str) -> list[str] | None:
    """The top-level alternatives of ``pattern`` (``None``: one, or unsafe to split)."""
    if _TIED.search(pattern):
        return None
    parts: list[str] = []
    depth = start = i = 0
    in_class = False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            i += 1
            i += pattern[i : i + 1] == "^"
            i += pattern[i : i + 1] == "]"  # a ``]`` first in a class is a character
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts if len(parts) > 1 and depth == 0 and not in_class else None


def split(whole: re.Pattern[str]) -> tuple[list[str], int] | None:
    """The alternatives a compiled regex is asked by, and the flags (its inline ones too)
    each is compiled with; None when it is asked whole."""
    flags = whole.flags  # those given, inline ones such as (?x), and re.UNICODE
    parts = alternatives(whole.pattern)
    if parts is None or flags & (re.VERBOSE | re.IGNORECASE):
        return None  # comments could hold "|"; case folding defeats literals
    return parts, flags


class Branches:
    """A regex asked whether it matches, alternative by alternative (see the module)."""

    def __init__(self, pattern: str, flags: int) -> None:
        self.whole = re.compile(pattern, flags)
        self._parts: tuple[tuple[re.Pattern[str], tuple[str, ...] | None], ...] = ()
        found = split(self.whole)
        if found is None:
            return
        split_parts, flags = found
        parts = []
        for part in split_parts:
            condition = required(part, flags)
            parts.append((re.compile(part, flags), condition.literals if condition else None))
        if any(literals for _, literals in parts):
            self._parts = tuple(parts)

    def search(self, text: str) -> bool:
        """True when the whole regex matches somewhere in ``text``."""
        if not self._parts:
            return self.whole.search(text) is not None
        for regex, literals in self._parts:
            if literals is not None and not any(literal in text for literal in literals):
                continue
            if regex.search(text) is not None:
                return True
        return False

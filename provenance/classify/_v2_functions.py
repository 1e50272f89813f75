"""Changes inside user-lifecycle functions of user and account code (IDENTITY-RUBRIC.md).

What a deleted, suspended or banned user can still do is decided by the functions that
delete, suspend or ban them, and a one-line change there (``wearable_hats...update_all``
inside ``User#delete!``) names nothing identity-related. In a file whose path names users,
accounts or members, ``@2`` places each changed line in its enclosing function (tree-sitter,
``syntax.enclosing``) and fires ``code.lifecycle-function`` when the function's name is a
lifecycle verb: delete, destroy, (de|re)activate, suspend, ban, disable, lock, undelete,
purge, anonymise, impersonate, grant, revoke, promote, demote, invite, expel.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import lru_cache

from provenance.classify._locate import Line
from provenance.classify._normalize import words_view
from provenance.classify.syntax import HEADER, Span, enclosing

RULE = "code.lifecycle-function"
DOC = "a change inside a function that deletes, suspends, bans, (de)activates or invites users"
DEFINITION_RULE = "code.access-definition"
DEFINITION_DOC = "a function or method defined, renamed or removed in a policy file"

LIFECYCLE = re.compile(
    r"\b(?:delete|destroy|deactivat\w*|reactivat\w*|activat\w*|suspend\w*|unsuspend\w*|ban"
    r"|unban|banned|disable|lock|unlock|undelete|restore|purge|anonymi[sz]e\w*|impersonat\w*"
    r"|grant\w*|revok\w*|promot\w*|demot\w*|invit\w*|expel|kick|offboard\w*|deprovision\w*)\b"
)
_ANNOTATION = re.compile(r"^\s*(?:@|#\[|\[|$)")
_RECEIVER = re.compile(r"^\s*func\s*\([^)]*\)")
_KEYWORD = re.compile(
    r"^\s*(?:(?:public|private|protected|internal|static|final|async|override|virtual|export"
    r"|def|func|function|fn|sub)\s+)*"
)


_ASSIGNED = re.compile(
    r"^\s*(?:export\s+)?(?:const|let|var)?\s*([\w$.]+)\s*[:=]\s*(?:async\s*)?(?:function\b|\()"
)


def _name(lines: list[str], span: Span) -> str | None:
    """The words of a named function's name (``None`` for a block or anonymous function).

    The name is read on the span's first line that is no decorator: after ``def``, ``func``,
    ``function``, ``fn`` and modifiers, or before ``=`` for a function assigned to a name.
    """
    for line in lines[span.first - 1 : span.last]:
        if _ANNOTATION.match(line):
            continue
        assigned = _ASSIGNED.match(line)
        if assigned:
            return words_view(assigned.group(1))
        if not HEADER.match(line):
            return None
        head = _RECEIVER.sub("", line).split("(", 1)[0]
        return words_view(_KEYWORD.sub("", head))
    return None


@lru_cache(maxsize=16)
def _split(source: str) -> list[str]:
    return source.splitlines()


def _sourced(
    sides: dict[str, tuple[str, str | None]], lines: Sequence[Line]
) -> Iterator[tuple[str, int, str, str, list[str]]]:
    """Each changed line's (side, number, path, source, source lines), where the side's
    source is known (``sides`` maps ``"old"``/``"new"`` to that side's (path, source))."""
    for side, number, _ in lines:
        path, source = sides.get(side, ("", None))
        if source is not None:
            yield side, number, path, source, _split(source)


def lifecycle_lines(
    sides: dict[str, tuple[str, str | None]], lines: Sequence[Line]
) -> list[tuple[str, int]]:
    """The changed ``lines`` inside a lifecycle function (the innermost named one).

    ``sides`` maps ``"old"``/``"new"`` to that side's (path, source).
    """
    out: list[tuple[str, int]] = []
    for side, number, path, source, split in _sourced(sides, lines):
        for span in enclosing(source, path, number, number):
            name = _name(split, span)
            if name is not None:
                if LIFECYCLE.search(name):
                    out.append((side, number))
                break
    return out


def definition_lines(
    sides: dict[str, tuple[str, str | None]], lines: Sequence[Line]
) -> list[tuple[str, int]]:
    """The changed ``lines`` that are the header of a named function (its ``def`` line).

    In a policy file (``policies/``, ``scopes/``, ``grants/``, ``access/`` ...) the functions
    are the access rules: Laravel and Pundit call a policy's methods by ability name, and a
    Laravel policy's ``before`` that returns ``true`` grants every ability. A method added,
    removed or renamed there changes which rules exist even when its name holds no identity
    word (``update`` becoming ``modify``, a new ``before``), so ``@2`` reads it (decision 0025).
    """
    out: list[tuple[str, int]] = []
    for side, number, path, source, split in _sourced(sides, lines):
        # a header's indentation lies outside its function's node: ask from the next line too
        for probe in (number, number + 1):
            spans = enclosing(source, path, probe, probe)[:1]
            if any(_name(split, s) is not None and _header(split, s) == number for s in spans):
                out.append((side, number))
                break
    return out


def _header(lines: list[str], span: Span) -> int | None:
    """The number of a function's first line that is no decorator or annotation."""
    for number in range(span.first, span.last + 1):
        if not _ANNOTATION.match(lines[number - 1]):
            return number
    return None


def functions_document() -> dict[str, str]:
    """The stage's tables, for the ruleset digest."""
    return {"lifecycle": LIFECYCLE.pattern, "access_definitions": "path.hint.role"}

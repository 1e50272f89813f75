"""``@2``: an exit in a nested function leaves that function, not the one around it (0031).

``code.guard-flow`` reads the functions around a hunk, innermost first, and fires when a check
sits below the hunk in any of them. A function that registers handlers (outline's
``commentTools(server, scopes)``: ``if (canAccess("comments.update", scopes)) {
server.registerTool(..., async () => {...}) }`` several times) then made every edit inside
one handler a change "above" the checks that decide whether the next handlers are registered.

A ``return``, a ``continue``, a changed condition inside a nested function ``inner`` decides
what ``inner`` does; it can only change what the enclosing ``outer`` decides after ``inner``
through a channel, and each channel keeps ``outer``'s checks counted (fail closed):

- ``inner``'s value: unless ``inner`` is only an argument of calls whose value is thrown away
  (an expression statement: ``server.tool(..., async () => ...)``, ``items.forEach(...)``)
  or a declaration (its name is a shared name, below), what it returns reaches ``outer``;
- an exception raised on the new side (``throw``, ``raise``, ``panic``) leaves ``outer`` too;
- shared names: a name that ``inner`` mentions and that a check line of ``outer`` after
  ``inner`` reads (or a line of ``outer`` assigning such a name), when ``outer`` itself
  names it: a closure's flag, a list it fills, an object it mutates. Names only declared in
  sibling handlers (each handler's own ``user``) are not ``outer``'s;
- Ruby, whose blocks (``do ... end``) are not frames (``return`` in one leaves the method),
  and functions no grammar parsed, keep every check;
- a line that moved into ``inner`` from elsewhere (an action arriving above a check) keeps
  them too; a line that moved inside ``inner`` (``stays``) or names nothing (``}``) does not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from tree_sitter import Node

from provenance.classify._guard import _ASSIGN, Matcher, Reading, _lines
from provenance.classify._v2_conditions import CONDITION, CONDITIONS
from provenance.classify.syntax import Span, function_nodes, is_function, language_of
from provenance.models import FileChange

#: Words of an exit that leaves the enclosing function as well (an exception).
_RAISES = re.compile(r"\b(?:throw|raise|panic|abort|die|exit|fatal|fail)\w*\b")
#: Parents through which a function's value reaches a discarded statement (a call argument).
_PASS = frozenset(
    {
        *("arguments", "argument_list", "argument", "keyword_argument", "await_expression"),
        *("await", "call_expression", "call", "parenthesized_expression", "member_expression"),
        *("method_invocation", "invocation_expression", "function_call_expression"),
        *("member_call_expression", "scoped_call_expression", "selector_expression"),
        *("attribute", "nullsafe_member_call_expression"),
    }
)
#: Function nodes that declare a name (the name is then shared with ``outer``, and read so).
_DECLARATIONS = frozenset(
    {"function_declaration", "generator_function_declaration", "function_definition"}
    | {"local_function_statement", "function_item"}
)
_STRING = re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|`(?:\\.|[^`\\])*`")
_NAME = re.compile(r"[A-Za-z_$][\w$]*")
_KEYWORDS = frozenset(
    (
        *("if", "else", "elif", "return", "const", "let", "var", "await", "async", "function"),
        *("new", "this", "self", "true", "false", "null", "undefined", "nil", "None", "True"),
        *("False", "def", "end", "do", "in", "of", "for", "while", "and", "or", "not", "is"),
        *("typeof", "instanceof", "throw", "try", "catch", "finally", "class", "static", "func"),
        *("public", "private", "protected", "void", "string", "number", "boolean", "any"),
    )
)


def reaches(
    source: str,
    path: str,
    side: str,
    first: int,
    count: int,
    inner: Span,
    outer: Span,
    is_check: Callable[[str], bool],
) -> bool:
    """True when the hunk at ``first`` (``count`` lines of ``side``) inside the function
    ``inner`` can change what ``outer`` checks after ``inner`` (the channels above)."""
    if language_of(path) == "ruby" or not inner.parsed or not outer.parsed:
        return True
    nodes = dict(function_nodes(source, path, first, first + count - 1))
    node, around = nodes.get(inner), nodes.get(outer)
    if node is None or around is None or not _discarded(node):
        return True
    lines = _lines(source)
    if side == "new" and _RAISES.search("\n".join(lines[first - 1 : first - 1 + count])):
        return True
    after = lines[inner.last : outer.last]
    at = [n for n, ln in enumerate(after) if is_check(ln)]
    if not at:
        return is_check("\n".join(after))  # a check spread over lines: keep it
    own = _own_lines(around, lines, path)
    read = _names([ln for n in at for ln in after[max(n - 2, 0) : n + 1]])  # and its condition
    read |= _names([ln for ln in own if set(_ASSIGN.findall(ln)) & read])
    return bool(read & _names(lines[inner.first - 1 : inner.last]) & _names(own))


def stays(change: FileChange, first: int, arrived: set[str]) -> bool:
    """True when each line in ``arrived`` (stripped) that arrived at line ``first`` of the new
    side left a function headed like the one it arrived in: a reordering inside one function
    cannot outrun what its enclosing function checks after it."""
    new, old = change.new_source, change.old_source
    if new is None or old is None:
        return False
    around = function_nodes(new, change.path, first, first)
    if not around:
        return False
    head = _lines(new)[around[0][0].first - 1].strip()
    left: dict[str, list[int]] = {}
    at = 0
    for old_start, old_count, _, _ in change.hunks:
        for n, line in enumerate(change.removed[at : at + old_count], old_start):
            left.setdefault(line.strip(), []).append(n)
        at += old_count
    return all(
        any(_head(old, change.old_path, n) == head for n in left.get(line, ())) for line in arrived
    )


def _head(source: str, path: str, line: int) -> str | None:
    """The first line (stripped) of the innermost function around ``line`` of ``source``."""
    around = function_nodes(source, path, line, line)
    return _lines(source)[around[0][0].first - 1].strip() if around else None


def _discarded(node: Node) -> bool:
    """True when the function's value goes only into calls whose value is thrown away."""
    if node.type in _DECLARATIONS:
        return True
    while (parent := node.parent) is not None and parent.type in _PASS:
        node = parent
    return parent is not None and parent.type == "expression_statement"


def _own_lines(outer: Node, lines: list[str], path: str) -> list[str]:
    """``outer``'s lines with the functions nested in it blanked (columns are bytes: a line
    with other than ASCII before a function keeps a little more of it, never less)."""
    gaps: dict[int, list[tuple[int, int]]] = {}
    stack = list(outer.children)
    while stack:
        node = stack.pop()
        if not is_function(node, path):
            stack.extend(node.children)
            continue
        (top, left), (bottom, right) = node.start_point, node.end_point
        for row in range(top, bottom + 1):
            start = left if row == top else 0
            gaps.setdefault(row, []).append((start, right if row == bottom else 1 << 30))
    first, last = outer.start_point[0], min(outer.end_point[0], len(lines) - 1)
    own = []
    for row in range(first, last + 1):
        line = lines[row]
        for start, end in gaps.get(row, ()):
            line = line[:start] + " " * max(min(end, len(line)) - start, 0) + line[end:]
        own.append(line)
    return own


def _names(lines: Sequence[str]) -> set[str]:
    """The names a text reads (string literals and keywords left out)."""
    return {n for ln in lines for n in _NAME.findall(_STRING.sub(" ", ln))} - _KEYWORDS


@lru_cache(maxsize=64)
def framed(guards: Matcher) -> Reading:
    """``guards`` read with ``@2``'s conditions and frames: one object per matcher."""
    return Reading(guards, CONDITION, CONDITIONS, reaches, stays)


def frames_document() -> dict[str, str]:
    """What the frames rule reads, for ``@2``'s ruleset digest."""
    return {
        "raises": _RAISES.pattern,
        "passes": " ".join(sorted(_PASS)),
        "declarations": " ".join(sorted(_DECLARATIONS)),
        "keywords": " ".join(sorted(_KEYWORDS)),
    }

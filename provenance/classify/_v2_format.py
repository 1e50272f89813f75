"""Python string formatting read as one form: ``"a %s" % x``, ``f"a {x}"``, ``"a {}".format(x)``.

The three spellings build the same text from the same literal pieces and the same expressions,
evaluated in the same order, when every placeholder is the plain conversion (``%s``, ``{}``):
``str(x)`` for ``%s``, ``format(x, "")`` for the other two, which is ``str(x)`` for every
built-in type and every class that does not override ``__format__``. So a hunk that only
rewrites one into another (a ``%``-format turned into an f-string) is neutral; the expressions
are still compared token by token, so ``f"Bearer {key}"`` for ``"Bearer %s" % token`` counts.

Anything else stays a change (fail closed): other conversions (``%d``, ``%r``, ``{x!r}``),
format specs (``{x:>8}``), ``=`` in f-strings, named or numbered fields (``%(k)s``, ``{0}``),
keyword or starred arguments to ``format``, bytes, escapes, implicitly concatenated strings,
or a number of expressions that differs from the placeholders. Known residual differences,
accepted and stated in decision 0019: ``"%s" % x`` formats a tuple ``x`` element-wise (or
raises), and a class overriding ``__format__`` differently from ``__str__`` (enums mixing in
``int`` before Python 3.12) prints differently under ``%s``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from tree_sitter import Node

#: A ``%`` conversion: ``%%`` is a literal percent sign, ``%s`` a slot; anything else refuses.
_PERCENT = re.compile(r"%(.?)", re.DOTALL)
#: A brace in ``str.format``: ``{{``/``}}`` are literal, ``{}`` a slot; anything else refuses.
_BRACES = re.compile(r"\{\{|\}\}|\{\}|[{}]")

Text = Callable[[Node], str]


def formatted(node: Node, text: Text) -> tuple[str, list[Node]] | None:
    """The literal pieces (as one key) and the expressions of a simple formatting expression."""
    if node.type == "binary_operator":
        return _percent(node, text)
    if node.type == "call":
        return _format_call(node, text)
    if node.type == "string":
        return _fstring(node, text)
    return None


def _key(pieces: list[str], arguments: list[Node]) -> tuple[str, list[Node]] | None:
    if len(pieces) != len(arguments) + 1:
        return None
    return json.dumps(pieces), arguments


def _plain(node: Node, text: Text) -> str | None:
    """The content of a plain string literal (prefix ``u``/``r`` or none, no escapes)."""
    if node.type != "string":
        return None
    parts = [c for c in node.children if c.type not in ("string_start", "string_end")]
    start = node.children[0] if node.children else None
    if start is None or start.type != "string_start" or not _prefix_ok(text(start), "ur"):
        return None
    if any(p.type != "string_content" or p.child_count for p in parts):
        return None
    content = "".join(text(p) for p in parts)
    return None if "\\" in content else content


def _prefix_ok(start: str, allowed: str) -> bool:
    return all(c in allowed for c in start.rstrip("'\"").lower())


def _percent(node: Node, text: Text) -> tuple[str, list[Node]] | None:
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    operator = node.child_by_field_name("operator")
    if left is None or right is None or operator is None or text(operator) != "%":
        return None
    content = _plain(left, text)
    if content is None:
        return None
    pieces, current = [], []
    last = 0
    for match in _PERCENT.finditer(content):
        current.append(content[last : match.start()])
        last = match.end()
        if match.group(1) == "%":
            current.append("%")
        elif match.group(1) == "s":
            pieces.append("".join(current))
            current = []
        else:
            return None
    pieces.append("".join(current) + content[last:])
    if right.type == "tuple":
        arguments = [c for c in right.children if c.is_named and "comment" not in c.type]
    elif right.type in ("dictionary", "list_splat", "parenthesized_expression"):
        return None  # a mapping, or parentheses that may hold a tuple: not shown equal
    else:
        arguments = [right]
    if any(a.type in ("list_splat", "dictionary_splat") for a in arguments):
        return None
    return _key(pieces, arguments)


def _format_call(node: Node, text: Text) -> tuple[str, list[Node]] | None:
    function, arguments = (
        node.child_by_field_name("function"),
        node.child_by_field_name("arguments"),
    )
    if function is None or arguments is None or function.type != "attribute":
        return None
    receiver, name = (
        function.child_by_field_name("object"),
        function.child_by_field_name("attribute"),
    )
    if receiver is None or name is None or text(name) != "format":
        return None
    content = _plain(receiver, text)
    if content is None or arguments.type != "argument_list":
        return None
    values = [c for c in arguments.children if c.is_named and "comment" not in c.type]
    if any(v.type in ("keyword_argument", "list_splat", "dictionary_splat") for v in values):
        return None
    pieces, current, last = [], [], 0
    for match in _BRACES.finditer(content):
        current.append(content[last : match.start()])
        last = match.end()
        brace = match.group(0)
        if brace in ("{{", "}}"):
            current.append(brace[0])
        elif brace == "{}":
            pieces.append("".join(current))
            current = []
        else:
            return None
    pieces.append("".join(current) + content[last:])
    return _key(pieces, values)


def _fstring(node: Node, text: Text) -> tuple[str, list[Node]] | None:
    start = node.children[0] if node.children else None
    if start is None or start.type != "string_start":
        return None
    prefix = text(start).rstrip("'\"").lower()
    if "f" not in prefix or not _prefix_ok(text(start), "fr"):
        return None
    pieces, current, arguments = [], [], []
    for child in node.children[1:]:
        if child.type == "string_end":
            break
        if child.type == "string_content":
            raw = text(child)
            if "\\" in raw or any(c.type != "escape_interpolation" for c in child.children):
                return None
            current.append(raw.replace("{{", "{").replace("}}", "}"))
        elif child.type == "interpolation":
            inner = [c for c in child.children if c.type not in ("{", "}")]
            if len(inner) != 1 or not inner[0].is_named or "comment" in inner[0].type:
                return None  # a conversion (!r), a format spec, ``=`` or a comment
            pieces.append("".join(current))
            current = []
            arguments.append(inner[0])
        else:
            return None
    if not arguments:
        return None  # an f-string without fields is a plain string: read as one
    pieces.append("".join(current))
    return _key(pieces, arguments)

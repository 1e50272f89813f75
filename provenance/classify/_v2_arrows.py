"""JavaScript arrow functions whose block body says what an expression body says.

``(x) => { return f(x); }`` and ``(x) => f(x)`` are the same function: an expression body is
defined as returning its value. ``(x) => { f(x); }`` returns ``undefined`` instead, which
changes nothing only where the result is ignored: the callback of ``forEach`` (arrays, maps,
sets, node lists and typed arrays all call it for its effects and drop what it returns). So a
block holding only ``return E;``, or, for a ``forEach`` callback, only the statement ``E;``,
is read as the expression body ``E`` (decision 0019). Any other block, or a callback of another
method (``map``, ``filter``, ``some``: they read the result), is read as written.
"""

from __future__ import annotations

from tree_sitter import Node


def expression_body(arrow: Node) -> tuple[Node, Node] | None:
    """(block body, the expression it is read as) for an arrow function, else ``None``."""
    body = arrow.child_by_field_name("body")
    if body is None or body.type != "statement_block":
        return None
    statements = [c for c in body.children if c.is_named and "comment" not in c.type]
    if len(statements) != 1:
        return None
    inner = [c for c in statements[0].children if c.is_named and "comment" not in c.type]
    if len(inner) != 1 or any("comment" in c.type for c in body.children):
        return None  # a comment in the block is kept where it is: the block is read as is
    statement = statements[0].type
    if statement == "return_statement" or (
        statement == "expression_statement" and _for_each_callback(arrow)
    ):
        return body, inner[0]
    return None


def _for_each_callback(arrow: Node) -> bool:
    """True when ``arrow`` is the first argument of a call to a method named ``forEach``."""
    arguments = arrow.parent
    call = arguments.parent if arguments is not None else None
    if arguments is None or call is None or call.type != "call_expression":
        return False
    named = [c for c in arguments.children if c.is_named and "comment" not in c.type]
    callee = call.child_by_field_name("function")
    if not named or named[0].start_byte != arrow.start_byte or callee is None:
        return False
    prop = callee.child_by_field_name("property") if callee.type == "member_expression" else None
    return prop is not None and prop.text == b"forEach"

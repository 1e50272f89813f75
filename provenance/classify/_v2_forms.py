"""Spellings a language defines as the same program, read as one (decision 0019).

- JavaScript arrow functions: ``(x) => { return E; }`` is ``(x) => E`` (an expression body is
  defined as returning its value). ``(x) => { E; }`` returns ``undefined`` instead, and no
  callee can be shown to ignore that (Immutable.js's ``forEach`` stops when a callback returns
  ``false``): it is read as written, as is any other block.
- TypeScript type assertions (``x as T``, ``x satisfies T``, ``x!``, ``<T>x``) are erased
  when compiled: read as ``x``.
- Ruby hash keys: ``:name => v`` and ``name: v`` build the same symbol key (in a hash and as
  keyword arguments alike).
- An exception binding nothing reads: ``rescue Foo => e`` (Ruby), ``except Foo as e``
  (Python) and ``catch (e)`` (JavaScript) are ``rescue Foo``, ``except Foo`` and ``catch``
  when the name occurs nowhere else in the file's syntax tree (comments do not count,
  interpolations and property names do).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from tree_sitter import Node

#: Node types of TypeScript assertions, erased by the compiler.
_ASSERTIONS = frozenset(
    {"as_expression", "satisfies_expression", "non_null_expression", "type_assertion"}
)
_SYMBOL = re.compile(r"[A-Za-z_]\w*[?!]?")
_TYPESCRIPT = frozenset({"typescript", "tsx"})
_JAVASCRIPT = frozenset({"javascript"}) | _TYPESCRIPT

Unused = Callable[[Node], bool]


def expression_body(language: str, arrow: Node) -> tuple[Node, Node] | None:
    """(block body, the expression it is read as) for an arrow function, else ``None``."""
    if language not in _JAVASCRIPT or arrow.type != "arrow_function":
        return None
    body = arrow.child_by_field_name("body")
    if body is None or body.type != "statement_block":
        return None
    if any("comment" in c.type for c in body.children):
        return None  # a comment in the block stays where it is: the block is read as is
    statements = [c for c in body.children if c.is_named]
    if len(statements) != 1:
        return None
    inner = [c for c in statements[0].children if c.is_named and "comment" not in c.type]
    if len(inner) != 1:
        return None
    if statements[0].type == "return_statement":
        return body, inner[0]
    return None


def transparent(language: str, node: Node, unused: Unused) -> Node | None:
    """The one child ``node`` is read as (an erased assertion, ``Foo as e`` with ``e``
    unread), else ``None``."""
    if language in _TYPESCRIPT and node.type in _ASSERTIONS:
        named = [c for c in node.children if c.is_named and c.type != "type_arguments"]
        return named[0] if named and "comment" not in named[0].type else None
    if language == "python" and node.type == "as_pattern":
        parent = node.parent
        target = node.child_by_field_name("alias")
        if parent is None or parent.type != "except_clause" or target is None:
            return None
        names = [c for c in target.children if c.is_named]
        value = node.children[0] if node.children else None
        if len(names) == 1 and names[0].type == "identifier" and unused(names[0]):
            return value
    return None


def dropped(language: str, node: Node, unused: Unused) -> bool:
    """True for the parts of an exception binding nothing reads (Ruby, JavaScript)."""
    if language == "ruby" and node.type == "exception_variable":
        names = [c for c in node.children if c.is_named]
        return len(names) == 1 and names[0].type == "identifier" and unused(names[0])
    if language not in _JAVASCRIPT or node.type not in ("(", ")", "identifier"):
        return False
    parent = node.parent
    if parent is not None and parent.type == "catch_clause":
        parameter = parent.child_by_field_name("parameter")
        if parameter is None or parameter.type != "identifier" or not unused(parameter):
            return False
        return node.type in ("(", ")") or node.start_byte == parameter.start_byte
    return False


def symbol_key(language: str, pair: Node, text: Callable[[Node], str]) -> str | None:
    """The symbol a Ruby hash pair's key names (``:a => 1`` and ``a: 1``), else ``None``."""
    if language != "ruby" or pair.type != "pair":
        return None
    key = pair.child_by_field_name("key")
    if key is None or pair.child_by_field_name("value") is None:
        return None  # ``{x:}`` (value omitted) is read as written
    separator = [c for c in pair.children if not c.is_named]
    words = text(key)
    if key.type == "simple_symbol" and [text(s) for s in separator] == ["=>"]:
        name = words[1:]
    elif key.type == "hash_key_symbol" and [text(s) for s in separator] == [":"]:
        name = words
    else:
        return None
    return name if _SYMBOL.fullmatch(name) else None


def identifier_counts(root: Node) -> Counter[bytes]:
    """How often each word occurs as a leaf of a tree, comments left out.

    Every kind of leaf counts, not only identifiers: JavaScript's shorthand property
    ``{ err }`` reads the binding through a ``shorthand_property_identifier``, and counting
    more leaves only keeps more bindings (fail closed).
    """
    counts: Counter[bytes] = Counter()
    stack = [root]
    while stack:
        node = stack.pop()
        if node.child_count == 0:
            if "comment" not in node.type and node.text is not None:
                counts[node.text] += 1
        elif "comment" not in node.type:
            stack.extend(node.children)
    return counts

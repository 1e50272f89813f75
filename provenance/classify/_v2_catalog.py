"""Translation catalogues written as code: ``lang/de/auth.php`` returning an array of strings.

Laravel, Symfony and many JavaScript and Ruby applications keep UI strings as a program that
only returns a table of text (``return ['failed' => 'These credentials ...'];``). Such a file
decides nothing, so in a translation folder (THREATS.md G46: only catalogues are inert there)
``@2`` makes it inert when *both* sides parse, cleanly, as nothing but a table of literal
strings: keys and values that are plain strings (no interpolation), numbers as keys, nested
tables and lists of strings, and string concatenation. A call, a variable, a condition or any
other statement anywhere makes it code again.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from provenance.classify._catalog import is_locale
from provenance.classify.syntax import MAX_PARSE_BYTES, language_of, parse

#: Node types of plain strings and their allowed (non-interpolating) parts, per grammar.
_STRINGS = frozenset(
    {"string", "encapsed_string", "template_string", "string_literal", "interpreted_string_literal"}
)
_STRING_PARTS = frozenset(
    {
        "string_content", "string_fragment", "escape_sequence", "string_start", "string_end",
        "string_value",
    }
)  # fmt: skip
_TABLES = frozenset({"array_creation_expression", "object", "hash", "dictionary", "array", "list"})
_ENTRIES = frozenset({"array_element_initializer", "pair"})
_KEYS = frozenset({"property_identifier", "hash_key_symbol", "simple_symbol", "integer", "number"})
_CONCAT = frozenset({"binary_expression"})
_NOISE = frozenset({"comment", "php_tag", "text_interpolation"})


#: A BCP 47 variant subtag after the language (``de_informal``, ``sl-rozaj``), which ``@1``'s
#: locale codes do not include.
_VARIANT = re.compile(r"([a-z]{2,3})(?:[-_][A-Za-z0-9]{5,8})+", re.ASCII)


def _locale(name: str) -> bool:
    """A locale code, also with BCP 47 variant subtags (``de_informal``)."""
    m = _VARIANT.fullmatch(name)
    return is_locale(name) or (m is not None and is_locale(m.group(1)))


def named_by_locale(path: str) -> bool:
    """True when the file name, one of its dotted parts, or its folder is a locale code."""
    parts = path.replace("\\", "/").split("/")
    stem = parts[-1].rsplit(".", 1)[0]
    return any(_locale(c) for c in (stem, *stem.split("."), *parts[-2:-1]))


def code_catalogue(path: str, source: str | None) -> bool:
    """True when ``source`` (at ``path``) is only a table of literal strings."""
    language = language_of(path)
    if source is None or language not in ("php", "javascript", "typescript", "ruby", "python"):
        return False
    data = source.encode("utf-8", "surrogateescape")
    if len(data) > MAX_PARSE_BYTES:
        return False
    root = parse(data, language).root_node
    if root.has_error:
        return False
    statements = [c for c in root.children if c.type not in _NOISE]
    if len(statements) != 1:
        return False
    table = _returned_table(statements[0])
    return table is not None and _literal(table)


def _returned_table(statement: Node) -> Node | None:
    """The table a file's one statement returns, exports or assigns (``None``: it does not)."""
    named = [c for c in statement.children if c.is_named and c.type != "comment"]
    kind = statement.type
    if kind in _TABLES:
        return statement  # Ruby: the file's value is the hash itself
    if kind in ("return_statement", "export_statement") and len(named) == 1:
        return named[0] if named[0].type in _TABLES else None
    if kind == "expression_statement" and len(named) == 1:
        return _returned_table(named[0])
    if kind in ("assignment", "assignment_expression") and len(named) == 2:
        return named[1] if named[1].type in _TABLES else None
    return None


def _literal(node: Node, depth: int = 0) -> bool:
    """True when ``node`` is a plain string, a number key, or a table of those."""
    if depth > 32:
        return False
    kind = node.type
    if kind in _STRINGS:
        return all(c.type in _STRING_PARTS or not c.is_named for c in node.children)
    if kind in _CONCAT:
        operator = node.child_by_field_name("operator")
        return (
            operator is not None
            and operator.type in (".", "+")
            and all(_literal(c, depth + 1) for c in node.children if c.is_named)
        )
    if kind in _TABLES:
        return all(_literal(c, depth + 1) for c in node.children if c.is_named)
    if kind in _ENTRIES:
        parts = [c for c in node.children if c.is_named and c.type != "comment"]
        return all(c.type in _KEYS or _literal(c, depth + 1) for c in parts)
    return kind == "comment"

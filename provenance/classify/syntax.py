"""Parse a source blob and find the function or method that encloses some lines.

A zero-context diff shows an added ``return`` but not that it sits above an ownership check
(THREATS.md G45); rules that need the enclosing function ask here. Parsing uses tree-sitter
and the grammars its project publishes for Python, Ruby, PHP, Go, JavaScript, TypeScript (and
TSX), Java, C# and Rust, all compiled into their wheels (nothing is fetched at run time).
Other languages, and sources a grammar cannot place lines in, get a textual fallback: the
lines from the nearest header-looking line above to the next one below, bounded.

Pure: text in, line numbers out. Parsers are built once per process and language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import import_module

from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree

from provenance.classify._memo import SizedLRU

#: Function-like node types per grammar (innermost one containing the lines wins).
_FUNCTIONS: dict[str, frozenset[str]] = {
    "python": frozenset({"function_definition", "lambda"}),
    "ruby": frozenset({"method", "singleton_method", "lambda", "do_block", "block"}),
    "php": frozenset(
        {"function_definition", "method_declaration", "anonymous_function", "arrow_function"}
    ),
    "go": frozenset({"function_declaration", "method_declaration", "func_literal"}),
    "javascript": frozenset(
        {
            "function_declaration",
            "function_expression",
            "function",
            "arrow_function",
            "method_definition",
            "generator_function_declaration",
        }
    ),
    "java": frozenset({"method_declaration", "constructor_declaration", "lambda_expression"}),
    "csharp": frozenset(
        {
            "method_declaration",
            "constructor_declaration",
            "local_function_statement",
            "lambda_expression",
            "accessor_declaration",
        }
    ),
    "rust": frozenset({"function_item", "closure_expression"}),
}
_FUNCTIONS["typescript"] = _FUNCTIONS["tsx"] = _FUNCTIONS["javascript"]
#: Wrappers that belong to the function they wrap (decorators, annotations, attributes).
_WRAPPERS = frozenset({"decorated_definition"})

#: (module, attribute) of each grammar's language function.
_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "php": ("tree_sitter_php", "language_php"),
    "go": ("tree_sitter_go", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "java": ("tree_sitter_java", "language"),
    "csharp": ("tree_sitter_c_sharp", "language"),
    "rust": ("tree_sitter_rust", "language"),
}
_EXTENSIONS: dict[str, str] = {
    **dict.fromkeys((".py", ".pyi", ".pyw"), "python"),
    **dict.fromkeys((".rb", ".rake", ".ru"), "ruby"),
    ".php": "php",
    ".go": "go",
    **dict.fromkeys((".js", ".jsx", ".mjs", ".cjs"), "javascript"),
    **dict.fromkeys((".ts", ".mts", ".cts"), "typescript"),
    ".tsx": "tsx",
    ".java": "java",
    ".cs": "csharp",
    ".rs": "rust",
}
#: Bounds: sources larger than this are not parsed; a fallback window is at most this tall.
MAX_PARSE_BYTES = 1_000_000
MAX_WINDOW = 200
HEADER = re.compile(
    r"^\s*(?:(?:export\s+)?(?:async\s+)?(?:def|func|function|fn|fun|sub|procedure|method)\b"
    r"|(?:public|private|protected|internal|static|override)\b[^=;]*\(|@\w+)"
)


@dataclass(frozen=True)
class Span:
    """Lines ``first``..``last`` (1-based, inclusive) of a function; ``parsed`` if by a grammar."""

    first: int
    last: int
    parsed: bool


def language_of(path: str) -> str | None:
    """The grammar name for a path's extension, or ``None``."""
    dot = path.rfind(".")
    return _EXTENSIONS.get(path[dot:].lower()) if dot >= 0 else None


@cache
def _parser(language: str) -> Parser:
    module, attr = _GRAMMARS[language]
    factory: Callable[[], object] = getattr(import_module(module), attr)
    return Parser(Language(factory()))


def enclosing(source: str, path: str, first: int, last: int) -> list[Span]:
    """Functions around lines ``first``..``last`` of ``source`` (1-based), innermost first.

    Uses the grammar for ``path`` when there is one (an empty list: the lines are at module
    level); otherwise the textual fallback (empty when it finds no header line).
    """
    first, last = max(first, 1), max(last, first, 1)
    language = language_of(path)
    data = source.encode("utf-8", "surrogateescape")
    if language is not None and len(data) <= MAX_PARSE_BYTES:
        return _parsed(data, language, first, last)
    span = fallback(source.splitlines(), first, last)
    return [span] if span is not None else []


#: Trees of recent blobs, by content, for at most this many bytes of source (a tree takes
#: about ten times its source): a blob is parsed once while its hunks, the stages of ``@2``
#: and a later commit (whose old side it is) ask.
_TREES: SizedLRU[tuple[bytes, str], Tree] = SizedLRU(8 << 20, lambda key: len(key[0]))


def parse(data: bytes, language: str) -> Tree:
    """The syntax tree of a blob (remembered by content: see ``_TREES``)."""
    return _TREES.get((data, language), lambda: _parser(language).parse(data))


@cache
def _comment_query(language: str) -> Query:
    """A query capturing every comment node of a grammar."""
    grammar = _parser(language).language
    assert grammar is not None
    kinds = {
        grammar.node_kind_for_id(i)
        for i in range(grammar.node_kind_count)
        if grammar.node_kind_is_named(i) and grammar.node_kind_is_visible(i)
    }
    names = sorted(k for k in kinds if k and k.endswith("comment"))
    return Query(grammar, " ".join(f"({name}) @c" for name in names))


@lru_cache(maxsize=16)
def without_comments(source: str, language: str) -> str:
    """``source`` with every comment blanked (line breaks kept, so line numbers hold)."""
    data = source.encode("utf-8", "surrogateescape")
    if len(data) > MAX_PARSE_BYTES:
        return source
    captures = QueryCursor(_comment_query(language)).captures(parse(data, language).root_node)
    spans = sorted((n.start_byte, n.end_byte) for nodes in captures.values() for n in nodes)
    if not spans:
        return source
    out = bytearray()
    at = 0
    for start, end in spans:
        if start < at:
            continue
        out += data[at:start]
        out += bytes(b if b == 0x0A else 0x20 for b in data[start:end])
        at = end
    out += data[at:]
    return out.decode("utf-8", "surrogateescape")


def _parsed(data: bytes, language: str, first: int, last: int) -> list[Span]:
    return [span for span, _ in _functions(data, language, first, last)]


def function_nodes(source: str, path: str, first: int, last: int) -> list[tuple[Span, Node]]:
    """``enclosing`` with each function's syntax node, innermost first; empty when ``path``
    has no grammar or the source is too large to parse (no textual fallback here)."""
    language = language_of(path)
    data = source.encode("utf-8", "surrogateescape")
    if language is None or len(data) > MAX_PARSE_BYTES:
        return []
    return _functions(data, language, max(first, 1), max(last, first, 1))


def is_function(node: Node, path: str) -> bool:
    """True when ``node`` is a function-like node of ``path``'s grammar."""
    language = language_of(path)
    return language is not None and node.type in _FUNCTIONS[language]


def _functions(data: bytes, language: str, first: int, last: int) -> list[tuple[Span, Node]]:
    tree = parse(data, language)
    kinds = _FUNCTIONS[language]
    node: Node | None = tree.root_node.descendant_for_point_range((first - 1, 0), (last - 1, 0))
    found = []
    while node is not None:
        start, end = node.start_point[0] + 1, node.end_point[0] + 1
        if node.type in kinds and start <= first and end >= last:
            parent = node.parent
            if parent is not None and parent.type in _WRAPPERS:
                start = parent.start_point[0] + 1  # decorators belong to the function
            found.append((Span(start, end, True), node))
        node = node.parent
    return found


def fallback(lines: list[str], first: int, last: int) -> Span | None:
    """From the nearest header-looking line at or above ``first`` to the line before the next.

    ``None`` when no header is found within ``MAX_WINDOW`` lines above.
    """
    top = None
    for n in range(min(first, len(lines)), max(first - MAX_WINDOW, 0), -1):
        if HEADER.match(lines[n - 1]):
            top = n
            break
    if top is None:
        return None
    end = min(len(lines), top + MAX_WINDOW)
    bottom = end
    for n in range(max(last, top) + 1, end + 1):
        if HEADER.match(lines[n - 1]):
            bottom = n - 1
            break
    return Span(top, max(bottom, top), False)

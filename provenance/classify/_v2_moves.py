"""Definitions moved verbatim within a commit: from one file to another, or within one file.

Moving a view, a form or a helper to another module, whole and unchanged, changes nothing it
decides: its decorators, checks and body go with it, and the code that now points at it (a
route, an import) is judged where it changed. So a whole definition (function, method or
class, with its decorators) whose tokens (``_v2_tokens``: comments and formatting set aside)
are removed in one place and added in another place of the same commit is not read again.
Import statements that moved with it are set aside too: the same import removed in one file
and added in another, or added to a file that received moved definitions while the file they
came from already imported it.

A module-level function may be renamed on the way (``add_telegram`` becoming ``add`` in its
own module): callers of the old name fail, and callers of the new one are judged. A method's
name is kept, since renaming one can stop it overriding a check. A definition that changed
otherwise (a decorator dropped, a check edited) has other tokens and is judged like any other
change, as are statements moved between functions: where a statement runs decides what it
guards.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from tree_sitter import Node

from provenance.classify._locate import numbered
from provenance.classify._v2_tokens import GRAMMARS, Key, Tokenizer
from provenance.classify.syntax import MAX_PARSE_BYTES, language_of, parse
from provenance.models import FileChange

#: Node types that are whole definitions, per grammar.
DEFINITIONS: dict[str, frozenset[str]] = {
    "python": frozenset({"function_definition", "class_definition", "decorated_definition"}),
    "ruby": frozenset({"method", "singleton_method", "class", "module"}),
    "php": frozenset(
        {"function_definition", "method_declaration", "class_declaration", "trait_declaration"}
    ),
    "go": frozenset({"function_declaration", "method_declaration", "type_declaration"}),
    "javascript": frozenset(
        {"function_declaration", "class_declaration", "method_definition", "export_statement"}
    ),
    "java": frozenset({"method_declaration", "class_declaration", "constructor_declaration"}),
    "csharp": frozenset({"method_declaration", "class_declaration", "constructor_declaration"}),
    "rust": frozenset({"function_item", "impl_item", "struct_item", "enum_item"}),
}
DEFINITIONS["typescript"] = DEFINITIONS["tsx"] = DEFINITIONS["javascript"] | frozenset(
    {"interface_declaration", "type_alias_declaration"}
)
#: Definitions shorter than this many lines are not matched (``pass``-sized bodies repeat).
MIN_LINES = 3


@dataclass
class _Side:
    """One side of one changed file: its definitions and imports inside the changed lines."""

    path: str
    side: str
    definitions: list[tuple[tuple[Key, ...], range]] = field(default_factory=list)
    imports: list[tuple[str, range]] = field(default_factory=list)
    #: line spans of every whole definition found (read or not)
    spans: list[range] = field(default_factory=list)
    #: every import of this side's whole source (what a move source already imported)
    all_imports: set[str] = field(default_factory=set)


def moved_lines(changes: Sequence[FileChange]) -> dict[tuple[str, str], set[int]]:
    """(path, side) -> line numbers of definitions and imports that only moved in the commit."""
    candidates = [c for c in changes if _blocks(c)]
    if not {side for c in candidates for side in _blocks(c)} >= {"old", "new"}:
        return {}  # a move needs lines removed somewhere and lines added somewhere
    try:
        olds = [s for c in candidates for s in _sides(c, "old", None)]
        sizes = {len(span) for s in olds for span in s.spans}
        news = [s for c in candidates for s in _sides(c, "new", sizes)]
    except RecursionError:
        return {}  # nesting deeper than the walk goes: no move is shown
    sides = olds + news
    removed = {key for s in sides if s.side == "old" for key, _ in s.definitions}
    added = {key for s in sides if s.side == "new" for key, _ in s.definitions}
    moved = removed & added
    if not moved:
        return {}
    out: dict[tuple[str, str], set[int]] = {}
    sources = [s for s in sides if s.side == "old" and any(k in moved for k, _ in s.definitions)]
    carried = set().union(*(s.all_imports for s in sources)) if sources else set()
    gone = {text for s in sides if s.side == "old" for text, _ in s.imports}
    came = {text for s in sides if s.side == "new" for text, _ in s.imports}
    for s in sides:
        lines = out.setdefault((s.path, s.side), set())
        for key, span in s.definitions:
            if key in moved:
                lines.update(span)
        receives = s.side == "new" and any(k in moved for k, _ in s.definitions)
        for text, span in s.imports:
            other = came if s.side == "old" else gone
            if text in other or (receives and text in carried):
                lines.update(span)
    return {k: v for k, v in out.items() if v}


def _blocks(change: FileChange) -> set[str]:
    """The sides of a code change with a hunk of at least ``MIN_LINES`` lines on that side."""
    if change.old_mode == "000000" or change.new_mode == "000000":
        return {"new" if change.old_mode == "000000" else "old"}
    out = set()
    for _, old_count, _, new_count in change.hunks:
        if old_count >= MIN_LINES:
            out.add("old")
        if new_count >= MIN_LINES:
            out.add("new")
    return out


def _sides(change: FileChange, which: str, sizes: set[int] | None) -> Iterator[_Side]:
    """Side ``which`` of a code change, with its whole definitions within the changed lines.

    With ``sizes``, only definitions of those line counts are read (a moved definition keeps
    its length; reading the others would be wasted).
    """
    language = language_of(change.path)
    if language not in GRAMMARS or language not in DEFINITIONS:
        return
    lines = numbered(change)
    if (not lines and change.hunks) or not (change.added or change.removed):
        return  # hunks that do not match the lines, or no line changed (a mode change)
    for side, path, source, mode in (
        ("old", change.old_path, change.old_source, change.old_mode),
        ("new", change.path, change.new_source, change.new_mode),
    ):
        if side != which or source is None or mode == "000000" or language_of(path) != language:
            continue
        data = source.encode("utf-8", "surrogateescape")
        if len(data) > MAX_PARSE_BYTES:
            continue
        tree = parse(data, language)
        if tree.root_node.has_error:
            continue
        found = _Side(path, side)
        tokenizer = Tokenizer(language, data)
        whole = change.hunks == () or (side == "new" and change.old_mode == "000000")
        whole = whole or (side == "old" and change.new_mode == "000000")
        changed = None if whole else {n for s, n, _ in lines if s == side}
        _collect(tree.root_node, language, tokenizer, changed, found, sizes)
        yield found


def _collect(
    root: Node,
    language: str,
    tokenizer: Tokenizer,
    changed: set[int] | None,
    found: _Side,
    sizes: set[int] | None,
) -> None:
    """Outermost definitions and imports whose lines are all ``changed`` (``None``: all), and
    the file's top-level imports. Only nodes that overlap changed lines are walked."""

    def inside(span: range) -> bool:
        return changed is None or changed.issuperset(span)

    def overlaps(span: range) -> bool:
        return changed is None or not changed.isdisjoint(span)

    kinds = DEFINITIONS[language]
    imports = GRAMMARS[language].imports
    for node in _top(root, imports):
        found.all_imports.add(" ".join(tokenizer.text(node).split()))
    stack = [root]
    while stack:
        node = stack.pop()
        span = range(node.start_point[0] + 1, node.end_point[0] + 2)
        if node is not root and not overlaps(span):
            continue
        if node.type in imports:
            if inside(span):
                found.imports.append((" ".join(tokenizer.text(node).split()), span))
            continue
        if node.type in kinds and len(span) >= MIN_LINES and inside(span):
            found.spans.append(span)
            if sizes is not None and len(span) not in sizes:
                continue
            name = _module_function_name(node)
            if name is not None:
                tokenizer.renamed[name.start_byte] = "<name>"
            tokens = tokenizer.tokens(_wrapper(node), [(span.start, span.stop - 1)])
            found.definitions.append((tuple(tokens.keys), span))
            continue
        stack.extend(node.children)


def _top(root: Node, imports: frozenset[str], depth: int = 3) -> Iterator[Node]:
    """Import statements near the top of the tree (inside a namespace or import group)."""
    for child in root.children:
        if child.type in imports:
            yield child
        elif depth > 1 and child.child_count and child.type not in _NOT_IMPORT_HOLDERS:
            yield from _top(child, imports, depth - 1)


#: Nodes that hold no imports worth reading (bodies of functions and classes).
_NOT_IMPORT_HOLDERS = frozenset().union(*DEFINITIONS.values())


#: Containers whose functions are module-level (their names are bindings, not overrides).
_MODULES = frozenset({"module", "program", "source_file", "compilation_unit"})
_FUNCTIONS = frozenset({"function_definition", "function_declaration", "function_item"})


def _module_function_name(node: Node) -> Node | None:
    """The name of a module-level function (decorated or not): a move may rename it.

    Code that called it by its old name now fails, and what calls the new name is judged
    where it changed. A method's name is kept: renaming one can stop it overriding a check.
    """
    function = node
    if node.type == "decorated_definition":
        function = node.child_by_field_name("definition") or node
    parent = node.parent
    if function.type not in _FUNCTIONS or parent is None or parent.type not in _MODULES:
        return None
    return function.child_by_field_name("name")


def _wrapper(node: Node) -> Node:
    """A parent holding only this definition, so tokens are keyed from the definition down."""
    return node.parent if node.parent is not None else node

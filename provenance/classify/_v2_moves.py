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

In Python a module function may also become a method, or a method a module function, under
any name (decision 0019): a method's body resolves free names as a module function's does
(the class scope is skipped), so the same body tokens behind a leading parameter the body
never reads (``self``) decide the same. Undecorated methods only; in Ruby, where bare names
resolve on ``self``, and in the other languages, the method is judged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from tree_sitter import Node

from provenance.classify._locate import numbered
from provenance.classify._v2_nodes import leaves
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
    #: keys of the module-level functions among ``definitions``
    functions: set[tuple[Key, ...]] = field(default_factory=set)
    #: Python methods read as module functions (``_nested``), with their spans
    as_functions: list[tuple[tuple[Key, ...], range]] = field(default_factory=list)


def moved_lines(changes: Sequence[FileChange]) -> dict[tuple[str, str], set[int]]:
    """(path, side) -> line numbers of definitions and imports that only moved in the commit."""
    candidates = [c for c in changes if _blocks(c)]
    if not {side for c in candidates for side in _blocks(c)} >= {"old", "new"}:
        return {}  # a move needs lines removed somewhere and lines added somewhere
    try:
        olds = [s for c in candidates for s in _sides(c, "old", None)]
        sizes = {len(span) for s in olds for span in s.spans}
        methods = any(s.functions for s in olds)  # a function can only become a method then
        news = [s for c in candidates for s in _sides(c, "new", sizes, methods)]
    except RecursionError:
        return {}  # nesting deeper than the walk goes: no move is shown
    sides = olds + news
    removed = {key for s in sides if s.side == "old" for key, _ in s.definitions}
    added = {key for s in sides if s.side == "new" for key, _ in s.definitions}
    moved = removed & added
    nested = _nested(olds, news)
    if not moved and not nested:
        return {}
    out: dict[tuple[str, str], set[int]] = {}
    hits = {id(s): _hits(s, moved, nested) for s in sides}
    sources = [s for s in sides if s.side == "old" and hits[id(s)]]
    carried = set().union(*(s.all_imports for s in sources)) if sources else set()
    gone = {text for s in sides if s.side == "old" for text, _ in s.imports}
    came = {text for s in sides if s.side == "new" for text, _ in s.imports}
    for s in sides:
        lines = out.setdefault((s.path, s.side), set())
        lines |= hits[id(s)]
        receives = s.side == "new" and bool(hits[id(s)])
        for text, span in s.imports:
            other = came if s.side == "old" else gone
            if text in other or (receives and text in carried):
                lines.update(span)
    return {k: v for k, v in out.items() if v}


def _nested(olds: Sequence[_Side], news: Sequence[_Side]) -> set[tuple[Key, ...]]:
    """Keys of module functions that became methods, or methods that became functions."""
    functions_old = {k for s in olds for k in s.functions}
    functions_new = {k for s in news for k in s.functions}
    methods_old = {k for s in olds for k, _ in s.as_functions}
    methods_new = {k for s in news for k, _ in s.as_functions}
    return (functions_old & methods_new) | (methods_old & functions_new)


def _hits(s: _Side, moved: set[tuple[Key, ...]], nested: set[tuple[Key, ...]]) -> set[int]:
    """Lines of ``s``'s definitions that only moved (whole, or between module and class)."""
    lines: set[int] = set()
    for key, span in s.definitions:
        if key in moved or (key in nested and key in s.functions):
            lines.update(span)
    for key, span in s.as_functions:
        if key in nested:
            lines.update(span)
    return lines


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


def _sides(
    change: FileChange, which: str, sizes: set[int] | None, methods: bool = True
) -> Iterator[_Side]:
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
        _collect(tree.root_node, (language, methods), tokenizer, changed, found, sizes)
        yield found


def _collect(
    root: Node,
    reading: tuple[str, bool],
    tokenizer: Tokenizer,
    changed: set[int] | None,
    found: _Side,
    sizes: set[int] | None,
) -> None:
    """Outermost definitions and imports whose lines are all ``changed`` (``None``: all), and
    the file's top-level imports. Only nodes that overlap changed lines are walked.
    ``reading`` is the language and whether Python methods are also read as functions."""
    language, methods = reading

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
            if language == "python" and methods:
                for method in _methods(node):
                    _read_as_function(method, tokenizer, found)
            if sizes is not None and len(span) not in sizes:
                continue
            name = _module_function_name(node)
            if name is not None:
                tokenizer.renamed[name.start_byte] = "<name>"
            tokens = tokenizer.tokens(_wrapper(node), [(span.start, span.stop - 1)])
            found.definitions.append((tuple(tokens.keys), span))
            if name is not None:
                found.functions.add(tuple(tokens.keys))
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


def _methods(node: Node) -> Iterator[Node]:
    """The undecorated methods of a Python class that is wholly added or wholly removed.

    Only such classes: a method added to a class that stays changes what the class's
    instances do (it may override a base class's method, a permission check among them),
    and so does a method taken out of one; a class that comes or goes whole acts only
    through the code naming it, which is judged where it changed.
    """
    if node.type != "class_definition":
        return
    body = node.child_by_field_name("body")
    for child in body.children if body is not None else ():
        if child.type == "function_definition" and len(_span(child)) >= MIN_LINES:
            yield child


def _span(node: Node) -> range:
    return range(node.start_point[0] + 1, node.end_point[0] + 2)


def _read_as_function(method: Node, tokenizer: Tokenizer, found: _Side) -> None:
    """A Python method's tokens as the module function it would be without ``self``.

    A method's body resolves free names as a module function's does (Python skips the class
    scope), so the same body, under any name, with a leading parameter the body never reads,
    decides the same as a module function. Decorated methods (``@staticmethod``,
    ``@property``) are not read so: their decorators change how they are called; nor bodies
    naming ``super``, ``__class__`` or a private ``__name`` (``_class_bound``).
    """
    parameters = method.child_by_field_name("parameters")
    name = method.child_by_field_name("name")
    if parameters is None or name is None:
        return
    named = [c for c in parameters.children if c.is_named and "comment" not in c.type]
    if not named or named[0].type != "identifier":
        return
    own = tokenizer.text(named[0])
    if any(_class_bound(tokenizer.text(leaf)) for leaf in leaves(method)):
        return  # zero-argument ``super()``, ``__class__`` or a mangled ``__name``
    if any(
        leaf.type == "identifier"
        and leaf.start_byte != named[0].start_byte
        and tokenizer.text(leaf) == own
        for leaf in leaves(method)
    ):
        return  # the body reads ``self``: it depends on the class it is in
    span = _span(method)
    tokenizer.renamed[name.start_byte] = "<name>"
    try:
        keys = list(tokenizer.tokens(_wrapper(method), [(span.start, span.stop - 1)]).keys)
    finally:
        del tokenizer.renamed[name.start_byte]
    opening = next((i for i, key in enumerate(keys) if key[0] == "("), None)
    first = keys[opening + 1] if opening is not None and opening + 1 < len(keys) else None
    if opening is None or first is None or first[:2] != ("identifier", own):
        return
    cut = 2 if keys[opening + 2 : opening + 3] and keys[opening + 2][0] == "," else 1
    del keys[opening + 1 : opening + 1 + cut]
    found.as_functions.append((tuple(keys), span))
    found.spans.append(span)  # the function it was or becomes may be this long


def _class_bound(word: str) -> bool:
    """Names whose meaning inside a class body differs from a module's: ``super`` (it reads
    the class and the first argument), ``__class__``, and private names Python mangles to
    ``_Class__name``."""
    return word in ("super", "__class__") or (
        word.startswith("__") and not word.endswith("__") and word[2:3].isidentifier()
    )


def _wrapper(node: Node) -> Node:
    """A parent holding only this definition, so tokens are keyed from the definition down."""
    return node.parent if node.parent is not None else node

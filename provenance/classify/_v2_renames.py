"""Local variables renamed consistently inside one function, shown from both syntax trees.

A variable bound inside a function and read only there can take any name nothing else in that
function uses: renaming every occurrence (alpha-renaming) builds the same program. So when a
hunk's tokens differ only where one name replaces another, and the name is provably such a
local on both sides, the old side's occurrences are read under the new name (``Tokenizer.
renamed``) and the hunk compared again (decision 0022). Shown per function, on both sides:

- the function is the same one (same kind, name and position among the file's functions);
- every occurrence of the old name in the old function, and of the new name in the new one,
  is a variable (a property, attribute, keyword-argument name, hash key or method called on a
  receiver is another namespace and is left as written; anything else refuses), and the name
  is bound there: Python, by an assignment, loop, ``with``, ``except`` or walrus target in the
  function's own scope (or only as a comprehension variable); JavaScript/TypeScript and Go,
  by a parameter or a declaration in the function's body whose scope is the whole function,
  before any other occurrence; Ruby, by an assignment outside blocks before any other
  occurrence; PHP, ``$name`` is always local to its function (closures included);
- the new name occurs nowhere in the old function and the old name nowhere in the new one
  (no capture of an outer, global or shadowed name; renamed names do not merge or swap);
- nothing in the function reads variables by name (``locals()``, ``eval``, ``compact``,
  ``binding``, ``$$x``, ``with``, ``arguments`` ...), and, in Python, no nested function,
  lambda or class mentions the name (capture), nor ``global``/``nonlocal`` statements;
- parameters only where callers cannot name them (JavaScript/TypeScript, Go); Python, Ruby
  and PHP parameters can be passed by name and are read as written.

Names of functions, methods and classes are never renamed (decision 0013). Anything not shown
leaves the lines changed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache

from tree_sitter import Language, Node, Query, QueryCursor, Tree

#: Verdict of one occurrence of a name: a variable, another namespace, or unknown (refuse).
_VAR, _INERT, _REFUSE = "var", "inert", "refuse"


@dataclass(frozen=True)
class _Rules:
    """What one language needs: its functions, variable leaves and dynamic name readers."""

    functions: frozenset[str]
    #: what reads variables by name, searched in a function's text (strings and comments
    #: included: a mention refuses, fail closed)
    dynamic: re.Pattern[str]
    #: the region is the outermost function (PHP: closures share the renaming) or the inner
    outermost: bool = False


_JS_FUNCTIONS = frozenset(
    {
        "function_declaration", "function_expression", "arrow_function",
        "generator_function_declaration", "generator_function", "method_definition",
    }
)  # fmt: skip
RULES: dict[str, _Rules] = {
    "python": _Rules(
        frozenset({"function_definition"}),
        re.compile(
            r"\b(?:locals|vars|eval|exec|globals|_getframe|currentframe|f_locals|breakpoint"
            r"|global|nonlocal)\b"
        ),
    ),
    "javascript": _Rules(_JS_FUNCTIONS, re.compile(r"\b(?:eval|arguments|with)\b")),
    "go": _Rules(
        frozenset({"function_declaration", "method_declaration", "func_literal"}),
        re.compile(r"(?!)"),
    ),
    "ruby": _Rules(
        frozenset({"method", "singleton_method"}),
        re.compile(r"\b(?:binding|local_variables?\w*|(?:instance_|class_|module_)?eval)\b"),
    ),
    "php": _Rules(
        frozenset(
            {"function_definition", "method_declaration", "anonymous_function", "arrow_function"}
        ),
        re.compile(
            r"\b(?:compact|extract|get_defined_vars|parse_str|eval|include|include_once"
            r"|require|require_once|func_get_args?|debug_backtrace|GLOBALS|global)\b"
            r"|\$\$|\$\{",
            re.IGNORECASE,
        ),
        outermost=True,
    ),
}
RULES["typescript"] = RULES["tsx"] = RULES["javascript"]
#: Leaf types that hold a variable's name, per language (PHP: the ``name`` in ``$name``).
_LEAF = {"php": "name"}
#: The languages read here, and the leaf types a rename can change.
RENAME_LANGUAGES = frozenset(RULES)
RENAMED_LEAVES = frozenset({"identifier", "name"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PHP_RESERVED = re.compile(r"^(?:this|GLOBALS|_[A-Z]+|HTTP_RAW_POST_DATA|http_response_header)$")
_PY_SCOPES = frozenset(
    {"function_definition", "lambda", "class_definition", "decorated_definition"}
)
_PY_COMPREHENSIONS = frozenset(
    {"list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression"}
)
_PY_PATTERNS = frozenset(
    {"pattern_list", "tuple_pattern", "list_pattern", "list_splat_pattern", "as_pattern_target"}
)
_PY_REFUSE = frozenset(
    {
        "parameters", "lambda_parameters", "global_statement", "nonlocal_statement",
        "import_statement", "import_from_statement", "aliased_import", "dotted_name",
        "case_clause", "decorator", "type_parameter",
    }
)  # fmt: skip
_RUBY_BLOCKS = frozenset({"block", "do_block", "lambda"})
_RUBY_REFUSE = frozenset(
    {
        "method_parameters", "block_parameters", "lambda_parameters", "optional_parameter",
        "keyword_parameter", "splat_parameter", "hash_splat_parameter", "block_parameter",
        "destructured_parameter", "method", "singleton_method", "alias", "undef",
    }
)  # fmt: skip
_JS_NAMED = frozenset(
    {
        "function_declaration", "generator_function_declaration", "function_expression",
        "function", "generator_function", "class_declaration", "class", "import_specifier",
        "import_clause", "namespace_import", "export_specifier", "namespace_export",
        "jsx_opening_element", "jsx_closing_element", "jsx_self_closing_element",
        "jsx_namespace_name", "nested_identifier",
    }
)  # fmt: skip
#: Leaves that hold another namespace's names (properties, fields, hash keys) or text.
_INERT_LEAVES = frozenset(
    {
        "property_identifier", "field_identifier", "hash_key_symbol", "string_content",
        "string_fragment", "interpreted_string_literal_content", "raw_string_literal_content",
        "escape_sequence",
    }
)  # fmt: skip
_GO_PARAMETERS = frozenset({"parameter_declaration", "variadic_parameter_declaration"})
#: A node of one tree: start byte, end byte, type.
_Span = tuple[int, int, str]


def local_renames(
    language: str,
    trees: tuple[Tree, Tree],
    pairs: Iterable[tuple[str, str]],
    changed: Sequence[tuple[int, int]],
) -> dict[int, str]:
    """Start byte of each old-side occurrence of a renamed local -> the name it has now.

    ``pairs`` are (old name, new name) substitutions seen in differing hunks; those shown to be
    a consistent rename of a function's local (module docstring), with every old occurrence on
    the old side's ``changed`` lines (1-based inclusive ranges), are returned: the renamed old
    side then differs from the old side only in hunks, where its tokens are compared.
    """
    rules = RULES.get(language)
    if rules is None:
        return {}
    pairs = [(a, b) for a, b in pairs if _plain(a) and _plain(b)]
    if not pairs:
        return {}
    old, new = trees[0].root_node, trees[1].root_node
    reader = _Reader(language, rules)
    query = _function_query(language, trees[0].language)
    olds = {_span(node): key for key, node in _functions(old, query).items()}
    news = _functions(new, query)
    accepted: dict[tuple[_Span, str], str] = {}  # (old function, old name) -> new name
    refused: set[tuple[_Span, str]] = set()
    occurrences: dict[tuple[_Span, str], list[Node]] = {}
    for before, after in sorted(set(pairs)):
        for function in reader.regions(old, before):
            key = (_span(function), before)
            match = news.get(olds.get(key[0], (-1, "", "")))
            found = None if match is None else reader.renamed(function, match, before, after)
            if found is not None and not all(_on(leaf, changed) for leaf in found):
                found = None  # an occurrence on an unchanged line keeps the old name
            if found is None or accepted.get(key, after) != after:
                refused.add(key)
            else:
                accepted[key], occurrences[key] = after, found
    merged: defaultdict[tuple[_Span, str], list[str]] = defaultdict(list)
    for (start, before), after in accepted.items():
        merged[(start, after)].append(before)  # two locals merged into one name: refused
    out: dict[int, str] = {}
    for key, after in accepted.items():
        if key not in refused and len(merged[(key[0], after)]) == 1:
            out.update((leaf.start_byte, after) for leaf in occurrences[key])
    return out


def _span(node: Node) -> _Span:
    return (node.start_byte, node.end_byte, node.type)


def _plain(name: str) -> bool:
    """A name a rename may involve: no dunder (``__class__``, mangled ``__x``), no ``$``."""
    return _NAME.fullmatch(name) is not None and not name.startswith("__")


def _on(leaf: Node, changed: Sequence[tuple[int, int]]) -> bool:
    line = leaf.start_point[0] + 1
    return any(lo <= line <= hi for lo, hi in changed)


@cache
def _function_query(language: str, grammar: Language) -> Query:
    """A query capturing the functions of ``language`` (run in native code, not walked)."""
    kinds = " ".join(f"({kind})" for kind in sorted(RULES[language].functions))
    return Query(grammar, f"[{kinds}] @f")


def _functions(root: Node, query: Query) -> dict[tuple[int, str, str], Node]:
    """Each function by (position among the file's functions, kind, name)."""
    found = QueryCursor(query).captures(root).get("f", [])
    out: dict[tuple[int, str, str], Node] = {}
    for node in sorted(found, key=lambda n: (n.start_byte, -n.end_byte)):
        name = node.child_by_field_name("name")
        text = (name.text or b"").decode("utf-8", "replace") if name is not None else ""
        out[(len(out), node.type, text)] = node
    return out


class _Reader:
    """Occurrences and bindings of names in one language's functions (module docstring)."""

    def __init__(self, language: str, rules: _Rules) -> None:
        self.language = language
        self.rules = rules
        self.leaf = _LEAF.get(language, "identifier")
        self._dynamic: dict[tuple[int, int], bool] = {}

    def regions(self, root: Node, name: str) -> Iterator[Node]:
        """The functions a local ``name`` of ``root`` would belong to (one per binding scope)."""
        seen: set[int] = set()
        for leaf in _named(root, name.encode()):
            if leaf.type != self.leaf or self._verdict(leaf) != _VAR:
                continue
            function = self._region(leaf, name)
            if function is not None and function.start_byte not in seen:
                seen.add(function.start_byte)
                yield function

    def renamed(self, old: Node, new: Node, before: str, after: str) -> list[Node] | None:
        """Old-side occurrences of ``before`` when ``after`` is the same local in ``new``."""
        if self._reads_names(old) or self._reads_names(new):
            return None
        found = self._occurrences(old, before)
        moved = self._occurrences(new, after)
        if not found or not moved or self._occurrences(old, after) != []:
            return None
        if self._occurrences(new, before) != []:
            return None  # the old name is still read: an outer or global one, or a merge
        if not (self._local(old, before, found) and self._local(new, after, moved)):
            return None
        return found

    def _region(self, leaf: Node, name: str) -> Node | None:
        """The function whose local ``leaf`` would be (Python, Ruby: innermost; PHP: outermost;
        JavaScript and Go: the innermost that binds it)."""
        chain = [a for a in _ancestors(leaf) if a.type in self.rules.functions]
        if not chain:
            return None
        if self.rules.outermost:
            return chain[-1]
        if self.language in ("python", "ruby"):
            return chain[0]
        for function in chain:
            found = self._occurrences(function, name)
            if found and self._local(function, name, found):
                return function
        return None

    def _occurrences(self, function: Node, name: str) -> list[Node] | None:
        """The variable occurrences of ``name`` in ``function``; ``None`` if one is unknown."""
        out = []
        for leaf in _named(function, name.encode()):
            verdict = self._verdict(leaf)
            if self.language == "php" and (leaf.type != "name" or verdict == _INERT):
                continue  # PHP variables are ``$name``: other names are another namespace
            if verdict == _REFUSE:
                return None
            if verdict == _VAR:
                out.append(leaf)
        return out

    def _reads_names(self, function: Node) -> bool:
        """True when ``function`` may read variables by name (module docstring)."""
        key = (function.start_byte, function.end_byte)
        cached = self._dynamic.get(key)
        if cached is None:  # the source text, comments and strings included (fail closed)
            text = (function.text or b"").decode("utf-8", "replace")
            cached = self.rules.dynamic.search(text) is not None
            self._dynamic[key] = cached
        return cached

    def _verdict(self, leaf: Node) -> str:
        """A variable's name, another namespace's (left as written), or unknown."""
        parent = leaf.parent
        if parent is None:
            return _REFUSE
        if leaf.type == "hash_key_symbol" and parent.child_by_field_name("value") is None:
            return _REFUSE  # Ruby's ``f(name:)`` reads the local ``name``
        if leaf.type != self.leaf:
            return _INERT if leaf.type in _INERT_LEAVES else _REFUSE
        if self.language == "python":
            return self._python(leaf, parent)
        if self.language == "go":
            return self._go(leaf, parent)
        if self.language == "ruby":
            return self._ruby(leaf, parent)
        if self.language == "php":
            return self._php(leaf, parent)
        return self._javascript(leaf, parent)

    def _python(self, leaf: Node, parent: Node) -> str:
        if _is_field(parent, "attribute", leaf) and parent.type == "attribute":
            return _INERT
        if parent.type == "keyword_argument" and _is_field(parent, "name", leaf):
            return _INERT
        for ancestor in _ancestors(leaf):
            if ancestor.type in _PY_REFUSE:
                return _REFUSE
            if ancestor.type in _PY_SCOPES:
                return _VAR if ancestor.type == "function_definition" else _REFUSE
        return _REFUSE

    def _javascript(self, leaf: Node, parent: Node) -> str:
        if parent.type in _JS_NAMED or parent.type == "labeled_statement":
            return _REFUSE
        for ancestor in _ancestors(leaf):
            if ancestor.type == "formal_parameters":
                return _VAR if _js_parameter(leaf) else _REFUSE
            if ancestor.type in _JS_FUNCTIONS or ancestor.type.endswith("statement"):
                break
        return _VAR

    def _go(self, leaf: Node, parent: Node) -> str:
        if parent.type in ("function_declaration", "method_declaration", "labeled_statement"):
            return _REFUSE
        grand = parent.parent
        if parent.type == "literal_element" and grand is not None and grand.type == "keyed_element":
            return _REFUSE if _same(grand.named_children[0], parent) else _VAR
        if parent.type in _GO_PARAMETERS:
            return _VAR if _is_field(parent, "name", leaf) else _REFUSE
        return _VAR

    def _ruby(self, leaf: Node, parent: Node) -> str:
        if parent.type in _RUBY_REFUSE:
            return _REFUSE
        if parent.type == "call" and _is_field(parent, "method", leaf):
            return _INERT if parent.child_by_field_name("receiver") is not None else _REFUSE
        return _VAR

    def _php(self, leaf: Node, parent: Node) -> str:
        if parent.type != "variable_name":
            return _INERT
        if _PHP_RESERVED.match((leaf.text or b"").decode("utf-8", "replace")):
            return _REFUSE
        holder = parent.parent
        if holder is not None and holder.type == "scoped_property_access_expression":
            return _INERT  # ``self::$name``: a static property, not a local
        for ancestor in _ancestors(parent):
            if ancestor.type.endswith("_parameter") or ancestor.type == "global_declaration":
                return _REFUSE
            if ancestor.type in self.rules.functions:
                break
        return _VAR

    def _local(self, function: Node, name: str, found: list[Node]) -> bool:
        """True when ``name`` is bound in ``function`` for all of ``found`` (docstring)."""
        if self.language == "php":
            return True
        if self.language == "python":
            return _python_local(function, found)
        first = min(found, key=lambda leaf: leaf.start_byte)
        if self.language == "ruby":
            return _ruby_binding(function, first, name)
        if self.language == "go":
            return _go_binding(function, first, name)
        return _js_binding(function, first, name)


def _python_local(function: Node, found: list[Node]) -> bool:
    """Bound in the function's own scope, or every occurrence inside a comprehension binding
    it (and not in that comprehension's first iterable, which the enclosing scope evaluates)."""
    body = function.child_by_field_name("body")
    if body is None or any(not _inside(leaf, body) for leaf in found):
        return False  # defaults and annotations are evaluated outside the function
    scopes = (next(a for a in _ancestors(leaf) if a.type in _PY_SCOPES) for leaf in found)
    if not all(_same(scope, function) for scope in scopes):
        return False  # read in a nested function: renaming could change what it captures
    if any(_python_target(leaf) == "scope" for leaf in found):
        return True
    return all(_comprehension_bound(leaf, function) for leaf in found)


def _python_target(leaf: Node) -> str | None:
    """``scope`` for a target binding in the function, ``comprehension`` for a for-clause one."""
    node = leaf
    while node.parent is not None and node.parent.type in _PY_PATTERNS:
        node = node.parent
    parent = node.parent
    if parent is None:
        return None
    if parent.type in ("assignment", "augmented_assignment", "for_statement"):
        return "scope" if _is_field(parent, "left", node) else None
    if parent.type == "named_expression":
        return "scope" if _is_field(parent, "name", node) else None
    if parent.type == "for_in_clause":
        return "comprehension" if _is_field(parent, "left", node) else None
    if node.type == "as_pattern_target":
        return "scope"
    return None


def _comprehension_bound(leaf: Node, function: Node) -> bool:
    for ancestor in _ancestors(leaf):
        if _same(ancestor, function):
            return False
        if ancestor.type not in _PY_COMPREHENSIONS:
            continue
        clauses = [c for c in ancestor.named_children if c.type == "for_in_clause"]
        first = clauses[0].child_by_field_name("right") if clauses else None
        if first is not None and _inside(leaf, first):
            continue  # the first iterable is read in the enclosing scope
        name = leaf.text or b""
        for clause in clauses:
            left = clause.child_by_field_name("left")
            if left is not None and any(
                n.type == "identifier" and n.text == name for n in _named(left, name)
            ):
                return True
    return False


def _ruby_binding(function: Node, first: Node, name: str) -> bool:
    """The first occurrence assigns the local outside any block (blocks scope their own)."""
    parent = first.parent
    if parent is None or parent.type != "assignment" or not _is_field(parent, "left", first):
        return False
    right = parent.child_by_field_name("right")
    if right is not None and next(_named(right, name.encode()), None) is not None:
        return False
    for ancestor in _ancestors(first):
        if _same(ancestor, function):
            return True
        if ancestor.type in _RUBY_BLOCKS:
            return False
    return False


def _go_binding(function: Node, first: Node, name: str) -> bool:
    """A parameter or receiver of the function, or declared in its body's top level."""
    parent = first.parent
    if parent is not None and parent.type in _GO_PARAMETERS:
        holder = parent.parent
        return holder is not None and holder.parent is not None and _same(holder.parent, function)
    statement = _statement(first, ("short_var_declaration", "var_declaration"))
    if statement is None or not _same(_body(statement), function.child_by_field_name("body")):
        return False
    if statement.type == "short_var_declaration":
        left = statement.child_by_field_name("left")
        if left is None or not _same(first.parent, left):
            return False
    elif parent is None or parent.type != "var_spec" or not _is_field(parent, "name", first):
        return False
    return sum(1 for _ in _named(statement, name.encode())) == 1


def _js_binding(function: Node, first: Node, name: str) -> bool:
    """A parameter of the function, or declared in its body's top level (``let``, ``const``,
    ``var``), before any other occurrence and not read by its own initializer."""
    parent = first.parent
    if parent is None:
        return False
    parameters = function.child_by_field_name("parameters")
    if _is_field(function, "parameter", first):
        return True
    if parameters is not None and parent.parent is not None and _inside(first, parameters):
        return _js_parameter(first)
    if parent.type != "variable_declarator" or not _is_field(parent, "name", first):
        return False
    declaration = parent.parent
    if declaration is None or declaration.type not in (
        "lexical_declaration",
        "variable_declaration",
    ):
        return False
    if not _same(declaration.parent, function.child_by_field_name("body")):
        return False
    return sum(1 for _ in _named(parent, name.encode())) == 1


def _js_parameter(leaf: Node) -> bool:
    """The name a parameter binds (not a default value, type or destructuring key)."""
    parent = leaf.parent
    if parent is None:
        return False
    if parent.type == "formal_parameters":
        return True
    if parent.type in ("required_parameter", "optional_parameter"):
        modifiers = ("accessibility_modifier", "readonly", "override_modifier")
        if any(c.type in modifiers for c in parent.children):
            return False  # ``constructor(private token)`` also declares a property
        return _is_field(parent, "pattern", leaf)
    if parent.type == "assignment_pattern":
        holder = parent.parent
        return (
            _is_field(parent, "left", leaf)
            and holder is not None
            and (holder.type == "formal_parameters")
        )
    return False


def _statement(leaf: Node, kinds: tuple[str, ...]) -> Node | None:
    for ancestor in _ancestors(leaf):
        if ancestor.type in kinds:
            return ancestor
        if ancestor.type in ("block", "statement_list", "func_literal"):
            return None
    return None


def _body(statement: Node) -> Node | None:
    """The block a Go statement is directly in (through ``statement_list``)."""
    parent = statement.parent
    if parent is not None and parent.type == "statement_list":
        parent = parent.parent
    return parent


def _is_field(parent: Node, field: str, node: Node) -> bool:
    return _same(parent.child_by_field_name(field), node)


def _same(a: Node | None, b: Node | None) -> bool:
    """The same node of one tree (same span and type)."""
    return (
        a is not None
        and b is not None
        and (a.start_byte, a.end_byte, a.type) == (b.start_byte, b.end_byte, b.type)
    )


def _inside(node: Node, outer: Node) -> bool:
    return outer.start_byte <= node.start_byte and node.end_byte <= outer.end_byte


def _ancestors(node: Node) -> Iterator[Node]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _named(root: Node, name: bytes) -> Iterator[Node]:
    """Leaves below ``root`` whose text is ``name`` (comments left out), in source order.

    Found by searching the source text and asking the tree for the leaf there (native code),
    not by walking every node.
    """
    text = root.text or b""
    at = text.find(name) if name else -1
    while at >= 0:
        start = root.start_byte + at
        leaf = root.descendant_for_byte_range(start, start + len(name))
        if (
            leaf is not None
            and leaf.child_count == 0
            and leaf.start_byte == start
            and leaf.text == name
            and "comment" not in leaf.type
        ):
            yield leaf
        at = text.find(name, at + 1)

"""The tokens of a syntax tree that can change what a program does, with neutral parts removed.

A token is a leaf of the tree-sitter tree, keyed by its type, its text as normalised below, and
the chain of node types above it (so a statement moved into or out of a block differs even
though its text does not). What is dropped or normalised can be shown not to change what the
program decides (IDENTITY-RUBRIC.md, "behaviour-neutral edits"):

- whitespace and line breaks (they are not tokens), comments, Python docstrings, trailing
  commas, and JavaScript's optional semicolons. Comments that tools read are kept: Go
  directives (``//go:embed``), Ruby magic comments, PHP docblocks with annotations
  (``@IsGranted(...)``);
- quotes of a string without escapes or interpolation (``'a'`` and ``"a"``);
- log statements (``logger.info(...)``, ``slog.Warn``, ``Rails.logger``, ``console.log``,
  ``Log::info``, ``info!``) whose arguments call nothing that could act, and ``if`` blocks that
  only log; and the wording of log and error messages (``raise X("...")``, ``errors.New``).
  ``log.Fatal`` and ``log.Panic`` stop the program and are kept;
- Go's ``fmt.Errorf("text")`` and ``errors.New("text")`` with one literal argument;
- spellings the language defines as the same (``_v2_forms``): an arrow function's block body
  that says what an expression body says, TypeScript assertions, Ruby's two symbol-key
  spellings, exception bindings nothing reads;
- the spelling of Python string formatting: ``"a %s" % x``, ``f"a {x}"`` and
  ``"a {}".format(x)`` are one token and the tokens of ``x`` (``_v2_format``);
- type annotations where the language erases them: Python parameters and return types that
  name no call, ``Annotated`` or ``Depends`` (FastAPI reads those), TypeScript annotations
  outside constructors (dependency injection reads those), interfaces and type aliases;
- import statements, which are compared on their own (``_v2_neutral``);
- a function's local variable renamed consistently, read under its new name (``_v2_renames``).

Anything the tokenizer does not understand stays a token, so unknown differences count.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from tree_sitter import Node

from provenance.classify import _v2_forms as forms
from provenance.classify._v2_flow import IF_NODES, guard_clause
from provenance.classify._v2_format import formatted
from provenance.classify._v2_nodes import arguments as _arguments
from provenance.classify._v2_nodes import descendants as _descendants
from provenance.classify._v2_nodes import has as _has
from provenance.classify._v2_nodes import leaves

#: (node type, normalised text, hash of the node types above it)
Key = tuple[str, str, int]


@dataclass(frozen=True)
class Grammar:
    """Node types of one tree-sitter grammar that the tokenizer treats specially."""

    calls: frozenset[str]
    strings: frozenset[str]
    imports: frozenset[str]
    statements: frozenset[str]
    ifs: frozenset[str]
    raises: frozenset[str] = frozenset()
    news: frozenset[str] = frozenset()
    annotations: frozenset[str] = frozenset()
    type_only: frozenset[str] = frozenset()
    optional_semicolons: bool = False
    #: node types read as another (``typed_parameter`` as a plain parameter once its type is
    #: erased); ``""`` makes a level transparent
    aliases: tuple[tuple[str, str], ...] = ()


_JS = Grammar(
    calls=frozenset({"call_expression"}),
    strings=frozenset({"string", "template_string"}),
    imports=frozenset({"import_statement"}),
    statements=frozenset({"expression_statement"}),
    ifs=frozenset({"if_statement"}),
    raises=frozenset({"throw_statement"}),
    news=frozenset({"new_expression"}),
    annotations=frozenset({"type_annotation"}),
    type_only=frozenset({"interface_declaration", "type_alias_declaration"}),
    optional_semicolons=True,
)
GRAMMARS: dict[str, Grammar] = {
    "python": Grammar(
        calls=frozenset({"call"}),
        strings=frozenset({"string", "concatenated_string"}),
        imports=frozenset({"import_statement", "import_from_statement", "future_import_statement"}),
        statements=frozenset({"expression_statement"}),
        ifs=frozenset({"if_statement"}),
        raises=frozenset({"raise_statement"}),
        annotations=frozenset({"type"}),
        aliases=(("typed_parameter", ""), ("typed_default_parameter", "default_parameter")),
    ),
    "go": Grammar(
        calls=frozenset({"call_expression"}),
        strings=frozenset({"interpreted_string_literal", "raw_string_literal"}),
        imports=frozenset({"import_spec"}),
        statements=frozenset({"expression_statement"}),
        ifs=frozenset({"if_statement"}),
        aliases=(("import_spec_list", ""),),
    ),
    "ruby": Grammar(
        calls=frozenset({"call"}),
        strings=frozenset({"string"}),
        imports=frozenset(),
        statements=frozenset({"call"}),
        ifs=frozenset({"if", "if_modifier", "unless", "unless_modifier"}),
    ),
    "php": Grammar(
        calls=frozenset(
            {"function_call_expression", "member_call_expression", "scoped_call_expression"}
        ),
        strings=frozenset({"string", "encapsed_string"}),
        imports=frozenset({"namespace_use_declaration"}),
        statements=frozenset({"expression_statement"}),
        ifs=frozenset({"if_statement"}),
        raises=frozenset({"throw_expression"}),
        news=frozenset({"object_creation_expression"}),
    ),
    "javascript": _JS,
    "typescript": _JS,
    "tsx": _JS,
    "java": Grammar(
        calls=frozenset({"method_invocation"}),
        strings=frozenset({"string_literal"}),
        imports=frozenset({"import_declaration"}),
        statements=frozenset({"expression_statement"}),
        ifs=frozenset({"if_statement"}),
        raises=frozenset({"throw_statement"}),
        news=frozenset({"object_creation_expression"}),
    ),
    "csharp": Grammar(
        calls=frozenset({"invocation_expression"}),
        strings=frozenset({"string_literal", "verbatim_string_literal"}),
        imports=frozenset({"using_directive"}),
        statements=frozenset({"expression_statement"}),
        ifs=frozenset({"if_statement"}),
        raises=frozenset({"throw_statement", "throw_expression"}),
        news=frozenset({"object_creation_expression"}),
    ),
    "rust": Grammar(
        calls=frozenset({"call_expression", "macro_invocation"}),
        strings=frozenset({"string_literal", "raw_string_literal"}),
        imports=frozenset({"use_declaration"}),
        statements=frozenset({"expression_statement"}),
        ifs=frozenset({"if_expression"}),
    ),
}

#: The callee of a log call: a logger object and a level, a log function, or a log macro.
_LOGGER = re.compile(
    r"(?:^|[.:>])(?:\$?this->)?(?:_?log|_?logger|logging|slog|console|rails\.logger|\w*logger"
    r"|log4j|zap\.\w+|logrus)(?:\(\))?(?:\.|->|::)(?:debug|info|warn|warning|error|trace|notice"
    r"|critical|verbose|log|print|printf|println|infof|debugf|warnf|errorf|tracef|fine|finer"
    r"|finest|severe|config|log(?:information|warning|error|debug|trace|critical)"
    r"|debugcontext|infocontext|warncontext|errorcontext)$"
    r"|^(?:log::|tracing::)?(?:debug|info|warn|error|trace)!?$|^error_log$|^console\.\w+$",
    re.IGNORECASE,
)
#: An audit-trail helper named ``log...`` (``logActivity``, ``log_event``), never log-in/out.
_AUDIT = re.compile(r"(?:^|[.:>])log_?(?!in|out|on|off|as)[a-z]\w*$", re.IGNORECASE)
#: Calls a pure argument may make: conversions and formatting (with arguments) ...
_PURE = re.compile(
    r"(?:^|[.:>])(?:str|repr|int|float|bool|len|format|sprintf|string|to_s|inspect|to_string"
    r"|tostring|json_encode|get_class|count|join|type|any|err|error|duration|int64|uint64"
    r"|time|now)$",
    re.IGNORECASE,
)
#: ... and getters and predicates without arguments (``user.getId()``, ``obj.is_valid()``).
_GETTER = re.compile(r"(?:^|[.:>])(?:get|to|is|has|id|name|class)\w*$", re.IGNORECASE)
#: Calls that build an error or exception: their message wording is not a decision.
_ERROR_CALL = re.compile(
    r"(?:error|exception|errorf|errors\.new|raise|abort\w*)$|^(?:anyhow|bail|panic)!?$",
    re.IGNORECASE,
)
#: Comments that tools read.
_DIRECTIVE = re.compile(
    r"^(?://\s*go:|//\s*\+build|#\s*(?:frozen_string_literal|encoding|coding|-\*-|typed:)"
    r"|/\*\*?[\s\S]*@[A-Z]\w*\s*\(|#\s*!)"
)
_GO_ERRORS = frozenset({"fmt.Errorf", "errors.New"})
#: Named children of a string node that delimit it, and those that are plain content.
_DELIMITERS = frozenset({"string_start", "string_end"})
_CONTENT = frozenset(
    {
        "string_content", "string_fragment", "interpreted_string_literal_content",
        "raw_string_literal_content", "string_literal_content",
    }
)  # fmt: skip
_CLOSERS = frozenset({")", "]", "}"})
_MESSAGE = "<message>"


@dataclass
class Tokens:
    """Tokens and imports of the lines asked for, and the columns of comments on each line."""

    keys: list[Key] = field(default_factory=list)
    #: first and last line (1-based) of each token
    spans: list[tuple[int, int]] = field(default_factory=list)
    #: each import statement's normalised text, first and last line
    imports: list[tuple[str, int, int]] = field(default_factory=list)
    #: line -> (start column, end column) of comments and dropped statements on it
    dropped: dict[int, list[tuple[int, int]]] = field(default_factory=dict)


class Tokenizer:
    """Walks the parts of a tree on some lines; see the module docstring."""

    def __init__(self, language: str, data: bytes) -> None:
        self.language = language
        self.grammar = GRAMMARS[language]
        self.data = data
        #: byte spans of the strings that are messages (log and error wording)
        self._messages: set[tuple[int, int]] = set()
        self._aliases = dict(self.grammar.aliases)
        #: start byte -> text read instead (a definition's own name for ``_v2_moves``, a
        #: renamed local's new name for ``_v2_renames``)
        self.renamed: dict[int, str] = {}
        #: how often each identifier occurs in this side's tree (read when first needed)
        self._identifiers: Counter[bytes] | None = None
        #: True once an ``else`` on a changed line was read as the code after its ``if``
        self.guard_clauses = False

    def text(self, node: Node) -> str:
        """The node's source text."""
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "surrogateescape")

    def tokens(self, root: Node, ranges: Sequence[tuple[int, int]]) -> Tokens:
        """Tokens of the leaves overlapping ``ranges`` (1-based inclusive line ranges)."""
        out = Tokens()
        self._walk(root, ranges, 0, out)
        return out

    def _walk(self, node: Node, ranges: Sequence[tuple[int, int]], ctx: int, out: Tokens) -> None:
        children = node.children
        for n, child in enumerate(children):
            self._visit(child, n, children, ranges, ctx, out)

    def _visit(
        self,
        child: Node,
        n: int,
        children: Sequence[Node],
        ranges: Sequence[tuple[int, int]],
        ctx: int,
        out: Tokens,
    ) -> None:
        first, last = child.start_point[0] + 1, child.end_point[0] + 1
        if not any(first <= hi and last >= lo for lo, hi in ranges):
            return
        kind = child.type
        if "comment" in kind and not _DIRECTIVE.match(self.text(child)):
            self._drop(child, out)
            return
        if self._skipped(child, n, children):
            self._drop(child, out)
            return
        if kind in self.grammar.imports:
            text = " ".join(self._import_words(child))
            out.imports.append((text, first, last))
            return
        read_as = forms.transparent(self.language, child, self._unused)
        if read_as is not None:
            self._visit(read_as, 0, (read_as,), ranges, ctx, out)
            return
        alias = self._aliases.get(kind, kind)
        inner = hash((ctx, alias)) if alias else ctx
        if self._symbol_key(child, ranges, inner, out):
            return
        if self._builds_message(child):
            self._messages.update(self._message_strings(child))
        if self._formatting(child, ranges, ctx, out) or self._arrow(child, ranges, inner, out):
            return
        if kind in IF_NODES and self._guard_clause(child, ranges, ctx, inner, out):
            return
        if kind in self.grammar.strings:
            self._emit(child, (kind, self._string(child), inner), out)
            return
        if self.language == "go" and self._go_error(child):
            self._emit(child, ("go-error", _MESSAGE, inner), out)
            return
        if child.child_count == 0:
            text = self.renamed.get(child.start_byte) or self.text(child)
            self._emit(child, (kind, text, ctx), out)
            return
        self._walk(child, ranges, inner, out)

    def _unused(self, name: Node) -> bool:
        """True when the identifier ``name`` occurs nowhere else in this side's tree."""
        if self._identifiers is None:
            root = name
            while root.parent is not None:
                root = root.parent
            self._identifiers = forms.identifier_counts(root)
        return self._identifiers[name.text or b""] <= 1

    def _symbol_key(
        self, pair: Node, ranges: Sequence[tuple[int, int]], inner: int, out: Tokens
    ) -> bool:
        """A Ruby hash pair with a symbol key, read the same in both spellings (``_v2_forms``)."""
        name = forms.symbol_key(self.language, pair, self.text)
        key = pair.child_by_field_name("key") if name is not None else None
        if name is None or key is None:
            return False
        self._emit(key, ("<symbol-key>", name, inner), out)
        for n, part in enumerate(pair.children):
            if part.is_named and part.start_byte != key.start_byte:
                self._visit(part, n, pair.children, ranges, inner, out)
        return True

    def _arrow(
        self, node: Node, ranges: Sequence[tuple[int, int]], inner: int, out: Tokens
    ) -> bool:
        """An arrow function whose block body is read as an expression body (``_v2_forms``)."""
        found = forms.expression_body(self.language, node)
        if found is None:
            return False
        body, expression = found
        for n, part in enumerate(node.children):
            if part.start_byte == body.start_byte and part.type == body.type:
                self._visit(expression, 0, (expression,), ranges, inner, out)
            else:
                self._visit(part, n, node.children, ranges, inner, out)
        return True

    def _guard_clause(
        self, node: Node, ranges: Sequence[tuple[int, int]], ctx: int, inner: int, out: Tokens
    ) -> bool:
        """An ``if`` whose branch always exits: its ``else`` body read as the statements that
        follow it, in the block that holds it (``_v2_flow``)."""
        found = guard_clause(self.language, node)
        if found is None:
            return False
        skipped, statements = found
        for n, part in enumerate(node.children):
            if part.start_byte not in skipped:
                self._visit(part, n, node.children, ranges, inner, out)
            elif any(lo <= part.start_point[0] + 1 <= hi for lo, hi in ranges):
                self.guard_clauses = True  # the ``else`` itself changed: a rewrite may be cut
        for statement in statements:
            siblings = statement.parent.children if statement.parent else [statement]
            index = next(i for i, s in enumerate(siblings) if s.start_byte == statement.start_byte)
            self._visit(statement, index, siblings, ranges, ctx, out)
        return True

    def _formatting(
        self, node: Node, ranges: Sequence[tuple[int, int]], ctx: int, out: Tokens
    ) -> bool:
        """A Python ``%``-format, f-string or ``str.format`` read as one form (``_v2_format``)."""
        if self.language != "python" or (node.start_byte, node.end_byte) in self._messages:
            return False
        found = formatted(node, self.text)
        if found is None:
            return False
        pieces, arguments = found
        self._emit(node, ("<format>", pieces, hash((ctx, "<format>"))), out)
        for argument in arguments:
            self._visit(argument, 0, (argument,), ranges, hash((ctx, "<argument>")), out)
        return True

    def _emit(self, node: Node, key: Key, out: Tokens) -> None:
        out.keys.append(key)
        out.spans.append((node.start_point[0] + 1, node.end_point[0] + 1))

    def _drop(self, node: Node, out: Tokens) -> None:
        """Remember where a dropped node lies, so its text is not judged either."""
        (r0, c0), (r1, c1) = node.start_point, node.end_point
        for row in range(r0, r1 + 1):
            start = c0 if row == r0 else 0
            end = c1 if row == r1 else 1 << 30
            out.dropped.setdefault(row + 1, []).append((start, end))

    def _skipped(self, node: Node, index: int, siblings: Sequence[Node]) -> bool:
        """Trailing commas, optional semicolons, docstrings, annotations, log-only statements."""
        kind = node.type
        g = self.grammar
        if kind == "," and index + 1 < len(siblings) and siblings[index + 1].type in _CLOSERS:
            return True
        if kind == ";" and g.optional_semicolons:
            return True
        if forms.dropped(self.language, node, self._unused):
            return True  # an exception binding nothing reads
        parent = node.parent
        if not node.is_named and parent is not None and self._aliases.get(parent.type) == "":
            return True  # punctuation of a transparent level: import ( ... ) in Go
        if kind in g.type_only or (kind in g.annotations and self._erased(node)):
            return True
        if kind == "->" and index + 1 < len(siblings):
            following = siblings[index + 1]
            return following.type in g.annotations and self._erased(following)
        if kind == "expression_statement" and self.language == "python":
            only = [c for c in node.children if "comment" not in c.type]
            if len(only) == 1 and only[0].type in g.strings:
                return True  # a docstring or a bare string: evaluates to nothing
        return self._log_only(node)

    def _erased(self, node: Node) -> bool:
        """True when a type annotation is erased at run time and names no dependency."""
        text = self.text(node)
        if self.language == "python":
            parent = node.parent
            return (
                parent is not None
                and parent.type
                in ("typed_parameter", "typed_default_parameter", "function_definition")
                and not _has(node, self.grammar.calls)
                and not re.search(r"\b(?:Annotated|Depends|Security|Inject\w*)\b", text)
            )
        if self.language in ("typescript", "tsx"):
            return not _in_constructor(node)
        return False

    def _log_only(self, node: Node) -> bool:
        """A statement that only logs (pure arguments), or an ``if`` whose body only logs."""
        g = self.grammar
        if node.type in g.ifs:
            return self._logging_if(node)
        if node.type not in g.statements:
            return False
        calls = (
            [c for c in node.children if c.type in g.calls] if node.type not in g.calls else [node]
        )
        return len(calls) == 1 and self._is_log_call(calls[0])

    def _logging_if(self, node: Node) -> bool:
        """An ``if`` without ``else`` whose condition calls nothing and whose body only logs."""
        condition = node.child_by_field_name("condition")
        body = node.child_by_field_name("consequence") or node.child_by_field_name("body")
        if self.language == "ruby" and node.type.endswith("_modifier"):
            body = node.child_by_field_name("body")
        if condition is None or body is None or node.child_by_field_name("alternative"):
            return False
        if _has(condition, self.grammar.calls) and not self._pure(condition):
            return False
        statements = [c for c in _statements(body) if "comment" not in c.type]
        return bool(statements) and all(
            self._log_only(s) or (s.type in self.grammar.calls and self._is_log_call(s))
            for s in statements
        )

    def _is_log_call(self, call: Node) -> bool:
        callee = self._callee(call)
        if not (_LOGGER.search(callee) or _AUDIT.search(callee)):
            return False
        if re.search(r"(?:fatal|panic|exit|abort)\w*$", callee, re.IGNORECASE):
            return False
        arguments = [c for c in call.children if c is not call.children[0]]
        return all(self._pure(a) for a in arguments)

    def _callee(self, call: Node) -> str:
        """The called name as written (``logger.info``, ``Log::info``, ``Rails.logger.info``)."""
        target = call.child_by_field_name("function") or call.child_by_field_name("macro")
        if target is None and call.type in ("call", "method_invocation"):
            receiver = call.child_by_field_name("receiver") or call.child_by_field_name("object")
            method = call.child_by_field_name("method") or call.child_by_field_name("name")
            head = self.text(receiver) + "." if receiver is not None else ""
            return head + (self.text(method) if method is not None else "")
        if target is None:
            name = call.child_by_field_name("name")
            scope = call.child_by_field_name("scope") or call.child_by_field_name("object")
            head = self.text(scope) + "::" if scope is not None else ""
            return head + (self.text(name) if name is not None else self.text(call.children[0]))
        suffix = "!" if call.type == "macro_invocation" else ""
        return re.sub(r"\s+", "", self.text(target)) + suffix

    def _pure(self, node: Node) -> bool:
        """True when every call below ``node`` is a conversion, a formatter or a bare getter."""
        for call in _descendants(node, self.grammar.calls | self.grammar.news):
            if call.type in self.grammar.news:
                return False
            callee = self._callee(call)
            if not (_PURE.search(callee) or (_GETTER.search(callee) and not _arguments(call))):
                return False
        return not _has(node, _EFFECTS)

    def _builds_message(self, node: Node) -> bool:
        """A call building a log or error message: its strings' wording is not a decision."""
        g = self.grammar
        if node.type in g.raises:
            return True
        if node.type in g.news:
            name = node.child_by_field_name("type") or node.child_by_field_name("constructor")
            if name is None and node.child_count > 1:
                name = node.children[1]  # PHP: ``new`` then the class name, no field names
            return name is not None and bool(_ERROR_CALL.search(self.text(name)))
        if node.type in g.calls:
            callee = self._callee(node)
            return bool(_LOGGER.search(callee) or _ERROR_CALL.search(callee))
        return False

    def _message_strings(self, node: Node) -> Iterator[tuple[int, int]]:
        """Byte spans of the strings passed directly as arguments to a message call.

        For ``raise``/``throw``, the arguments of the exception built there, whatever its
        class is called (``raise PermissionDenied("not yours")``).
        """
        if node.type in self.grammar.raises:
            for child in node.children:
                if child.type in self.grammar.calls | self.grammar.news:
                    yield from self._message_strings(child)
            return
        for child in node.children:
            if child.type in ("argument_list", "arguments", "token_tree"):
                for argument in child.children:
                    inner = argument.children if argument.type == "argument" else [argument]
                    for value in inner:
                        if value.type in self.grammar.strings and self._pure(value):
                            yield (value.start_byte, value.end_byte)
            elif child.type in self.grammar.strings and self._pure(child):
                yield (child.start_byte, child.end_byte)  # Ruby: ``raise "text"`` bare

    def _string(self, node: Node) -> str:
        """A string's normalised text: ``<message>`` for a message, else its plain content."""
        if (node.start_byte, node.end_byte) in self._messages:
            return _MESSAGE
        parts = [c for c in node.children if c.is_named and c.type not in _DELIMITERS]
        text = "".join(self.text(c) for c in parts)
        if all(c.type in _CONTENT for c in parts) and "\\" not in text:
            return text
        return self._spliced(node)

    def _spliced(self, node: Node) -> str:
        """The node's text with renamed leaves (interpolated locals, ``_v2_renames``) replaced."""
        start, end = node.start_byte, node.end_byte
        if not any(start <= at < end for at in self.renamed):
            return self.text(node)
        out, at = [], start
        for leaf in leaves(node):
            if leaf.start_byte in self.renamed:
                out += [self.data[at : leaf.start_byte].decode("utf-8", "surrogateescape")]
                out += [self.renamed[leaf.start_byte]]
                at = leaf.end_byte
        return "".join(out) + self.data[at:end].decode("utf-8", "surrogateescape")

    def _go_error(self, node: Node) -> bool:
        """``fmt.Errorf("text")`` or ``errors.New("text")``: one literal, no verbs."""
        if node.type != "call_expression" or self._callee(node) not in _GO_ERRORS:
            return False
        arguments = node.child_by_field_name("arguments")
        if arguments is None:
            return False
        named = [c for c in arguments.children if c.is_named and "comment" not in c.type]
        return (
            len(named) == 1
            and named[0].type in self.grammar.strings
            and "%" not in self.text(named[0]).replace("%%", "")
        )

    def _import_words(self, node: Node) -> Iterator[str]:
        for leaf in leaves(node):
            if "comment" not in leaf.type and leaf.type not in (",", ";"):
                yield self.text(leaf)


#: Nodes that change state wherever they appear.
_EFFECTS = frozenset(
    {
        "assignment", "augmented_assignment", "assignment_expression", "update_expression",
        "await", "await_expression", "yield", "yield_expression", "operator_assignment",
        "augmented_assignment_expression", "short_var_declaration", "inc_statement",
        "dec_statement", "send_statement",
    }
)  # fmt: skip


def _statements(body: Node) -> list[Node]:
    """The statements of a block (or the one statement of a modifier / braceless body)."""
    inner = [c for c in body.children if c.is_named]
    if body.type in ("block", "statement_block", "compound_statement", "then", "body_statement"):
        lists = [c for c in inner if c.type == "statement_list"]
        return [s for c in lists for s in c.children if s.is_named] if lists else inner
    return [body]


def _in_constructor(node: Node) -> bool:
    """True inside a TypeScript constructor's parameters (types there drive injection)."""
    parent = node.parent
    while parent is not None:
        if parent.type == "method_definition":
            name = parent.child_by_field_name("name")
            return name is not None and name.text == b"constructor"
        if parent.type in ("class_body", "program", "statement_block"):
            return False
        parent = parent.parent
    return False

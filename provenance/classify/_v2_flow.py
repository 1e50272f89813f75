"""An ``else`` after a branch that always exits is the code after the ``if`` (decision 0028).

``if c: return x`` followed by ``else: rest`` runs ``rest`` exactly when ``c`` is false, and
so does ``if c: return x`` followed by ``rest``: the branch that is taken for ``c`` never
reaches the end of the ``if``. Linters rewrite one into the other (ruff RET505, ESLint
``no-else-return``, golint's "drop this else", RuboCop's guard clauses), so the tokenizer
(``_v2_tokens``) reads the ``else`` body's statements as if they followed the ``if``, in the
block that holds it.

The reading is taken only where it is the same program:

- the branch's last statement is an unconditional exit: ``return``, ``raise``/``throw``,
  ``break``, ``continue`` (Ruby: ``return``, ``next``, ``break``, ``raise``);
- there is exactly one ``else`` (an ``else if`` is one statement and is kept as it is;
  Python's ``elif``, PHP's ``elseif`` and Ruby's ``elsif`` are not read this way);
- where a block scopes names (JavaScript, TypeScript, Go), the ``else`` body declares
  nothing at its top level: a ``let`` moved out of its block could shadow or clash with
  another name. Go's ``if x := f(); ...`` is refused for the same reason;
- Ruby's ``if`` is an expression: only an ``if`` that stands as a statement of a body;
- Python, Ruby, PHP, JavaScript, TypeScript and Go; not Java or C# (not built) nor Rust,
  whose ``if`` is an expression everywhere.

A diff may cut the rewrite into two hunks (the ``else`` line in one, the body's new
indentation in another) that differ one by one; where an ``else`` was read so, ``_v2_neutral``
also compares the two whole files' tokens, and equal tokens are the same program.
"""

from __future__ import annotations

from tree_sitter import Node

#: Statements that always leave the block they end.
_EXITS = frozenset(
    {
        "return_statement", "raise_statement", "throw_statement", "break_statement",
        "continue_statement", "return", "break", "next",
    }
)  # fmt: skip
#: Languages whose blocks scope the names declared in them.
_BLOCK_SCOPED = frozenset({"javascript", "typescript", "tsx", "go"})
#: ``var`` is scoped to the function in JavaScript, not to the block.
_FUNCTION_SCOPED = frozenset({"variable_declaration"})
_LANGUAGES = frozenset({"python", "ruby", "php", "javascript", "typescript", "tsx", "go"})
#: Where a Ruby ``if`` stands as a statement (its value is that of the body it ends).
_RUBY_BODIES = frozenset({"program", "body_statement", "then", "else", "block_body"})
_BRACES = frozenset({"{", "}"})
#: The node types ``guard_clause`` reads.
IF_NODES = frozenset({"if_statement", "if"})


def guard_clause(language: str, node: Node) -> tuple[frozenset[int], list[Node]] | None:
    """For an ``if`` whose branch always exits and which has one ``else``: the start bytes of
    the children that form the ``else`` (keyword and body), and the ``else`` body's statements
    to read after the ``if``. ``None`` when the reading does not apply."""
    if language not in _LANGUAGES or node.type not in IF_NODES:
        return None
    if language == "ruby" and (node.parent is None or node.parent.type not in _RUBY_BODIES):
        return None
    if language == "go" and node.child_by_field_name("initializer") is not None:
        return None
    alternatives = [
        c for i, c in enumerate(node.children) if node.field_name_for_child(i) == "alternative"
    ]
    consequence = node.child_by_field_name("consequence") or node.child_by_field_name("body")
    if len(alternatives) != 1 or consequence is None or not _exits(language, consequence):
        return None
    alternative = alternatives[0]
    if alternative.type in ("elif_clause", "else_if_clause", "elsif"):
        return None
    body = _else_body(language, alternative)
    if body is None:
        return None
    statements = _statements_of(body)
    if language in _BLOCK_SCOPED and any(_declares(s) for s in statements):
        return None
    skipped = {alternative.start_byte}
    if language == "go":  # Go's ``else`` keyword is a child of the ``if`` itself
        skipped |= {c.start_byte for c in node.children if c.type == "else"}
    return frozenset(skipped), statements


def _else_body(language: str, alternative: Node) -> Node | None:
    """The block (or single statement) an ``else`` runs."""
    if language == "ruby":
        return alternative if alternative.type == "else" else None
    if language == "go":
        return alternative if alternative.type in ("block", "if_statement") else None
    if alternative.type != "else_clause":
        return None
    body = alternative.child_by_field_name("body")
    if body is None:
        named = [c for c in alternative.children if c.is_named and "comment" not in c.type]
        body = named[-1] if named else None
    return body


def _statements_of(body: Node) -> list[Node]:
    """The statements (comments included) a block holds, or the single statement itself."""
    if body.type in ("block", "statement_block", "compound_statement", "then", "else"):
        inner = [c for c in body.children if c.type not in _BRACES | {"else", "then"}]
        lists = [c for c in inner if c.type == "statement_list"]
        if lists:
            return [s for c in lists for s in c.children if s.is_named]
        return [c for c in inner if c.is_named]
    return [body]


def _exits(language: str, consequence: Node) -> bool:
    """True when the branch's last statement always leaves the block."""
    statements = [s for s in _statements_of(consequence) if "comment" not in s.type]
    if not statements:
        return False
    last = statements[-1]
    if last.type in _EXITS:
        return True
    if language == "php" and last.type == "expression_statement":
        named = [c for c in last.children if c.is_named]
        return len(named) == 1 and named[0].type == "throw_expression"
    if language == "ruby" and last.type == "call":
        method = last.child_by_field_name("method")
        return (
            last.child_by_field_name("receiver") is None
            and method is not None
            and method.text == b"raise"
        )
    return False


def _declares(statement: Node) -> bool:
    """True for a statement that declares a name in its block."""
    kind = statement.type
    if kind in _FUNCTION_SCOPED:
        return False
    return any(word in kind for word in ("declaration", "function", "class", "labeled"))

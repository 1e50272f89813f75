"""Which changed lines of a code file change what it does, judged on both sides' syntax trees.

Each hunk's tokens (``_v2_tokens``: comments, formatting, log statements and wording, erased
type annotations set aside) are compared between the parent's version and the commit's. Equal
tokens mean the hunk is behaviour-neutral; otherwise the lines holding tokens that differ are
the ones rules should read, without their comments. Import statements are compared as a
multiset over the whole change: reordered imports are neutral, and so are imports a language
resolves without side effects when they are only added (Go) or were unused (PHP, Java, C#, Go
and TypeScript's ``import type``); any other import change is read like code. When hunks differ
where one name replaces another, a consistent rename of a function's local (``_v2_renames``) is
read under its new name and the hunks compared again.

Neutrality is shown or not at all: without a grammar for the language, without both sides'
sources, when either side does not parse cleanly, when the hunks do not match the lines, or for
sources over the parse bound, ``effective`` returns ``None`` and the change is judged as ``@1``
judges it.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from tree_sitter import Node

from provenance.classify._locate import Line, numbered
from provenance.classify._v2_changes import read_as
from provenance.classify._v2_renames import RENAME_LANGUAGES, RENAMED_LEAVES, local_renames
from provenance.classify._v2_tokens import GRAMMARS, Tokenizer, Tokens
from provenance.classify.syntax import MAX_PARSE_BYTES, language_of, parse, without_comments
from provenance.models import FileChange

#: Languages whose imports run no code: an added import cannot act (Go: nothing else may be
#: named the same), a removed unused one changes nothing.
_ADDED_IMPORTS_OK = frozenset({"go"})
_UNUSED_IMPORTS_OK = frozenset({"go", "php", "java", "csharp"})
#: At most this many hunks are compared; beyond it the change is judged as ``@1`` does.
MAX_HUNKS = 200
#: What the tokenizer (``_v2_tokens``) and the move finder (``_v2_moves``) treat as the same
#: (decisions 0013 and 0019). Named in the ruleset digest: a build that judges differently
#: says so there.
EQUIVALENCES = (
    "comments", "formatting", "trailing-commas", "optional-semicolons", "python-docstrings",
    "quote-style", "pure-log-statements", "log-and-error-wording", "go-error-constructors",
    "erased-type-annotations", "import-order", "python-string-formatting",
    "php-global-function-imports", "arrow-expression-bodies", "typescript-assertions",
    "ruby-symbol-keys", "unread-exception-bindings", "whole-definition-moves",
    "python-function-method-moves", "function-local-renames", "else-after-exit",
)  # fmt: skip


@dataclass(frozen=True)
class Effective:
    """The lines of a change that can alter behaviour (``()``: the change is neutral)."""

    lines: tuple[Line, ...]

    @property
    def neutral(self) -> bool:
        """True when no hunk changes a token."""
        return not self.lines


def neutral_document() -> dict[str, Any]:
    """The stage's tables, for the ruleset digest."""
    return {
        "equivalences": list(EQUIVALENCES),
        "added_imports_ok": sorted(_ADDED_IMPORTS_OK),
        "unused_imports_ok": sorted(_UNUSED_IMPORTS_OK),
        "max_hunks": MAX_HUNKS,
        "local_renames": sorted(RENAME_LANGUAGES),
    }


def effective(change: FileChange) -> Effective | None:
    """The effective lines of a modified code file, or ``None`` when they cannot be shown."""
    language = language_of(change.path)
    sources = (change.old_source, change.new_source)
    if (
        language is None
        or language not in GRAMMARS
        or language_of(change.old_path) != language
        or sources[0] is None
        or sources[1] is None
        or not change.hunks
        or len(change.hunks) > MAX_HUNKS
        or change.truncated
        or not numbered(change)
    ):
        return None
    old, new = (s.encode("utf-8", "surrogateescape") for s in sources if s is not None)
    if max(len(old), len(new)) > MAX_PARSE_BYTES:
        return None
    try:
        return _effective(change, language, old, new, sources)
    except RecursionError:
        return None  # nesting deeper than the walk goes: judged as @1 judges it


def _effective(
    change: FileChange,
    language: str,
    old: bytes,
    new: bytes,
    sources: tuple[str | None, str | None],
) -> Effective | None:
    old_tree, new_tree = parse(old, language), parse(new, language)
    if old_tree.root_node.has_error or new_tree.root_node.has_error:
        return None
    trees = (old_tree.root_node, new_tree.root_node)
    pairs: set[tuple[str, str]] = set()
    tokenizers = (Tokenizer(language, old), Tokenizer(language, new))
    compared = _compare(change, tokenizers, trees, pairs)
    renames = {}
    if compared[0] and pairs:
        spans = [(h[0], h[0] + h[1] - 1) for h in change.hunks if h[1]]
        renames = local_renames(language, (old_tree, new_tree), pairs, spans)
    if renames:  # read the old side's renamed locals under their new names, and compare again
        tokenizers = (Tokenizer(language, old), Tokenizer(language, new))
        tokenizers[0].renamed.update(renames)
        compared = _compare(change, tokenizers, trees, None)
    changed, imports, dropped = compared
    if changed and _same_program(tokenizers, trees):
        changed = set()
    changed |= _import_lines(language, imports, sources)
    return Effective(_texts(change, changed, dropped))


def _same_program(tokenizers: tuple[Tokenizer, Tokenizer], trees: tuple[Node, Node]) -> bool:
    """True when both whole files read as the same tokens, asked only where an ``else`` on a
    changed line was read as the code after its ``if`` (``_v2_flow``): a diff may cut that
    move into two hunks (the ``else`` line in one, the body's new indentation in another)
    that differ one by one.
    Imports are compared on their own, as for hunks."""
    if not (tokenizers[0].guard_clauses or tokenizers[1].guard_clauses):
        return False
    old, new = (
        t.tokens(root, [(1, root.end_point[0] + 1)])
        for t, root in zip(tokenizers, trees, strict=True)
    )
    return old.keys == new.keys


_Compared = tuple[
    set[tuple[str, int]],
    dict[str, list[tuple[str, int, int]]],
    dict[str, dict[int, list[tuple[int, int]]]],
]


def _compare(
    change: FileChange,
    tokenizers: tuple[Tokenizer, Tokenizer],
    trees: tuple[Node, Node],
    pairs: set[tuple[str, str]] | None,
) -> _Compared:
    """Lines holding differing tokens, each side's imports and dropped spans, hunk by hunk;
    with ``pairs``, also the (old, new) names one hunk's tokens swap one for one."""
    changed: set[tuple[str, int]] = set()
    imports: dict[str, list[tuple[str, int, int]]] = {"old": [], "new": []}
    dropped: dict[str, dict[int, list[tuple[int, int]]]] = {"old": {}, "new": {}}
    for old_start, old_count, new_start, new_count in change.hunks:
        sides = []
        for side, tokenizer, root, start, count in (
            ("old", tokenizers[0], trees[0], old_start, old_count),
            ("new", tokenizers[1], trees[1], new_start, new_count),
        ):
            ranges = [(start, start + count - 1)] if count else []
            found = tokenizer.tokens(root, ranges) if ranges else Tokens()
            imports[side] += found.imports
            for line, spans in found.dropped.items():
                dropped[side].setdefault(line, []).extend(spans)
            sides.append((side, found, ranges))
        changed |= _differing(sides[0][1], sides[1][1], sides[0][2], sides[1][2], pairs)
    return changed, imports, dropped


def _differing(
    old: Tokens,
    new: Tokens,
    old_ranges: list[tuple[int, int]],
    new_ranges: list[tuple[int, int]],
    pairs: set[tuple[str, str]] | None = None,
) -> set[tuple[str, int]]:
    """Lines (side, number) of one hunk holding tokens that differ between the sides."""
    if old.keys == new.keys:
        return set()
    out: set[tuple[str, int]] = set()
    matcher = difflib.SequenceMatcher(None, old.keys, new.keys, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if pairs is not None and op == "replace" and i2 - i1 == j2 - j1:
            pairs |= {
                (a[1], b[1])
                for a, b in zip(old.keys[i1:i2], new.keys[j1:j2], strict=True)
                if a[0] == b[0] and a[2] == b[2] and a[1] != b[1] and a[0] in RENAMED_LEAVES
            }
        out |= _lines_of("old", old.spans[i1:i2], old_ranges)
        out |= _lines_of("new", new.spans[j1:j2], new_ranges)
    return out


def _lines_of(
    side: str, spans: Sequence[tuple[int, int]], ranges: Sequence[tuple[int, int]]
) -> set[tuple[str, int]]:
    """The lines of ``spans`` inside the hunk's ``ranges`` (a long string is clipped)."""
    out = set()
    for first, last in spans:
        for lo, hi in ranges:
            out |= {(side, n) for n in range(max(first, lo), min(last, hi) + 1)}
    return out


def _import_lines(
    language: str,
    imports: dict[str, list[tuple[str, int, int]]],
    sources: tuple[str | None, str | None],
) -> set[tuple[str, int]]:
    """Hunk lines of imports that change what the file can reach (see the module docstring)."""
    old = Counter(text for text, _, _ in imports["old"])
    new = Counter(text for text, _, _ in imports["new"])
    removed, added = old - new, new - old
    if not removed and not added:
        return set()
    harmless = set()
    if language in _ADDED_IMPORTS_OK:
        harmless |= {t for t in added if not re.match(r"[_.]\s", t.split(" ", 1)[-1] + " ")}
    if language in _UNUSED_IMPORTS_OK and sources[0] is not None:
        harmless |= {t for t in removed if _unused(t, sources[0])}
    if language == "php":
        harmless |= {t for t in removed if _global_function_import(t, sources)}
    if language in ("typescript", "tsx"):
        harmless |= {t for t in (*removed, *added) if t.startswith("import type ")}
    out: set[tuple[str, int]] = set()
    for side, counts in (("old", removed), ("new", added)):
        for text, first, last in imports[side]:
            if counts[text] and text not in harmless:
                out |= {(side, n) for n in range(first, last + 1)}
    return out


def _unused(statement: str, source: str) -> bool:
    """True when the name an import binds occurs nowhere else in the file."""
    words = re.findall(r"\w+", statement)
    if not words:
        return False
    name = words[-1]
    return len(re.findall(rf"(?<![\w$]){re.escape(name)}(?!\w)", source)) <= 1


def _global_function_import(statement: str, sources: tuple[str | None, str | None]) -> bool:
    """``use function name;`` of a global function, where the file defines no such function.

    PHP resolves an unqualified function call in namespace ``NS`` to ``NS\\name`` when that
    function is defined, else to the global ``name`` (a class name has no such fallback). The
    import pins the global function; without it the call falls back to the same function
    unless ``NS\\name`` exists. A definition of that name in this file (any side) refuses; one
    in another file is the residual risk decision 0019 accepts.
    """
    match = re.fullmatch(r"use function (?:\\ )?(\w+)", statement)
    if match is None:
        return False
    name = match.group(1).lower()
    for source in sources:
        if source is None:
            return False
        tree = parse(source.encode("utf-8", "surrogateescape"), "php")
        stack = [tree.root_node]
        while stack:  # functions, not methods: a method is never called as ``name()``
            node = stack.pop()
            found = node.child_by_field_name("name") if node.type == "function_definition" else None
            if found is not None and (found.text or b"").decode("utf-8", "replace").lower() == name:
                return False
            stack.extend(node.children)
    return True


def _texts(
    change: FileChange,
    changed: set[tuple[str, int]],
    dropped: dict[str, dict[int, list[tuple[int, int]]]],
) -> tuple[Line, ...]:
    """The changed lines that matter, with comments and dropped statements cut out."""
    out: list[Line] = []
    for side, number, text in numbered(change):
        if (side, number) not in changed:
            continue
        cuts = dropped[side].get(number)
        if cuts:  # tree-sitter columns count bytes
            data = text.encode("utf-8", "surrogateescape")
            for start, end in sorted(cuts, reverse=True):
                data = data[:start] + b" " + data[end:]
            text = data.decode("utf-8", "surrogateescape")
        out.append((side, number, text))
    return tuple(out)


def decommented(change: FileChange) -> FileChange:
    """``change`` with comments blanked in its sources and changed lines (when it can be)."""
    language = language_of(change.path)
    if language is None or language not in GRAMMARS or not numbered(change):
        return change
    sides = {}
    for side, source in (("old", change.old_source), ("new", change.new_source)):
        sides[side] = None if source is None else without_comments(source, language)
    return read_as(change, numbered(change), sides)


def only_hunks(change: FileChange, lines: set[tuple[str, int]]) -> FileChange:
    """``change`` with only the hunks holding one of ``lines`` (side, number)."""
    hunks: list[tuple[int, int, int, int]] = []
    added: list[str] = []
    removed: list[str] = []
    a = r = 0
    for hunk in change.hunks:
        old_start, old_count, new_start, new_count = hunk
        new = change.added[a : a + new_count]
        old = change.removed[r : r + old_count]
        a, r = a + new_count, r + old_count
        if any(("new", n) in lines for n in range(new_start, new_start + new_count)) or any(
            ("old", n) in lines for n in range(old_start, old_start + old_count)
        ):
            hunks.append(hunk)
            added += new
            removed += old
    return replace(change, hunks=tuple(hunks), added=tuple(added), removed=tuple(removed))

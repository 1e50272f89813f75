"""Control flow changed inside a function that decides access (THREATS.md G45).

A zero-context diff of ``if request.GET.get("embed"): return render(...)`` names nothing
identity-related; the ownership check it now skips sits a few lines below, unchanged. So for a
hunk that touches control flow (an early exit, a condition, a negation, ``or True``, a moved
line), the rule
looks at the function around it (``provenance.classify.syntax``): it fires when the function is
named as a decision (``can_edit``, ``has_permission``, ``require_admin`` ...) or when an access
check sits at or below the hunk, where the new flow can skip, negate or outrun it. A check
above the hunk (a decorator, an earlier guard) already ran and is not counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache

from provenance.classify.syntax import Span, enclosing, fallback
from provenance.models import FileChange

from ._normalize import words_view

GUARD_RULE = "code.guard-flow"
GUARD_DOC = "control flow changed in a function that decides access, above or in its check"
#: Kinds of program code the rule reads (never tests, templates or configuration).
GUARD_KINDS = frozenset({"python", "js", "go", "jvm", "ruby", "php", "code"})
#: Content rules whose hits mark an access decision.
GUARD_RULES = frozenset(
    {
        *("code.authz-check", "code.role-check", "code.auth-decorator", "code.ownership"),
        *("code.current-user-dependency", "code.http-auth-status", "code.login-flow"),
        *("code.http-auth-status-code", "code.credential-compare", "code.signing"),
        *("ruby.authz", "php.authz", "js.auth-calls", "go.auth-calls", "code.authn"),
    }
)
#: Tokens of control flow and of conditions: an exit, a negation, a short circuit (``or True``
#: has ``or``). A bare ``if`` is not one: a new branch that skips something exits or negates.
_CONTROL_WORDS = frozenset(
    (
        *("return", "raise", "throw", "continue", "break", "exit", "die", "abort", "next"),
        *("redo", "retry", "halt", "goto", "unless", "not", "and", "or"),
    )
)
_WORD = re.compile(r"[A-Za-z_]+")
_OPERATOR = re.compile(r"&&|\|\||!(?!=)")
#: Function names that say the function decides access (matched on the words view).
_DECIDER = re.compile(
    r"\b(?:can|permit|permitted|allowed to|authori[sz]e\w*|authenticat\w*"
    r"|has (?:perm\w*|access|roles?|rights?|scopes?|privileges?)|is (?:authorized"
    r"|owner|admin|member|staff|superuser|moderator|authenticated)"
    r"|(?:check|require|ensure|verify|assert|enforce|validate) (?:perm\w*|access|auth\w*"
    r"|owner\w*|roles?|admin\w*|user|login|logged|signed|token|signature|password|scopes?"
    r"|member\w*)|guard\w*|(?:visible|viewable|editable|accessible) (?:to|by)"
    r"|(?:login|admin|auth) required)\b"
)
#: What precedes a function's name: a Go receiver, keywords, modifiers, return types.
_GO_RECEIVER = re.compile(r"^\s*func\s*\([^)]*\)")
_ANNOTATION = re.compile(r"^\s*(?:@|#\[|\[|$)")
#: At most this many lines of a function are read below the hunk for a check.
MAX_BELOW = 80

Matcher = Callable[[str], set[str]]


def touches_control_flow(lines: Sequence[str]) -> bool:
    """True when a changed line holds a control-flow or condition token."""
    text = "\n".join(lines)
    if not _CONTROL_WORDS.isdisjoint(_WORD.findall(text)):
        return True
    return ("&" in text or "|" in text or "!" in text) and _OPERATOR.search(text) is not None


def _hunk_sides(change: FileChange) -> Iterator[tuple[str | None, str, int, tuple[str, ...]]]:
    """Per hunk and side: the side's source, path, first line and changed lines."""
    added = removed = 0
    for old_start, old_count, new_start, new_count in change.hunks:
        yield change.new_source, change.path, new_start, change.added[added : added + new_count]
        yield (
            change.old_source,
            change.old_path,
            old_start,
            change.removed[removed : removed + old_count],
        )
        added += new_count
        removed += old_count


def guard_flow(change: FileChange, guards: Matcher) -> bool:
    """True when a hunk changes control flow in a function that decides access.

    Lines that move (removed in one place, added in another) change the order of what runs:
    an action moved above the check that guarded it counts like an early exit.

    ``guards(text)`` returns the ids of the access-decision rules matching ``text``. Needs the
    sources: without them (not wanted, or too large) nothing is known about the function.
    """
    if change.source_heads or (change.new_source is None and change.old_source is None):
        return False  # unread (``diff.truncated`` demands evidence then) or not wanted
    moved = {ln.strip() for ln in change.added} & {ln.strip() for ln in change.removed}
    moved.discard("")
    for source, path, first, lines in _hunk_sides(change):
        if source is None or not lines:
            continue
        if not touches_control_flow(lines) and not moved.intersection(ln.strip() for ln in lines):
            continue
        if _decides(source, path, first, len(lines), guards):
            return True
    return False


def _decides(source: str, path: str, first: int, count: int, guards: Matcher) -> bool:
    lines = _lines(source)
    window = lines[first - 1 : first - 1 + MAX_BELOW]
    near = bool(window) and bool(guards("\n".join(window)) & GUARD_RULES)
    if not near and not _decider_above(lines, first):
        return False  # no check below the hunk and no deciding name above it: nothing to parse
    for span in enclosing(source, path, first, first + count - 1):
        if _decider_header(lines, span, first):
            return True
        if near and (
            span.last >= first - 1 + MAX_BELOW or _guard_below(lines, span, first, guards)
        ):
            return True
    return False


@lru_cache(maxsize=16)
def _lines(source: str) -> list[str]:
    return source.splitlines()


def _decider_above(lines: list[str], first: int) -> bool:
    """True when the nearest header-looking line above ``first`` names a decision (cheap)."""
    span = fallback(lines, first, first)
    return span is not None and _decider_header(lines, Span(span.first, first, False), first)


def _decider_header(lines: list[str], span: Span, first: int) -> bool:
    """True when the function's name (its first line after decorators) names a decision.

    Decorators and annotations (``@login_required``, ``#[...]``, ``[Authorize]``) are checks
    that run before the body, not the function's name.
    """
    for line in lines[span.first - 1 : min(span.last, first - 1)]:
        if not _ANNOTATION.match(line):
            name = _GO_RECEIVER.sub("", line).split("(", 1)[0]  # not the parameters
            return _DECIDER.search(words_view(name)) is not None
    return False


def _guard_below(lines: list[str], span: Span, first: int, guards: Matcher) -> bool:
    """True when an access check sits at or below line ``first`` inside the function."""
    below = lines[first - 1 : min(span.last, first - 1 + MAX_BELOW)]
    return bool(below) and bool(guards("\n".join(below)) & GUARD_RULES)

"""Control flow changed inside a function that decides access (THREATS.md G45).

A zero-context diff of ``if request.GET.get("embed"): return render(...)`` names nothing
identity-related; the ownership check it now skips sits a few lines below, unchanged. So for a
hunk that can change what a decision does (an early exit, a condition, a negation, ``or
True``, a moved line, or an assignment to a name a condition below reads, as when
``allowed = True`` or ``request.user = owner`` lands above the check) the rule looks at the
function around it (``provenance.classify.syntax``): it fires when the function is named as a
decision (``can_edit``, ``has_permission``, ``require_admin`` ...) or when an access check sits
at or below the hunk, anywhere down to the function's end, where the new flow can skip, negate
or outrun it. A check above the hunk (a decorator, an earlier guard) already ran and is not
counted. A check is a hit of the access-decision content rules or, whatever the framework's
words, a denial (401/403, ``FORBIDDEN``, ``PermissionDenied``), a redirect to a login page, or
a condition on the session, a cookie, the principal, an owner, a role or a token. A hunk
outside any function that changes which routes such a file guards (a middleware ``matcher``,
an allow list) counts too. Red-team 03 (flag overwrite, a check 80 lines down, Spring, Next.js
and Go words) passed the gate before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from provenance.classify._content import ContentScanner
from provenance.classify._memo import LineFlags, SizedLRU
from provenance.classify._model import ContentRule
from provenance.classify._normalize import raw_text, words_view
from provenance.classify.syntax import MAX_WINDOW, Span, enclosing, fallback
from provenance.models import FileChange

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
#: Words of a denial or a login redirect, whatever the framework (red-team 03: Spring's
#: ``HttpStatus.FORBIDDEN``, Go's ``http.Redirect(w, r, "/login", ...)``, Next.js redirects).
#: Matched on the words view (``StatusForbidden`` reads ``status forbidden``).
_DENIAL = re.compile(
    r"\b(?:40[13]|forbidden|unauthori[sz]ed|unauthenticated|permission ?denied|access ?denied"
    r"|not ?(?:authori[sz]ed|permitted|authenticated|logged ?in|signed ?in))\b"
    r"|[\"'`][^\"'`\s]*/(?:log ?in|sign ?in|auth|sso|session/new)\b"
)
#: A condition (a branch keyword or a boolean operator) ...
_CONDITION = re.compile(
    r"\b(?:if|elif|elsif|unless|while|until|when|guard|case|and|or|not)\b|&&|\|\||\?|!(?!=)"
)
_RETURN = re.compile(r"\breturn\b")
#: ... on who is asking: the session, a cookie, the principal, an owner, a role, a token.
_WHO = re.compile(
    r"\b(?:session|sessions|cookie|cookies|principal|current ?user|owner|owners|owner ?id"
    r"|user ?id|role|roles|claims?|jwt|permissions?|scopes?|is ?(?:admin|staff|superuser)"
    r"|superuser|logged ?in|signed ?in|authenticated|tenant ?id|acl|grants?)\b"
)
#: Words that set which routes a file's checks apply to (outside any function).
_SCOPE = re.compile(
    r"\b(?:matchers?|routes|public ?(?:routes|paths|urls|pages)|allow ?list|white ?list"
    r"|skip ?(?:auth\w*|before ?action|login|verification)|permit ?all|anonymous"
    r"|unprotected|(?:exclude|ignore)d? ?(?:paths|routes|urls))\b"
)
#: An assignment's target: a name or attribute chain before ``=``, ``|=``, ``:=`` ...
_ASSIGN = re.compile(
    r"([A-Za-z_$@][\w$@]*(?:(?:\.|->|::)[A-Za-z_$@][\w$@]*)*)\s*"
    r"(?:[-+*/%|&^]|\|\||&&|\?\?|<<|>>|\*\*)?:?=(?![=>~])"
)
#: What precedes a function's name: a Go receiver, keywords, modifiers, return types.
_GO_RECEIVER = re.compile(r"^\s*func\s*\([^)]*\)")
_ANNOTATION = re.compile(r"^\s*(?:@|#\[|\[|$)")
#: Marks of a real test file: a file named like a test without them is production code.
_TEST_MARKS = re.compile(
    r"^\s*(?:(?:(?:public|private|protected|static|async|final)\s+)*(?:def|function|func|void"
    r"|fun|fn)\s+test|class Test|class \w+ (?:extends|<) [\w:\\]*Test"
    r"|(?:from|import) (?:pytest|unittest)\b|func Test\w*\(|@Test\b|@pytest\b|#\[(?:cfg\()?test\b"
    r"|\[(?:Fact|Test|TestMethod|Theory)\b|(?:describe|it|test|context)\s*\("
    r"|RSpec\.|require ['\"](?:rspec|minitest|test_helper|spec_helper|rails_helper)"
    r"|use PHPUnit\b|import (?:org\.junit|static org\.junit|XCTest)\b)",
    re.MULTILINE,
)

Matcher = Callable[[str], set[str]]


def touches_control_flow(lines: Sequence[str]) -> bool:
    """True when a changed line holds a control-flow or condition token."""
    text = "\n".join(lines)
    if not _CONTROL_WORDS.isdisjoint(_WORD.findall(text)):
        return True
    return ("&" in text or "|" in text or "!" in text) and _OPERATOR.search(text) is not None


def might_decide(lines: Sequence[str]) -> bool:
    """True when changed lines may change a decision: control flow, an assignment, a scope.

    Cheap, on the lines alone: whether it does is decided with the source (``guard_flow``).
    """
    if touches_control_flow(lines):
        return True
    text = "\n".join(lines)
    return _ASSIGN.search(text) is not None or _SCOPE.search(words_view(text)) is not None


def looks_like_test(change: FileChange) -> bool:
    """True when ``change`` reads like a test (a name alone is only a claim): its sources, or
    its changed lines when the sources were not read."""
    sources = [s for s in (change.new_source, change.old_source) if s is not None]
    texts = sources or ["\n".join((*change.added, *change.removed))]
    return any(_TEST_MARKS.search(text) for text in texts)


def _hunk_sides(
    change: FileChange,
) -> Iterator[tuple[str, str | None, str, int, tuple[str, ...]]]:
    """Per hunk and side: the side's name, source, path, first line and changed lines."""
    added = removed = 0
    for old_start, old_count, new_start, new_count in change.hunks:
        yield (
            "new",
            change.new_source,
            change.path,
            new_start,
            change.added[added : added + new_count],
        )
        yield (
            "old",
            change.old_source,
            change.old_path,
            old_start,
            change.removed[removed : removed + old_count],
        )
        added += new_count
        removed += old_count


def guard_flow(
    change: FileChange,
    guards: Matcher,
    moved_sides: frozenset[str] = frozenset({"new", "old"}),
    checks: frozenset[str] = GUARD_RULES,
) -> tuple[str, int, int] | None:
    """The first hunk (side, first, last line) that may change what an access decision decides.

    Lines that move (removed in one place, added in another) change the order of what runs:
    an action moved above the check that guarded it counts like an early exit. Moves count on
    the sides named by ``moved_sides``: where a line arrives (``new``) is where it can outrun
    a check; where it left (``old``) only matters to ``builtin:identity@1``. A hunk that only
    assigns counts when a condition below it, in the same function, reads what it assigned
    (a decision's flag overwritten, the principal replaced).

    ``guards(text)`` returns the ids of the rules matching ``text``; those in ``checks`` mark an
    access decision. Needs the sources: without them (not wanted, or too large) nothing is
    known about the function.
    """
    if change.source_heads or (change.new_source is None and change.old_source is None):
        return None  # unread (``diff.truncated`` demands evidence then) or not wanted

    reading = guards if isinstance(guards, Reading) else V1_READING
    decided = _restricted(guards, checks)
    both = change.new_source is not None and change.old_source is not None
    moved = {ln.strip() for ln in change.added} & {ln.strip() for ln in change.removed}
    moved.discard("")
    for side, source, path, first, lines in _hunk_sides(change):
        if source is None or not lines:
            continue
        arrived = moved.intersection(ln.strip() for ln in lines) if side in moved_sides else set()
        moves = bool(arrived)
        if touches_control_flow(lines) or moves:
            targets: frozenset[str] | None = None  # the flow itself changed
        else:
            targets = frozenset(_ASSIGN.findall("\n".join(lines)))
        hunk = (side, first, first + len(lines) - 1)
        if (targets is None or targets) and _decides(
            source,
            path,
            (side, first, len(lines), _outruns(change, reading, first, arrived)),
            decided,
            targets,
            reading,
        ):
            return hunk
        if both and _scopes_checks(source, path, first, lines, decided, reading):
            return hunk
    return None


def _outruns(change: FileChange, reading: Reading, first: int, arrived: set[str]) -> bool:
    """True when lines that arrived at ``first`` may outrun a check: some name something
    (``}`` or ``];`` cannot act) and, with ``reading.stays``, not all left the same function."""
    acting = {line for line in arrived if _WORD.search(line)}
    return bool(acting) and (reading.stays is None or not reading.stays(change, first, acting))


@lru_cache(maxsize=64)
def _restricted(guards: Matcher, checks: frozenset[str]) -> Matcher:
    """``guards`` answering only ``checks``: one object per pair, so ``_has_check`` remembers
    its answers across changes."""

    def decided(text: str) -> set[str]:
        return guards(text) & checks

    return decided


def guard_scanner(rules: Iterable[ContentRule], ruleset_id: str) -> ContentScanner:
    """A scanner of the access-decision rules alone: guard-flow asks only whether a text holds
    a check (``GUARD_RULES``), often of whole functions and files, so the other rules are not
    run on them (the answer is the same: every caller intersects with ``GUARD_RULES``)."""
    return ContentScanner([r for r in rules if r.id in GUARD_RULES], ruleset_id)


@lru_cache(maxsize=64)
def guard_matcher(scanner: ContentScanner, kinds: frozenset[str]) -> Matcher:
    """``guards`` for ``guard_flow``: the ids of ``scanner``'s rules for ``kinds`` matching a
    text. One object per scanner and kinds, so what it answered is remembered across changes
    and commits (``_has_check``)."""

    def guards(text: str) -> set[str]:
        return {r.id for r in scanner.matching(kinds, raw_text([text]))}

    return guards


def is_check(text: str, guards: Matcher, reading: Reading | None = None) -> bool:
    """True when ``text`` holds an access check: a decision rule's hit, a denial, a condition
    on who is asking.

    Denials and conditions are read line by line, each line once per process (``_memo``):
    neither pattern can match across a line break, and the words view of a text is its
    lines' words views joined (decision 0021), so this is the same answer as reading the
    whole text at once. The decision rules, whose matches may span lines, read it whole.
    """
    conditions = (reading or V1_READING).conditions
    if _DENIALS.any(text.split("\n")) or conditions.any(text.splitlines()):
        return True
    return bool(guards(text) & GUARD_RULES)


def _denies(line: str) -> bool:
    return _DENIAL.search(words_view(line)) is not None


def _conditions_who(line: str) -> bool:
    return _CONDITION.search(line) is not None and _WHO.search(words_view(line)) is not None


_DENIALS = LineFlags(_denies)
_CONDITIONS = LineFlags(_conditions_who)


#: ``@2``'s frames (``_v2_frames.reaches``): whether a hunk (``source``, ``path``, ``side``,
#: ``first``, ``count``) in the nested function ``inner`` can change what ``outer`` checks
#: after it; ``is_check`` tells a check.
Reaches = Callable[[str, str, str, int, int, Span, Span, Callable[[str], bool]], bool]


#: ``@2``: whether the lines that arrived at a line of the new side all left the function
#: they arrived in (reordered inside it, they cannot outrun what runs after it).
Stays = Callable[[FileChange, int, set[str]], bool]


@dataclass(frozen=True, eq=False)
class Reading:
    """A matcher (``guards``) with how ``guard_flow`` reads conditions: the condition tokens
    (``condition``) and the lines that are conditions on who is asking (``conditions``).

    ``builtin:identity@1`` reads ``_CONDITION`` (``V1_READING``); ``@2`` passes its own
    (``_v2_frames.framed``) as its matcher, so neither edits what the other reads. ``@2``
    also reads a nested function as a frame of its own (``reaches``). Compared by
    identity: one object per matcher, so ``_has_check`` remembers its answers.
    """

    guards: Matcher
    condition: re.Pattern[str]
    conditions: LineFlags
    reaches: Reaches | None = None
    stays: Stays | None = None

    def __call__(self, text: str) -> set[str]:
        return self.guards(text)


V1_READING = Reading(lambda _text: set(), _CONDITION, _CONDITIONS)

#: ``@2``: a call that verifies who is asking (``user.authenticate(pw)``, ``check_password``,
#: ``password_verify``, ``compare_digest`` ...). ``@2`` takes no bare auth word for a check
#: (decision 0013), but a condition that calls one of these decides access (decision 0025).
_VERIFIES = re.compile(
    r"(?i)(?:authenticat\w*|authori[sz]e\w*"
    r"|(?:verify|check|validate|valid)_?(?:password|passwd|pass|credentials?|otp|totp|token"
    r"|signature|hmac)\w*|password_?(?:verify|matches)|compare_?digest|secure_?compare"
    r"|hash_equals|timing_?safe_?equal|checkpw|bcrypt\.compare\w*|argon2\.verify)[?!]?\s*\("
)
#: The rule whose hit ``verifying`` keeps only on such a condition.
_AUTH_WORD = "code.authn"


def _verifies(line: str) -> bool:
    return _CONDITION.search(line) is not None and _VERIFIES.search(line) is not None


_VERIFYING = LineFlags(_verifies)


@lru_cache(maxsize=64)
def verifying(guards: Matcher) -> Matcher:
    """``guards`` with ``code.authn`` (a bare auth word) counted only where a condition calls
    something that verifies a credential (``_VERIFIES``): ``@2``'s reading of a check.

    One object per matcher, so ``_has_check`` remembers its answers across changes.
    """

    def decided(text: str) -> set[str]:
        found = guards(text) - {_AUTH_WORD}
        if _VERIFYING.any(text.split("\n")):
            found.add(_AUTH_WORD)
        return found

    return decided


def verifying_document() -> dict[str, str]:
    """The pattern ``verifying`` reads, for ``@2``'s ruleset digest."""
    return {"credential_calls": _VERIFIES.pattern, "in": _CONDITION.pattern}


def _decides(
    source: str,
    path: str,
    hunk: tuple[str, int, int, bool],
    guards: Matcher,
    targets: frozenset[str] | None,
    reading: Reading,
) -> bool:
    side, first, count, moves = hunk  # a line that moves (and acts) can outrun any check
    lines = _lines(source)
    if not _decider_above(lines, first) and not _has_check(source, guards, reading):
        return False  # no check in the file and no deciding name above: nothing to parse
    spans = enclosing(source, path, first, first + count - 1)
    for k, span in enumerate(spans):
        if _decider_header(lines, span, first) and (
            targets is None
            or _read_below(lines[first - 1 + count : span.last], targets, True, reading)
        ):
            return True  # the function is the decision: what it returns is read too
        if k and reading.reaches is not None and not moves:

            def checks(text: str) -> bool:
                return is_check(text, guards, reading)

            if not reading.reaches(source, path, side, first, count, spans[k - 1], span, checks):
                continue  # the flow changed in a nested function cannot reach this one's checks
        # A fallback span that reached its bound did not find the function's end: read on.
        end = span.last if span.parsed or span.last - span.first < MAX_WINDOW - 1 else len(lines)
        below = lines[first - 1 : end]
        if not is_check("\n".join(below), guards, reading):
            continue
        if targets is None or _read_below(below[count:], targets, False, reading):
            return True
    return False


def _read_below(
    lines: Sequence[str], targets: frozenset[str], returns: bool, reading: Reading
) -> bool:
    """True when a condition (or, with ``returns``, a return) among ``lines`` reads a target."""
    names = [re.compile(rf"(?<![\w$@.]){re.escape(t)}(?![\w$@])") for t in targets]
    return any(
        (reading.condition.search(ln) or (returns and _RETURN.search(ln)))
        and any(n.search(ln) for n in names)
        for ln in lines
    )


def _scopes_checks(
    source: str, path: str, first: int, lines: Sequence[str], guards: Matcher, reading: Reading
) -> bool:
    """True when a changed line outside any function changes which routes the file's checks
    cover (a middleware ``matcher``, an allow list), in a file both sides of which exist."""
    for n, line in enumerate(lines, first):
        if _SCOPE.search(words_view(line)) and not enclosing(source, path, n, n):
            return _has_check(source, guards, reading)
    return False


#: Whole sources ``_has_check`` answered for, by content (a blob comes back as the old side
#: of a later commit), at most this many characters of them.
_CHECKED: SizedLRU[tuple[str, Matcher, Reading], bool] = SizedLRU(32 << 20, lambda key: len(key[0]))


def _has_check(source: str, guards: Matcher, reading: Reading) -> bool:
    """``is_check`` over a whole source, once per source, matcher (``guard_matcher``) and
    reading."""
    return _CHECKED.get((source, guards, reading), lambda: is_check(source, guards, reading))


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

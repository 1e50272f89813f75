"""The classifier for ``builtin:identity@2``: ``@1``'s rules, judged where they matter.

``@1`` fires on any changed line that names identity things and on any change to an identity
path. ``@2`` keeps those rules and adds stages that decide, for the change as written, whether
it can alter who can act (IDENTITY-RUBRIC.md), each failing closed to ``@1``'s verdict when it
cannot tell (``docs/decisions/0013-identity-ruleset-2.md``):

1. scope: tests, docs and tooling are not judged (``_v2_scope``), unless the policy opts in;
2. generated and minified files are judged by their path only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from provenance.classify._content import ContentScanner
from provenance.classify._facts import _Facts
from provenance.classify._guard import GUARD_KINDS, GUARD_RULE, Matcher, guard_scanner, verifying
from provenance.classify._locate import (
    MAX_RANGES,
    Line,
    changed_lines,
    locate,
    numbered,
    ranges,
)
from provenance.classify._model import ContentRule, Finding, Strength
from provenance.classify._normalize import raw_text
from provenance.classify._ruleset import RULESET_V1, ruleset
from provenance.classify._v2_changes import ABSENT, identity_of, present, with_lines
from provenance.classify._v2_deps import DOC as DEPS_DOC
from provenance.classify._v2_deps import RULE as DEPS_RULE
from provenance.classify._v2_deps import applies, dependency_rules
from provenance.classify._v2_frames import framed
from provenance.classify._v2_functions import (
    DEFINITION_DOC,
    DEFINITION_RULE,
    definition_lines,
    lifecycle_lines,
)
from provenance.classify._v2_functions import DOC as LIFECYCLE_DOC
from provenance.classify._v2_functions import RULE as LIFECYCLE_RULE
from provenance.classify._v2_markup import Masked, markup_effective, masked
from provenance.classify._v2_messages import CATALOG_CODE, catalogue, snapshot_file
from provenance.classify._v2_moves import moved_lines
from provenance.classify._v2_neutral import Effective, decommented, effective, only_hunks
from provenance.classify._v2_outbound import without_outbound
from provenance.classify._v2_outbound_words import RULES as OUTBOUND_RULES
from provenance.classify._v2_scope import exempt, generated, minified
from provenance.classify._v2_scoping import DOC as SCOPING_DOC
from provenance.classify._v2_scoping import RULE as SCOPING_RULE
from provenance.classify._v2_scoping import scoped_places
from provenance.classify._v2_templates import CSRF_DOC, FORM_DOC, template_rules
from provenance.classify._v2_templates import CSRF_RULE as TEMPLATE_CSRF
from provenance.classify._v2_templates import FORM_RULE as TEMPLATE_FORM
from provenance.classify._v2_workflows import DOC as CI_DOC
from provenance.classify._v2_workflows import RULE as CI_RULE
from provenance.classify._v2_workflows import applies as workflow_applies
from provenance.classify._v2_workflows import workflow_rules
from provenance.classify.classifier import PACKAGED_RULE, Classifier, register_engine
from provenance.classify.syntax import language_of
from provenance.models import FileChange

#: The rules the stages of ``@2`` report, with their descriptions.
STAGE_RULES = {
    TEMPLATE_CSRF: CSRF_DOC,
    TEMPLATE_FORM: FORM_DOC,
    DEPS_RULE: DEPS_DOC,
    CI_RULE: CI_DOC,
    LIFECYCLE_RULE: LIFECYCLE_DOC,
    DEFINITION_RULE: DEFINITION_DOC,
    SCOPING_RULE: SCOPING_DOC,
}
#: Path rules judged in exempt paths too: repository-wide controls.
_EVERYWHERE = frozenset(
    {"meta.provenance", "git.gitattributes", "git.gitmodules", "git.codeowners"}
)


#: The stages ``ablated`` can switch off.
STAGES = (
    "scope", "catalogues", "templates", "neutral", "moves", "dependencies", "workflows",
    "lifecycle", "django-admin", "guard", "generated", "additions", "outbound", "markup",
    "scoping",
)  # fmt: skip
#: Moved lines count where they arrive: above a check they can outrun it.
_ARRIVALS = frozenset({"new"})
#: What a translation catalogue becomes.
_INERT = frozenset({"inert"})
#: Rules still read in templates: page-level authorization (Razor ``@attribute [Authorize]``).
_TEMPLATE = frozenset({"template"})
_DIRECTIVES = frozenset({"dotnet.authz"})
#: Kinds read whatever a header says (a workflow or manifest made by a tool still acts).
_READ_ANYWAY = frozenset({"manifest", "ci", "config", "sql", "shell"})
#: Key material is judged in a manifest too (a token pasted into ``.npmrc`` or a lockfile).
_SECRET_KINDS = frozenset({"manifest", "ci"})
_SECRET_RULES = frozenset({"secret.material"})
#: Every kind the credential rule reads (it reads inert files too).
_ANY_KIND = frozenset({"inert"})
#: Content verdicts remembered (``wants_source`` and ``classify`` see each change in turn, a
#: whole range apart: ``wants_source`` runs while the range is read, decision 0021).
_MEMO_LIMIT = 1 << 16
#: Path hints of user and account code, where lifecycle functions are looked for.
_USER_CODE = frozenset({"path.hint.user"})
#: The weak path hint of policy files (policies, scopes, grants, claims, access): their
#: functions are access rules (a middleware's are wired where it is used, and judged there).
_ACCESS_CODE = frozenset({"path.hint.role"})
_FUNCTION_CODE = _USER_CODE | _ACCESS_CODE
#: Kinds whose files are shipped minified (scripts and pages).
_MINIFIABLE = frozenset({"js", "template"})
#: Kinds of files some stage of ``@2`` reads whole.
_STAGE_KINDS = frozenset({"python", "js", "go", "jvm", "ruby", "php", "code", "template"})


@dataclass
class _Judgement:
    """What ``@2`` decided about one change, and the lines that decided it."""

    rules: set[str] = field(default_factory=set)
    #: the changed lines content rules were matched against (``None``: all of them)
    lines: list[Line] | None = None
    #: rule -> the changed lines (side, number) a stage fired it on
    places: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    #: True when the verdict came from both whole blobs (a parsed manifest, generated code)
    whole: bool = False


class ClassifierV2(Classifier):
    """``@1``'s path, content and mode rules plus the stages of ``@2``."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        exempt_categories = kwargs.get("exempt", ())
        assert isinstance(exempt_categories, tuple)
        self._categories = frozenset(str(c) for c in exempt_categories)
        self._descriptions |= STAGE_RULES
        self._commit: tuple[FileChange, ...] = ()
        self._moves: dict[tuple[str, str], set[int]] | None = None
        self._members: set[tuple[str, str, str, str]] = set()
        self._last: tuple[FileChange, tuple[FileChange, ...], _Judgement] | None = None
        self._content_memo: dict[object, frozenset[str]] = {}
        #: stages switched off to measure what each contributes (``ablated``); never by policy
        self._off: frozenset[str] = frozenset()
        #: the change being judged as its rules read it (``_v2_markup``), when it differs
        self._markup: Masked | None = None

    def ablated(self, stages: Iterable[str]) -> ClassifierV2:
        """This classifier with ``stages`` (``STAGES``) switched off, for evaluation only.

        ``scripts/classifier-eval --leave-one-out`` measures how each stage generalises; a
        policy cannot reach this (its digest still names the whole ruleset).
        """
        unknown = set(stages) - set(STAGES)
        if unknown:
            raise ValueError(f"unknown stages {sorted(unknown)}; known: {STAGES}")
        self._off = frozenset(stages)
        self._last = None
        self._content_memo.clear()
        if "additions" in self._off:  # @1's content rules instead of @2's widened and added
            v1 = ruleset(RULESET_V1)
            self._content_rules = v1.content_rules
            self._scanner = ContentScanner(v1.content_rules, v1.id)
            self._guard_scanner = guard_scanner(v1.content_rules, v1.id)
        return self

    def _on(self, stage: str) -> bool:
        return stage not in self._off

    def classify(self, change: FileChange) -> tuple[str, ...]:
        """Sorted ids of the rules that fired; empty means not identity-related."""
        return tuple(sorted(self._judge(change).rules))

    def reads_whole(self, change: FileChange) -> bool:
        """True for generated or minified code and parsed manifests and workflows."""
        return self._judge(change).whole

    def locate(self, change: FileChange, rules: tuple[str, ...]) -> tuple[Finding, ...]:
        """Where each of ``rules`` fired, on the lines ``@2`` judged."""
        judged = self._judge(change)
        placed = tuple(
            Finding(rule, change.old_path if side == "old" else change.path, side, first, last)
            for rule in rules
            for side, first, last in list(ranges(judged.places.get(rule, ())))[:MAX_RANGES]
        )
        rest = tuple(r for r in rules if r not in {f.rule for f in placed})
        return placed + locate(change, rest, self._finder(), judged.lines)

    def _all_facts(
        self, change: FileChange
    ) -> tuple[tuple[str, ...], tuple[str, ...], list[_Facts]]:
        """``@1``'s facts; translation catalogues that ``@1`` reads as code or settings are
        inert (``_v2_catalog``, ``_v2_messages``)."""
        paths, aliases, facts = super()._all_facts(change)
        named = [(p, f.kinds) for p, f in zip((*paths, *aliases), facts, strict=True)]
        if self._on("catalogues") and catalogue(change, named, present(change)):
            facts = [replace(f, kinds=_INERT) for f in facts]
        return paths, aliases, facts

    def _judge(self, change: FileChange) -> _Judgement:
        """What ``@2`` decides about ``change`` (memoised for the last change judged:
        ``classify``, ``reads_whole`` and ``locate`` ask about the same one in turn)."""
        last = self._last
        if last is not None and last[0] is change and last[1] is self._commit:
            return last[2]
        judged = self._judge_anew(change)
        self._last = (change, self._commit, judged)
        return judged

    def _judge_anew(self, change: FileChange) -> _Judgement:
        """The stages' verdict, plus the rules every version fires whatever they decide."""
        paths, aliases, facts = self._all_facts(change)
        live = [f for f in facts if not f.excluded]
        self._markup = masked(change) if live and self._on("markup") else None
        read = change if self._markup is None else self._markup.change
        judged = self._judged(read, paths, aliases, facts, live)
        if read is not change and judged.lines is None:
            judged.lines = numbered(read)  # findings placed on the lines the rules read
        judged.rules |= self._fail_closed(change, live)
        return judged

    def _judged(
        self,
        change: FileChange,
        paths: tuple[str, ...],
        aliases: tuple[str, ...],
        facts: list[_Facts],
        live: list[_Facts],
    ) -> _Judgement:
        scoped = self._on("scope") and bool(live)
        exempted = self._exempted(change, live)
        if scoped and all("media" in f.kinds for f in live):
            # images, fonts, audio: judged by path, as the rubric judges unreadable files; a
            # diff of their bytes cut short hides nothing a rule reads
            fired = self._path_hits(paths, facts)[0]
            if exempted:
                fired = {i for f in facts for i in f.hits if i in _EVERYWHERE}
                fired |= {i for f in live for i in f.policy}
            modes = self._mode_rules(change, paths + aliases, facts)
            return _Judgement(fired | modes, whole=not self._policy_content)
        if exempted:
            modes = self._mode_rules(change, paths + aliases, facts)
            return _Judgement(self._exempt_rules(change, facts) | modes)
        fired, weak = self._path_hits(paths, facts)
        if not live:
            return _Judgement(fired)
        modes = self._mode_rules(change, paths + aliases, facts)
        staged = self._staged(change, live, fired, modes)
        if staged is not None:
            return staged  # lockfiles say they are generated, yet they parse
        if self._on("generated") and self._unreadable(change, live):
            return _Judgement(fired | modes, whole=True)
        if self._on("templates") and any("template" in f.kinds for f in live):
            return self._template(change, fired, modes)
        content = self._content_verdict(change, live, weak) | self._decoded_verdict(
            change, live, weak
        )
        if fired or content:
            return self._narrowed(change, live, weak, fired | modes, content)
        judged = _Judgement(modes)
        if self._on("lifecycle") and _FUNCTION_CODE & weak:
            self._lifecycle(change, judged, effective(change), weak)
        if not judged.rules:
            self._guarded(change, live, judged)
        return judged

    def _exempted(self, change: FileChange, live: list[_Facts]) -> bool:
        """Out of scope (tests, docs, tooling); a file named like a test that does not read
        like one is judged (red-team 03), and so is documentation in an identity directory:
        its code may read it (red-team 08)."""
        scoped = self._on("scope") and bool(live)
        exempted = scoped and all(exempt(f.kinds, self._categories) for f in live)
        return exempted and self._test_claim_backed(change) and not self._identity_data(live)

    def _test_claim_backed(self, change: FileChange) -> bool:
        """``@1``'s reading, and a ``.snap`` that parses as a snapshot on every side."""
        if super()._test_claim_backed(change):
            return True
        sides = present(change)
        return (
            bool(sides)
            and all(p.casefold().endswith(".snap") for p, _ in sides)
            and all(snapshot_file(source) for _, source in sides)
        )

    def _fail_closed(self, change: FileChange, live: list[_Facts]) -> set[str]:
        """``@1``'s, less ``blob.packaged-code`` for a fixture in a test directory (a layout,
        not a name-only claim: a binary named like a test still counts)."""
        fired = super()._fail_closed(change, live)
        tests = PACKAGED_RULE in fired and all("test" in f.kinds for f in live)
        return fired - {PACKAGED_RULE} if tests and self._exempted(change, live) else fired

    def _narrowed(
        self,
        change: FileChange,
        live: list[_Facts],
        weak: set[str],
        fired: set[str],
        content: set[str],
    ) -> _Judgement:
        """What fired, once neutral edits and moved definitions are set aside.

        Content rules are matched again on the lines that change behaviour (comments cut
        out); a change with none left keeps only the rules that fire whatever the content.
        """
        seen = self._effective(change) if self._on("neutral") else None
        lines = list(seen.lines) if seen is not None else None
        if self._commit and self._on("moves"):
            lines = self._without_moves(change, lines)
        sent = self._outbound(change, live, lines) if content & OUTBOUND_RULES else None
        if lines is None and sent is None:
            return _Judgement(fired | content)
        if not lines and sent is None:
            return _Judgement({i for i in fired if self._kept_when_neutral(i)}, [])
        read = sent if sent is not None else list(lines or ())
        content = self._content_verdict(with_lines(change, tuple(read)), live, weak)
        if sent is not None:  # the policy's own content rules read the lines as written
            content |= self._policy_content_hits(with_lines(change, tuple(lines or read)))
        content |= self._decoded_verdict(change, live, weak)
        lines = read
        judged = _Judgement(fired | content, lines)
        if not judged.rules and self._on("lifecycle") and _FUNCTION_CODE & weak:
            self._lifecycle(change, judged, seen, weak)
        if not judged.rules:
            self._guarded(change, live, judged, seen)
        return judged

    def _outbound(
        self, change: FileChange, live: list[_Facts], lines: list[Line] | None
    ) -> list[Line] | None:
        """The judged lines with credentials only sent to another service blanked
        (``_v2_outbound``), or ``None`` when there is none."""
        if not self._on("outbound"):
            return None
        kinds = frozenset().union(*(f.kinds for f in live))

        def mentions(text: str) -> frozenset[str]:
            return frozenset(r.id for r in self._scanner.matching(kinds, text))

        sources = {"old": change.old_source, "new": change.new_source}
        if language_of(change.old_path) != language_of(change.path):
            sources["old"] = None  # a renamed file read by another grammar keeps its lines
        base = lines if lines is not None else numbered(change)
        return without_outbound(change.path, sources, base, mentions) if base else None

    def _effective(self, change: FileChange) -> Effective | None:
        """``_v2_neutral.effective``, or on what the rules read of markup (``_v2_markup``)."""
        return effective(change) if self._markup is None else markup_effective(self._markup)

    def _lifecycle(
        self, change: FileChange, judged: _Judgement, seen: Effective | None, weak: set[str]
    ) -> None:
        """``code.lifecycle-function`` on the behaviour-changing lines of user code, and
        ``code.access-definition`` on those of access-control files (``_v2_functions``)."""
        if seen is not None and seen.neutral:
            return
        lines = list(seen.lines) if seen is not None else numbered(change)
        sides = {"old": (change.old_path, change.old_source)}
        sides["new"] = (change.path, change.new_source)
        for hints, rule, find in (
            (_USER_CODE, LIFECYCLE_RULE, lifecycle_lines),
            (_ACCESS_CODE, DEFINITION_RULE, definition_lines),
        ):
            places = find(sides, lines) if hints & weak else []
            if places:
                judged.rules.add(rule)
                judged.places[rule] = places

    def _guards(self, kinds: frozenset[str]) -> Matcher:
        """``@2`` takes a bare auth word (``webAuthnCerts``) for no check, unless a condition
        calls something that verifies a credential (``_guard.verifying``, decision 0025); nor
        optional chaining (``user?.id``) for a condition, and a nested function is a frame of
        its own (``_v2_frames``, decision 0031)."""
        base = super()._guards(kinds)
        return framed(verifying(base)) if self._on("guard") else base

    def _guarded(
        self,
        change: FileChange,
        live: list[_Facts],
        judged: _Judgement,
        seen: Effective | bool | None = False,
    ) -> None:
        """``code.guard-flow`` on code without comments, in hunks that change behaviour.

        A first pass on the change as it is rules out almost every change cheaply; only
        what it flags is confirmed on the behaviour-changing hunks (``seen``, computed here
        unless given). A lookup's scoping to the principal added or removed
        (``_v2_scoping``) is read first.
        """
        kinds = frozenset().union(*(f.kinds for f in live))
        places = scoped_places(change, seen) if self._on("scoping") and kinds & GUARD_KINDS else []
        if places:
            judged.rules.add(SCOPING_RULE)
            judged.places[SCOPING_RULE] = places
            return
        if not self._on("guard"):
            hunk = self._guard_flow(change, live)  # @1's guard-flow
            if hunk is not None:
                judged.rules.add(GUARD_RULE)
            return
        if self._guard_flow(change, live, _ARRIVALS) is None:
            return
        if seen is False:
            seen = self._effective(change)
        flow = decommented(change)
        if isinstance(seen, Effective):
            if seen.neutral:
                return
            flow = only_hunks(flow, {(side, n) for side, n, _ in seen.lines})
        hunk = self._guard_flow(flow, live, _ARRIVALS)
        if hunk is not None:
            judged.rules.add(GUARD_RULE)
            side, first, last = hunk
            judged.places[GUARD_RULE] = [(side, n) for n in range(first, last + 1)]

    def _identity_data(self, live: list[_Facts]) -> bool:
        """True when a docs-exempt file sits in a directory a strong path rule names."""
        return any(
            "exempt:docs" in f.kinds
            and not f.kinds & {"media", "decorative"}
            and any(
                (rule := self._path_rules.get(i)) is not None and rule.strength is not Strength.WEAK
                for i in f.dir_hits
            )
            for f in live
        )

    def _template(self, change: FileChange, fired: set[str], modes: set[str]) -> _Judgement:
        """A template: what its forms send and its CSRF tokens (``_v2_templates``)."""
        kept = {i for i in fired if self._kept_when_neutral(i)}
        path_ids = fired - kept
        places = template_rules(changed_lines(change), identity_path=bool(path_ids))
        raw = raw_text((*change.removed, *change.added))
        directives = {r.id for r in self._scanner.matching(_TEMPLATE, raw)} & _DIRECTIVES
        rules = kept | modes | set(places) | directives | self._policy_content_hits(change)
        if places:
            rules |= path_ids
        return _Judgement(rules, [], places)

    def begin(self, changes: Sequence[FileChange]) -> None:
        """Judge the next changes as parts of one commit made of ``changes`` (see ``_v2_moves``).

        Definitions moved whole from one file to another are only found across the commit's
        changes; without this call each change is judged alone (fewer moves are seen).
        """
        self._commit = tuple(changes)
        self._moves = None
        self._members = {identity_of(c) for c in self._commit}

    def _without_moves(self, change: FileChange, lines: list[Line] | None) -> list[Line] | None:
        """The judged lines less those of definitions and imports that only moved."""
        if identity_of(change) not in self._members:
            return lines  # not a change of the commit ``begin`` was told about
        if self._moves is None:
            self._moves = moved_lines(self._commit)
        moved_old = self._moves.get((change.old_path, "old"), set())
        moved_new = self._moves.get((change.path, "new"), set())
        if not moved_old and not moved_new:
            return lines
        base = lines if lines is not None else numbered(change)
        if not base:
            return lines
        kept = [
            (side, n, text)
            for side, n, text in base
            if n not in (moved_new if side == "new" else moved_old)
        ]
        return [line for line in kept if line[2].strip()] if lines is None else kept

    def _staged(
        self, change: FileChange, live: list[_Facts], fired: set[str], modes: set[str]
    ) -> _Judgement | None:
        """A manifest, lockfile or workflow judged on both sides' parsed contents.

        Manifests by which libraries' versions moved (``_v2_deps``), workflows by their
        permissions, secrets and triggers (``_v2_workflows``). ``None`` when the file is
        neither or a side cannot be read: the caller judges it with ``@1``'s line rules.
        """
        kinds = frozenset().union(*(f.kinds for f in live))
        old = change.old_source if change.old_mode != ABSENT else ""
        new = change.new_source if change.new_mode != ABSENT else ""
        if "manifest" in kinds and applies(change.path) and self._on("dependencies"):
            places = dependency_rules(change.path, old, new, changed_lines(change))
        elif "ci" in kinds and workflow_applies(change.path) and self._on("workflows"):
            places = workflow_rules(change.path, old, new, changed_lines(change))
        else:
            return None
        if places is None:
            return None
        raw = raw_text((*change.removed, *change.added))
        secrets = {r.id for r in self._scanner.matching(_SECRET_KINDS, raw)} & _SECRET_RULES
        kept = {i for i in fired if self._kept_when_neutral(i)}
        rules = kept | modes | set(places) | secrets | self._policy_content_hits(change)
        return _Judgement(rules, None, places, whole=True)

    def _content_verdict(
        self, change: FileChange, live: list[_Facts], weak_paths: set[str]
    ) -> set[str]:
        """``@1``'s content verdict, memoised: ``wants_source`` asks first, ``_judge`` again."""
        key = (change.path, change.old_path, change.added, change.removed, frozenset(weak_paths))
        found = self._content_memo.get(key)
        if found is None:
            if len(self._content_memo) > _MEMO_LIMIT:
                self._content_memo.clear()
            found = self._content_memo[key] = frozenset(
                super()._content_verdict(change, live, weak_paths)
            )
        return set(found)

    def _settle(self, kinds: set[str]) -> frozenset[str]:
        """``@1``'s kinds, keeping ``@2``'s scope kinds (an image under ``docs/`` is inert and
        exempt: ``@1`` drops every other kind of an inert file)."""
        scope = {k for k in kinds if k.startswith("exempt:") or k == "media"}
        return super()._settle(kinds) | scope

    def _points(self, rule: ContentRule, kinds: frozenset[str], *, in_test: bool) -> int:
        """``@1``'s weights, except that Django admin-site modules never combine weak words.

        An ``admin.py`` lists the staff UI's columns and filters, which name users, staff,
        ``last_login`` and the like; a real check there (``has_delete_permission``, an action
        that deactivates users) is a strong or medium rule and still fires.
        """
        if "django-admin" in kinds and rule.strength is Strength.WEAK and self._on("django-admin"):
            return 0
        return super()._points(rule, kinds, in_test=in_test)

    def _kept_when_neutral(self, rule_id: str) -> bool:
        """Path rules that fire whatever the content (symlink aliases, key material ...)."""
        rule = self._path_rules.get(rule_id)
        return rule is None or rule.always

    def _exempt_rules(self, change: FileChange, facts: list[_Facts]) -> set[str]:
        """Rules judged in tests, docs and tooling: repository-wide controls, the policy's,
        and credentials themselves (a private key or token pasted anywhere is exposed).

        Symlinks and gitlinks are judged there too (by the caller): a link in ``docs/`` to a
        key publishes the key, and a submodule swaps code wherever it sits.
        """
        fired = {i for f in facts for i in f.hits if i in _EVERYWHERE}
        fired |= {i for f in facts if not f.excluded for i in f.policy}
        if change.added or change.removed:
            raw = raw_text((*change.removed, *change.added))
            fired |= {r.id for r in self._scanner.matching(_ANY_KIND, raw)} & _SECRET_RULES
        return fired | self._policy_content_hits(change)

    def wants_source(self, change: FileChange) -> bool:
        """``@1``'s needs, plus the whole blobs of changes a stage of ``@2`` may clear."""
        if super().wants_source(change) or _snapshot_claim(self, change):
            return True
        paths, _aliases, facts = Classifier._all_facts(self, change)  # before any source
        live = [f for f in facts if not f.excluded]
        if not live or all(exempt(f.kinds, self._categories) for f in live):
            return False
        kinds = frozenset().union(*(f.kinds for f in live))
        if "catalog-dir" in kinds and kinds & CATALOG_CODE:
            return True
        if ("manifest" in kinds and applies(change.path)) or (
            "ci" in kinds and workflow_applies(change.path)
        ):
            return True
        if not kinds & _STAGE_KINDS:
            return False
        fired, weak = self._path_hits(paths, facts)
        if kinds & GUARD_KINDS and _FUNCTION_CODE & weak:
            return True  # code.lifecycle-function places lines in their functions
        return bool(fired or self._content_verdict(change, live, weak))

    @staticmethod
    def _unreadable(change: FileChange, live: list[_Facts]) -> bool:
        """True for generated program code (a generator's header on both sides) and minified
        code or templates; configuration and manifests are read however they were made."""
        kinds = frozenset().union(*(f.kinds for f in live))
        if not kinds & (GUARD_KINDS | _TEMPLATE) or kinds & _READ_ANYWAY:
            return False
        sides = [source for _, source in present(change)]
        if not sides or any(s is None for s in sides):
            return False  # a side was not read: nothing is known
        if all(generated(s) for s in sides):
            return True
        # only scripts, styles and pages ship minified; a long line of Python or Go is a
        # line to read (red-team follow-up: padding made a module look minified)
        return bool(kinds & _MINIFIABLE) and all(minified(s) for s in sides)


def _snapshot_claim(clf: Classifier, change: FileChange) -> bool:
    """A ``.snap`` that is a test by its name only: its content must back the claim."""
    names = [p for p in (change.path, change.old_path) if p]
    return any(p.casefold().endswith(".snap") and clf._test_by_name_only(p) for p in names)


register_engine(2, ClassifierV2)

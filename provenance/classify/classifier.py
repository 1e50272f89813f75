"""The identity-change classifier: path rules, content rules and git mode rules per FileChange."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from itertools import accumulate
from types import MappingProxyType

from provenance.classify._content import ContentScanner, render
from provenance.classify._encoding import escaped_reading, might_hide, python_reading
from provenance.classify._facts import (
    _CATALOG_CANDIDATE,
    _INERT,
    _Facts,
    _inert_hit,
    _is_catalogue,
    _settle_kinds,
)
from provenance.classify._globs import GlobIndex, GlobSet
from provenance.classify._guard import (
    GUARD_DOC,
    GUARD_KINDS,
    GUARD_RULE,
    GUARD_RULES,
    Matcher,
    guard_flow,
    guard_matcher,
    guard_scanner,
    looks_like_test,
    might_decide,
)
from provenance.classify._locate import Finder, locate
from provenance.classify._magic import head_of, looks_binary, packaged
from provenance.classify._model import (
    FIRE_AT,
    ContentRule,
    Finding,
    RuleSpec,
    Strength,
    View,
)
from provenance.classify._normalize import fold, outside_tree, path_forms, raw_text, resolve_target
from provenance.classify._rules_evasion import runs_code
from provenance.classify._ruleset import (
    EXEMPT_CATEGORIES,
    Ruleset,
    canonical_document,
    digest_of,
    policy_content_id,
    policy_path_id,
    resolve_rulesets,
    ruleset,
)
from provenance.classify.classified import Hooks
from provenance.models import FileChange

SYMLINK_MODE = "120000"
GITLINK_MODE = "160000"
SYMLINK_RULE = "git.symlink"
GITLINK_RULE = "git.gitlink"
ALIAS_RULE = "git.symlink-alias"
ENCODING_RULE = "code.source-encoding"
PACKAGED_RULE = "blob.packaged-code"
EXEC_RULE = "code.dynamic-exec"
_SYMLINK_DOC = "a symlink whose path or target is identity-related, or whose target leaves the tree"
_ENCODING_DOC = "Python source declared in a codec that does not read ASCII as ASCII (utf-7 ...)"
_ALIAS_DOC = (
    "the file is also reached through a symlink at an identity path (or through more links "
    "than could be listed)"
)
_GITLINK_DOC = "a submodule (gitlink) added, moved, bumped or removed: it can swap any code"
_PACKAGED_DOC = (
    "by its first bytes, an archive, compressed data, a pickle or compiled code: what it "
    "contains cannot be read from the diff"
)
_REGULAR_MODES = frozenset({"100644", "100755"})
_CACHE_LIMIT = 100_000
_KIND = "kind:"
_UNLESS = "unless:"


@dataclass(frozen=True)
class _Compiled:
    """A policy content rule with its regex compiled once."""

    rule: ContentRule
    regex: re.Pattern[str]


#: Engines of built-in ruleset versions after the first, by version. A later engine subclasses
#: ``Classifier`` and registers itself here when its module is imported (the package imports
#: it), so this module never imports it back.
_ENGINES: dict[int, type[Classifier]] = {}


def register_engine(version: int, kind: type[Classifier]) -> type[Classifier]:
    """Make ``kind`` the engine of ruleset version ``version``; each version is registered once."""
    if _ENGINES.setdefault(version, kind) is not kind:
        raise ValueError(f"an engine for ruleset version {version} is registered twice")
    return kind


class Classifier:
    """Decides, per changed path, which identity rules fire. Pure: no I/O, no git.

    Build it once with ``Classifier.build`` and call ``classify`` for every ``FileChange``;
    per-path and per-token results are memoised inside the instance. The built-in rules are
    prepared once per process, on first use, and never change.
    """

    def __init__(
        self,
        *,
        rulesets: tuple[str, ...],
        paths: tuple[str, ...],
        content: tuple[RuleSpec, ...],
        exclude: tuple[str, ...],
        exempt: tuple[str, ...] = EXEMPT_CATEGORIES,
    ) -> None:
        builtin = bool(rulesets)
        self._builtin = builtin
        #: the built-in ruleset, or ``@1``'s kinds and always-on rules when there is none
        self._ruleset: Ruleset = ruleset(rulesets[0]) if rulesets else ruleset(_NO_RULESET)
        self._path_rules = {
            r.id: r for r in self._ruleset.path_rules if builtin or r.unexcludable
        }  # the policy file and .gitattributes rules are always on
        self._content_rules = self._ruleset.content_rules if builtin else ()
        builtin_globs = _builtin_globs(self._ruleset.id)
        globs = {i: builtin_globs[i] for i in self._path_rules}
        globs |= {_KIND + k: builtin_globs[_KIND + k] for k in self._ruleset.kinds}
        self._path_index = GlobIndex(globs)  # rule ids and file kinds, matched in one pass
        self._unless = {
            i: builtin_globs[_UNLESS + i] for i, r in self._path_rules.items() if r.unless
        }
        self._policy_index = GlobIndex(
            {policy_path_id(g): GlobSet.compile([fold(g.casefold())]) for g in paths}
        )
        # Exclusions are matched against the path exactly as git stores it: an exclusion is
        # trust, and a folded match would also trust other, real paths (``**/docs/**``
        # excluding the Java package ``com/acme/Docs``, red-team 11).
        self._exclude = GlobSet.compile(exclude)
        self._policy_content = tuple(_compile_policy(s) for s in content)
        self._facts_cache: dict[str, _Facts] = {}
        self._scanner = ContentScanner(self._content_rules, self._ruleset.id)
        self._guard_scanner = guard_scanner(self._content_rules, self._ruleset.id)
        self._descriptions = {i: r.description for i, r in self._path_rules.items()}
        self._descriptions |= {r.id: r.description for r in self._content_rules}
        self._descriptions |= (
            {
                SYMLINK_RULE: _SYMLINK_DOC,
                GITLINK_RULE: _GITLINK_DOC,
                ALIAS_RULE: _ALIAS_DOC,
                ENCODING_RULE: _ENCODING_DOC,
                GUARD_RULE: GUARD_DOC,
                PACKAGED_RULE: _PACKAGED_DOC,
            }
            if builtin
            else {}
        )
        self._descriptions |= {policy_path_id(g): f"policy path glob {g}" for g in paths}
        self._descriptions |= {policy_content_id(s.id): s.description for s in content}
        self._digest = digest_of(
            canonical_document(
                rulesets=rulesets,
                policy_paths=paths,
                policy_content=content,
                exclude=exclude,
                exempt=exempt,
            )
        )

    @classmethod
    def build(
        cls,
        rulesets: Iterable[str] = ("builtin:identity",),
        paths: Iterable[str] = (),
        content: Iterable[RuleSpec] = (),
        exclude: Iterable[str] = (),
        exempt: Iterable[str] = EXEMPT_CATEGORIES,
    ) -> Classifier:
        """Compile the named rulesets plus policy additions; bad input raises ``ValueError``.

        ``paths`` are gitignore-style globs (rule id ``policy:path:<glob>``); ``content`` are
        regex rules (rule id ``policy:content:<id>``); ``exclude`` globs switch off every rule
        for matching paths except the ``.provenance/`` and ``.gitattributes`` rules.
        ``exempt`` names the path conventions ``builtin:identity@2`` does not judge
        (``tests``, ``docs``, ``tooling``); ``@1`` ignores it.
        """
        specs = tuple(content)
        ids = [s.id for s in specs]
        if any(not i or i != i.strip() for i in ids) or len(set(ids)) != len(ids):
            raise ValueError(f"content rule ids must be non-empty, trimmed and unique: {ids}")
        chosen = tuple(dict.fromkeys(exempt))
        unknown = sorted(set(chosen) - set(EXEMPT_CATEGORIES))
        if unknown:
            raise ValueError(f"unknown exempt categories {unknown}; known: {EXEMPT_CATEGORIES}")
        resolved = resolve_rulesets(rulesets)
        kind: type[Classifier] = cls
        if resolved:
            version = ruleset(resolved[0]).version
            if version > 1:
                kind = _ENGINES[version]  # registered by its module; the package imports it
        return kind(
            rulesets=resolved,
            paths=tuple(dict.fromkeys(paths)),
            content=specs,
            exclude=tuple(dict.fromkeys(exclude)),
            exempt=tuple(sorted(chosen)),
        )

    @property
    def rules(self) -> Mapping[str, str]:
        """Every rule id this classifier can report, with its short description."""
        return MappingProxyType(self._descriptions)

    @property
    def ruleset_digest(self) -> str:
        """``sha256:...`` over the effective rules (built-in plus policy additions)."""
        return self._digest

    def classify(self, change: FileChange) -> tuple[str, ...]:
        """Sorted ids of the rules that fired; empty means not identity-related.

        ``change.aliases`` (the paths naming the file through symlinks) are judged like its
        own paths; a strong path rule firing only there also reports ``git.symlink-alias``.
        """
        paths, aliases, facts = self._all_facts(change)
        fired, weak = self._path_hits(paths, facts)
        live = [f for f in facts if not f.excluded]
        fired |= self._fail_closed(change, live)
        if live:
            fired |= self._mode_rules(change, paths + aliases, facts)
            fired |= self._content_verdict(change, live, weak)
            fired |= self._decoded_verdict(change, live, weak)
            if not fired and self._guard_flow(change, live):
                fired.add(GUARD_RULE)
        return tuple(sorted(fired))

    def _fail_closed(self, change: FileChange, live: list[_Facts]) -> set[str]:
        """Rules every built-in version fires whatever else it decides (red-team 04, 07).

        An alias list cut short may hide an identity path; archives and compiled code are
        recognised by their first bytes, whatever the name, kind (inert, test) or extension:
        a snap package is not a Jest snapshot.
        """
        if not self._builtin:
            return set()
        fired = {ALIAS_RULE} if change.aliases_truncated else set()
        if live and change.new_mode in _REGULAR_MODES:
            head = head_of(change)
            if head is not None and packaged(head):
                fired.add(PACKAGED_RULE)
        return fired

    def _test_claim_backed(self, change: FileChange) -> bool:
        """False when a path is a test by its file name alone and the content is not a test.

        A name is a claim (red-team 03): ``app/views/test_connection.py`` may be a view. A
        test directory (``tests/``, ``spec/``) is the repository's layout; a file named like a
        test next to the code it tests must also read like one (``def test_``, ``describe(``,
        ``func TestX(``). Sources of such files are always read (``wants_source``).
        """
        named = any(self._test_by_name_only(p) for p in (change.path, change.old_path) if p)
        return not named or looks_like_test(change)

    def _test_by_name_only(self, path: str) -> bool:
        """True when ``path`` is of a test kind that its directory alone does not give."""
        kinds = self._facts(path).kinds
        if not kinds & _TEST_KINDS:
            return False
        parent = path.rpartition("/")[0]
        probe = self._facts(f"{parent}/{_PROBE}" if parent else _PROBE).kinds
        return not (kinds & _TEST_KINDS) <= probe

    @property
    def hooks(self) -> Hooks:
        """``locate``, ``reads_whole`` and ``begin``, for ``classified``'s range functions."""
        return Hooks(locate=self.locate, whole=self.reads_whole, begin=self.begin)

    def begin(self, changes: Sequence[FileChange]) -> None:
        """Be told the changes of the commit about to be judged (``@1`` judges each alone)."""

    def reads_whole(self, change: FileChange) -> bool:
        """True when the verdict on ``change`` comes from its whole blobs, not its lines.

        Then a diff cut short by the reader's bounds (``FileChange.truncated``) hides nothing
        from the rules. ``builtin:identity@1`` always reads lines.
        """
        return False

    def _all_facts(
        self, change: FileChange
    ) -> tuple[tuple[str, ...], tuple[str, ...], list[_Facts]]:
        """The change's own paths, its other aliases, and the facts of each (in that order).

        A JSON or YAML file in a translation folder whose both sides read as a catalogue is
        made inert here.
        """
        paths = tuple(dict.fromkeys(p for p in (change.path, change.old_path) if p))
        aliases = tuple(a for a in dict.fromkeys(change.aliases) if a not in paths)
        facts = [self._facts(p) for p in (*paths, *aliases)]
        if any(f.kinds >= _CATALOG_CANDIDATE for f in facts) and _is_catalogue(change, facts):
            facts = [replace(f, kinds=_INERT) for f in facts]  # a real translation catalogue
        return paths, aliases, facts

    def _path_hits(self, paths: tuple[str, ...], facts: list[_Facts]) -> tuple[set[str], set[str]]:
        """Strong path rule ids (plus ``git.symlink-alias``) and weak path hints of all paths."""
        fired: set[str] = set()
        weak: set[str] = set()
        for n, f in enumerate(facts):
            strong_ids, weak_ids = self._path_verdict(f)
            if strong_ids and n >= len(paths) and self._builtin:
                strong_ids.add(ALIAS_RULE)
            fired |= strong_ids
            weak |= weak_ids
        return fired, weak

    def locate(self, change: FileChange, rules: tuple[str, ...]) -> tuple[Finding, ...]:
        """Where each of ``rules`` (as ``classify`` returned them) fired in ``change``.

        Content rules are placed on the changed lines they match; the others at the first
        hunk. Called only for changes that fired, so it may repeat some matching.
        """
        return locate(change, rules, self._finder())

    def _finder(self) -> Finder:
        """Finds the lines a content rule matches, one line at a time, testing only lines
        that hold one of its hint literals (every match needs one)."""
        joined: dict[int, tuple[str, list[int]]] = {}

        def candidates(texts: Sequence[str], hints: tuple[str, ...]) -> Iterable[int]:
            if not hints:
                return range(len(texts))
            if id(texts) not in joined:
                lower = "\n".join(texts).lower()
                starts = [0, *accumulate(len(t) + 1 for t in texts)]
                joined[id(texts)] = (lower, starts if len(lower) + 1 == starts[-1] else [])
            lower, starts = joined[id(texts)]
            if not starts:  # case mapping changed a length: look line by line
                return (n for n, t in enumerate(texts) if any(h in t.lower() for h in hints))
            found: set[int] = set()
            for hint in hints:
                at = lower.find(hint)
                while at >= 0:
                    line = bisect_right(starts, at) - 1
                    found.add(line)
                    at = lower.find(hint, starts[line + 1])
            return sorted(found)

        def find(rule_id: str, texts: Sequence[str]) -> list[int] | None:
            builtin = self._scanner.rule(rule_id)
            if builtin is not None:
                regex, view, hints = builtin.regex, builtin.view, builtin.rule.hints
            else:
                policy = [
                    c for c in self._policy_content if policy_content_id(c.rule.id) == rule_id
                ]
                if not policy:
                    return None
                regex, view, hints = policy[0].regex, View.RAW.value, ()
            found: list[int] = []
            for n in candidates(texts, hints):
                if regex.search(render(raw_text((texts[n],)), view)):
                    found.append(n)
                    if len(found) >= _MAX_MATCHES:
                        break
            return found

        return find

    def _guard_flow(
        self,
        change: FileChange,
        live: list[_Facts],
        moved_sides: frozenset[str] = frozenset({"new", "old"}),
        checks: frozenset[str] = GUARD_RULES,
    ) -> tuple[str, int, int] | None:
        """Control flow changed where access is decided (THREATS.md G45); code, not real tests.

        Returns the hunk (side, first, last line) that decided, or ``None``.
        """
        kinds = frozenset().union(*(f.kinds for f in live))
        if not self._builtin or not kinds & GUARD_KINDS or "template" in kinds:
            return None  # templates only show or hide; the decision is made in code
        if all("test" in f.kinds for f in live) and self._test_claim_backed(change):
            return None  # a real test: by its directory, or by its name and its content
        return guard_flow(change, self._guards(kinds), moved_sides, checks)

    def _guards(self, kinds: frozenset[str]) -> Matcher:
        """What marks an access decision for ``code.guard-flow`` in code of ``kinds``."""
        return guard_matcher(self._guard_scanner, kinds)

    def _decoded_verdict(self, change: FileChange, live: list[_Facts], weak: set[str]) -> set[str]:
        """Content rules over the text as the compiler decodes it (THREATS.md G49)."""
        kinds = frozenset().union(*(f.kinds for f in live))
        fired: set[str] = set()
        readings = [change]
        if "python" in kinds and self._builtin:
            reading, declared = python_reading(change)
            if declared:
                fired.add(ENCODING_RULE)
            if reading is not None:
                readings.append(reading)
        if kinds & _ESCAPING_KINDS:
            readings += [e for r in list(readings) if (e := escaped_reading(r)) is not None]
        for reading in readings[1:]:
            fired |= self._content_verdict(reading, live, weak)
        in_test = all("test" in f.kinds for f in live)
        if self._builtin and not in_test and any(runs_code(r, kinds) for r in readings):
            fired.add(EXEC_RULE)
        return fired

    def wants_source(self, change: FileChange) -> bool:
        """True when ``change`` can only be judged with its whole blobs (``*_source``).

        JSON and YAML in translation folders are inert only if the whole file is a catalogue;
        a binary blob whose diff does not start at line one is sniffed from its first bytes;
        a Python file's declared encoding (line one or two) decides how its bytes read; a
        file named like a test must read like one; a hunk that may change a decision (control
        flow, an assignment, a route scope) is judged with the function around it.
        """
        paths = [p for p in (change.path, change.old_path, *change.aliases) if p]
        kinds = frozenset().union(*(self._facts(p).kinds for p in paths))
        if kinds >= _CATALOG_CANDIDATE:
            return True
        if looks_binary(change) and head_of(change) is None:
            return not any(self.is_identity_path(p) for p in paths)  # sniff its first bytes
        if not kinds & GUARD_KINDS or not (change.added or change.removed):
            return False
        if any(self._test_by_name_only(p) for p in (change.path, change.old_path) if p):
            return True  # a name is a claim: the content must back it
        if any(self.is_identity_path(p) for p in paths):
            return False  # fires by its path whatever the source says
        lines = (*change.added, *change.removed)
        if "python" in kinds and (might_hide(lines) or "coding" in "\n".join(lines)):
            return True
        return (
            bool(change.hunks)
            and not kinds & {"test", "template"}
            and (might_decide(lines) or not set(change.added).isdisjoint(change.removed))
        )

    def _facts(self, path: str) -> _Facts:
        """Path rule hits, policy hits, file kinds and exclusion for one path (memoised)."""
        cached = self._facts_cache.get(path)
        if cached is not None:
            return cached
        forms = path_forms(path)
        names: set[str] = set()
        policy: set[str] = set()
        for form in forms:
            names |= self._path_index.names(form)
            if self._policy_index:
                policy |= self._policy_index.names(form)
        kinds = {n.removeprefix(_KIND) for n in names if n.startswith(_KIND)}
        hits = {n for n in names if not n.startswith(_KIND)}
        hits -= {i for i, u in self._unless.items() if i in hits and any(map(u.match, forms))}
        excluded = self._exclude.match(path)
        parent = path.rpartition("/")[0]
        above = self._facts(parent) if parent else None
        dir_hits = above.hits | above.dir_hits if above is not None else frozenset()
        facts = _Facts(frozenset(hits), frozenset(policy), self._settle(kinds), excluded, dir_hits)
        if len(self._facts_cache) > _CACHE_LIMIT:
            self._facts_cache.clear()
        self._facts_cache[path] = facts
        return facts

    def _settle(self, kinds: set[str]) -> frozenset[str]:
        """A path's final file kinds (see ``_settle_kinds``)."""
        return _settle_kinds(kinds)

    def _path_verdict(self, facts: _Facts) -> tuple[set[str], set[str]]:
        """Strong and weak path rule ids for one path after exclusion and inert filtering."""
        strong = {i for i in facts.hits if self._path_rules[i].unexcludable}
        weak: set[str] = set()
        if facts.excluded:
            return strong, weak
        inert = "inert" in facts.kinds
        for rule_id in facts.hits:
            rule = self._path_rules[rule_id]
            if inert and not rule.always and not _inert_hit(rule, rule_id, facts):
                continue
            (weak if rule.strength is Strength.WEAK else strong).add(rule_id)
        return strong | facts.policy, weak

    def is_identity_path(self, path: str) -> bool:
        """True when a strong path rule or policy glob matches, whatever the file kind."""
        facts = self._facts(path)
        if facts.excluded:
            return False
        strong = [i for i in facts.hits if self._path_rules[i].strength is not Strength.WEAK]
        return bool(strong or facts.policy)

    def _mode_rules(
        self, change: FileChange, paths: tuple[str, ...], facts: list[_Facts]
    ) -> set[str]:
        """Symlinks whose path or target is identity-related; every gitlink not excluded.

        One gitlink line can swap all the code vendored under it, whatever the path is called
        (THREATS.md E27, G47), so any submodule change needs evidence unless excluded.
        """
        modes = (change.old_mode, change.new_mode)
        out: set[str] = set()
        if GITLINK_MODE not in modes and SYMLINK_MODE not in modes:
            return out
        live_paths = [p for p, f in zip(paths, facts, strict=True) if not f.excluded]
        on_identity_path = any(self.is_identity_path(p) for p in live_paths)
        if GITLINK_MODE in modes and live_paths and self._builtin:
            out.add(GITLINK_RULE)
        if SYMLINK_MODE in modes:
            targets = _symlink_targets(change)
            into = any(
                self.is_identity_path(resolve_target(p, t)) or outside_tree(p, t)
                for p in live_paths
                for t in targets
            )
            if on_identity_path or into:
                out.add(SYMLINK_RULE)
        return out

    def _points(self, rule: ContentRule, kinds: frozenset[str], *, in_test: bool) -> int:
        """What one hit of ``rule`` in a file of ``kinds`` counts (see ``Strength``)."""
        return rule.strength.weight(in_test=in_test)

    def _policy_content_hits(self, change: FileChange) -> set[str]:
        """Ids of the policy's content rules matching the changed lines."""
        if change.binary or not (change.added or change.removed) or not self._policy_content:
            return set()
        raw = raw_text((*change.removed, *change.added))
        return {policy_content_id(c.rule.id) for c in self._policy_content if c.regex.search(raw)}

    def _content_verdict(
        self, change: FileChange, live: list[_Facts], weak_paths: set[str]
    ) -> set[str]:
        """Content rule ids that fire; weak hits fire together when they name enough concepts."""
        if change.binary or not (change.added or change.removed):
            return set()
        kinds = frozenset().union(*(f.kinds for f in live))
        in_test = all("test" in f.kinds for f in live)
        raw = raw_text((*change.removed, *change.added))
        fired = {policy_content_id(c.rule.id) for c in self._policy_content if c.regex.search(raw)}
        candidates: dict[str, str] = {}  # weak content rule id -> concept
        for rule in self._scanner.matching(kinds, raw):
            points = self._points(rule, kinds, in_test=in_test)
            if points >= FIRE_AT:
                fired.add(rule.id)
            elif points:
                candidates[rule.id] = rule.concept or rule.id
        concepts = set(candidates.values())
        path_concepts = {self._path_rules[i].concept or i for i in weak_paths}
        if concepts and len(concepts | path_concepts) >= FIRE_AT:
            fired |= set(candidates) | weak_paths
        return fired


#: Kinds whose compilers or string literals decode ``\\uXXXX``/``\\xHH`` escapes.
_ESCAPING_KINDS = frozenset({"js", "jvm", "code", "python", "ruby", "php", "go"})
#: Test kinds (``@1``'s, and ``@2``'s exemption), and a file name no kind glob matches.
_TEST_KINDS = frozenset({"test", "exempt:tests"})
_PROBE = "provenance-probe-none"


#: Matches read per rule when locating it (enough for the first few line ranges).
_MAX_MATCHES = 64


#: The ruleset whose kinds and always-on rules apply when a policy names no built-in ruleset.
_NO_RULESET = "builtin:identity@1"


@cache
def _builtin_globs(ruleset_id: str) -> dict[str, GlobSet]:
    """The globs of a built-in ruleset's path rules (by id), their vetoes and its file kinds."""
    rules = ruleset(ruleset_id)
    globs = {r.id: GlobSet.compile(r.globs) for r in rules.path_rules}
    globs |= {_UNLESS + r.id: GlobSet.compile(r.unless) for r in rules.path_rules if r.unless}
    return globs | {_KIND + k: GlobSet.compile(g) for k, g in rules.kinds.items()}


def _symlink_targets(change: FileChange) -> tuple[str, ...]:
    """Link targets: as given, else the blob lines when both sides are links (or absent)."""
    if change.symlink_targets:
        return change.symlink_targets
    if {change.old_mode, change.new_mode} <= {SYMLINK_MODE, "000000"}:
        return tuple(line for line in (*change.removed, *change.added) if line)
    return ()


def _compile_policy(spec: RuleSpec) -> _Compiled:
    """Compile a policy content rule; a bad regex raises ``ValueError`` naming the rule."""
    try:
        regex = re.compile(spec.pattern, re.MULTILINE)
    except re.error as e:
        raise ValueError(f"content rule {spec.id!r}: invalid regex: {e}") from e
    rule = ContentRule(spec.id, spec.description, spec.pattern, frozenset(), View.RAW)
    return _Compiled(rule, regex)

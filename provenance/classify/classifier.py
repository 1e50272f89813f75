"""The identity-change classifier: path rules, content rules and git mode rules per FileChange."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from types import MappingProxyType

from provenance.models import FileChange

from ._catalog import json_catalogue, yaml_catalogue
from ._content import ContentScanner
from ._encoding import escaped_reading, might_hide, python_reading
from ._globs import GlobIndex, GlobSet
from ._guard import GUARD_DOC, GUARD_KINDS, GUARD_RULE, guard_flow, looks_like_test, might_decide
from ._magic import head_of, looks_binary, packaged
from ._model import FIRE_AT, ContentRule, PathRule, RuleSpec, Strength, View
from ._normalize import fold, outside_tree, path_forms, raw_text, resolve_target
from ._paths import KIND_GLOBS
from ._rules_evasion import RUNS_CODE
from ._ruleset import (
    BUILTIN_CONTENT_RULES,
    BUILTIN_PATH_RULES,
    canonical_document,
    digest_of,
    policy_content_id,
    policy_path_id,
    resolve_rulesets,
)

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
class _Facts:
    """What the path rules say about one path, before exclusion and file-kind filtering."""

    hits: frozenset[str]
    policy: frozenset[str]
    kinds: frozenset[str]
    excluded: bool
    #: The path rules a directory above the file matches (``app/auth/`` of ``admins.txt``).
    dir_hits: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Compiled:
    """A policy content rule with its regex compiled once."""

    rule: ContentRule
    regex: re.Pattern[str]


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
    ) -> None:
        builtin = bool(rulesets)
        self._builtin = builtin
        self._path_rules = {
            r.id: r for r in BUILTIN_PATH_RULES if builtin or r.unexcludable
        }  # the policy file and .gitattributes rules are always on
        self._content_rules = BUILTIN_CONTENT_RULES if builtin else ()
        builtin_globs = _builtin_globs()
        globs = {i: builtin_globs[i] for i in self._path_rules}
        globs |= {_KIND + k: builtin_globs[_KIND + k] for k in KIND_GLOBS}
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
        self._scanner = ContentScanner(self._content_rules)
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
                rulesets=rulesets, policy_paths=paths, policy_content=content, exclude=exclude
            )
        )

    @classmethod
    def build(
        cls,
        rulesets: Iterable[str] = ("builtin:identity",),
        paths: Iterable[str] = (),
        content: Iterable[RuleSpec] = (),
        exclude: Iterable[str] = (),
    ) -> Classifier:
        """Compile the named rulesets plus policy additions; bad input raises ``ValueError``.

        ``paths`` are gitignore-style globs (rule id ``policy:path:<glob>``); ``content`` are
        regex rules (rule id ``policy:content:<id>``); ``exclude`` globs switch off every rule
        for matching paths except the ``.provenance/`` and ``.gitattributes`` rules.
        """
        specs = tuple(content)
        ids = [s.id for s in specs]
        if any(not i or i != i.strip() for i in ids) or len(set(ids)) != len(ids):
            raise ValueError(f"content rule ids must be non-empty, trimmed and unique: {ids}")
        return cls(
            rulesets=resolve_rulesets(rulesets),
            paths=tuple(dict.fromkeys(paths)),
            content=specs,
            exclude=tuple(dict.fromkeys(exclude)),
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
        paths = tuple(dict.fromkeys(p for p in (change.path, change.old_path) if p))
        aliases = tuple(a for a in dict.fromkeys(change.aliases) if a not in paths)
        facts = [self._facts(p) for p in (*paths, *aliases)]
        if any(f.kinds >= _CATALOG_CANDIDATE for f in facts) and _is_catalogue(change, facts):
            facts = [replace(f, kinds=_INERT) for f in facts]  # a real translation catalogue
        fired: set[str] = set()
        if change.aliases_truncated and self._builtin:
            fired.add(ALIAS_RULE)  # an alias that could not be listed may be an identity path
        weak: set[str] = set()
        for n, f in enumerate(facts):
            strong_ids, weak_ids = self._path_verdict(f)
            if strong_ids and n >= len(paths) and self._builtin:
                strong_ids.add(ALIAS_RULE)
            fired |= strong_ids
            weak |= weak_ids
        live = [f for f in facts if not f.excluded]
        if live:
            fired |= self._packaged(change)
            fired |= self._mode_rules(change, paths + aliases, facts)
            fired |= self._content_verdict(change, live, weak)
            fired |= self._decoded_verdict(change, live, weak)
            if not fired and self._guard_flow(change, live):
                fired.add(GUARD_RULE)
        return tuple(sorted(fired))

    def _packaged(self, change: FileChange) -> set[str]:
        """Archives and compiled code by their first bytes, whatever the name (red-team 07).

        Inert and test kinds do not matter: a snap package is not a Jest snapshot.
        """
        if not self._builtin or change.new_mode not in _REGULAR_MODES:
            return set()
        head = head_of(change)
        return {PACKAGED_RULE} if head is not None and packaged(head) else set()

    def _guard_flow(self, change: FileChange, live: list[_Facts]) -> bool:
        """Control flow changed where access is decided (THREATS.md G45); code, not real tests."""
        kinds = frozenset().union(*(f.kinds for f in live))
        if not self._builtin or not kinds & GUARD_KINDS or "template" in kinds:
            return False  # templates only show or hide; the decision is made in code
        if all("test" in f.kinds for f in live) and looks_like_test(change):
            return False  # a test by its name and its content (a name alone is a claim)

        def guards(text: str) -> set[str]:
            return {r.id for r in self._scanner.matching(kinds, raw_text([text]))}

        return guard_flow(change, guards)

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
        if self._builtin and not in_test and any(self._runs_code(r, kinds) for r in readings):
            fired.add(EXEC_RULE)
        return fired

    def _runs_code(self, change: FileChange, kinds: frozenset[str]) -> bool:
        """An added call that runs or loads code, near a decoder or not (red-team 05)."""
        if not change.added:
            return False
        text = "\n".join(change.added)
        return any(_runs_code_regex(kind).search(text) for kind in kinds & RUNS_CODE.keys())

    def wants_source(self, change: FileChange) -> bool:
        """True when ``change`` can only be judged with its whole blobs (``*_source``).

        JSON and YAML in translation folders are inert only if the whole file is a catalogue;
        a binary blob whose diff does not start at line one is sniffed from its first bytes;
        a Python file's declared encoding (line one or two) decides how its bytes read; a
        hunk that changes control flow is judged with the function around it.
        """
        paths = [p for p in (change.path, change.old_path, *change.aliases) if p]
        kinds = frozenset().union(*(self._facts(p).kinds for p in paths))
        if kinds >= _CATALOG_CANDIDATE:
            return True
        if looks_binary(change) and head_of(change) is None:
            return not any(self.is_identity_path(p) for p in paths)  # sniff its first bytes
        if not kinds & GUARD_KINDS or not (change.added or change.removed):
            return False
        if any(self.is_identity_path(p) for p in paths):
            return False  # fires by its path whatever the source says
        lines = (*change.added, *change.removed)
        if "python" in kinds and (might_hide(lines) or "coding" in "\n".join(lines)):
            return True
        return (
            bool(change.hunks)
            and "template" not in kinds
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
        facts = _Facts(frozenset(hits), frozenset(policy), _settle_kinds(kinds), excluded, dir_hits)
        if len(self._facts_cache) > _CACHE_LIMIT:
            self._facts_cache.clear()
        self._facts_cache[path] = facts
        return facts

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
            points = rule.strength.weight(in_test=in_test)
            if points >= FIRE_AT:
                fired.add(rule.id)
            elif points:
                candidates[rule.id] = rule.concept or rule.id
        concepts = set(candidates.values())
        path_concepts = {self._path_rules[i].concept or i for i in weak_paths}
        if concepts and len(concepts | path_concepts) >= FIRE_AT:
            fired |= set(candidates) | weak_paths
        return fired


def _inert_hit(rule: PathRule, rule_id: str, facts: _Facts) -> bool:
    """Does a path rule fire on an inert file (documentation, styling, media, catalogues)?

    Inert kinds escape content rules and weak hints, never an identity directory: a file
    in ``app/auth/`` can be data that code there reads (``admins.txt``, red-team 08). A name
    alone (``docs/auth.md``, ``login.module.css``) does not make one identity-related, except
    for plain text, the format data files take (``auth_admins.txt``); styling and media
    (``icons/auth/discord.svg``) decide nothing anywhere.
    """
    if rule.strength is Strength.WEAK or "media" in facts.kinds:
        return False
    return rule_id in facts.dir_hits or "text" in facts.kinds


#: Kinds whose compilers or string literals decode ``\\uXXXX``/``\\xHH`` escapes.
_ESCAPING_KINDS = frozenset({"js", "jvm", "code", "python", "ruby", "php", "go"})


@cache
def _runs_code_regex(kind: str) -> re.Pattern[str]:
    return re.compile(RUNS_CODE[kind], re.MULTILINE)


@cache
def _builtin_globs() -> dict[str, GlobSet]:
    """The globs of the built-in path rules (by id), their vetoes and the file kinds."""
    globs = {r.id: GlobSet.compile(r.globs) for r in BUILTIN_PATH_RULES}
    globs |= {_UNLESS + r.id: GlobSet.compile(r.unless) for r in BUILTIN_PATH_RULES if r.unless}
    return globs | {_KIND + k: GlobSet.compile(g) for k, g in KIND_GLOBS.items()}


#: Kinds of program code: a file of one is never inert, wherever it lives (``i18n/auth.py``).
_CODE_KINDS = frozenset({"python", "js", "go", "jvm", "ruby", "php", "code", "shell", "sql"})


def _settle_kinds(kinds: set[str]) -> frozenset[str]:
    """Manifests and code are never inert; inert files get no language; unknown: ``other``.

    Folders such as ``locale/`` or ``__snapshots__/`` make only their translation catalogues
    and snapshot files inert (``.po``, ``.arb``, ``.resx``, ``.snap`` ...). Code, YAML,
    Terraform, JSON or ``.env`` put there is read like anywhere else (THREATS.md G46): a
    ClusterRoleBinding in ``deploy/locale/`` or an auth check in ``app/i18n/auth.py``.
    """
    if {"catalog", "catalog-dir"} <= kinds:
        kinds.add("inert")
    kinds -= {"catalog"}
    if "manifest" in kinds or kinds & _CODE_KINDS:
        kinds.discard("inert")
    elif "inert" in kinds:
        kinds &= {"inert", "test", "text", "media"}
    if not kinds - {"test", "catalog-dir"}:
        kinds.add("other")
    return frozenset(kinds)


_CATALOG_CANDIDATE = frozenset({"catalog-dir", "config"})
_INERT = frozenset({"inert"})
_ABSENT_BLOB = frozenset({"0" * 40, "0" * 64})


def _is_catalogue(change: FileChange, facts: list[_Facts]) -> bool:
    """True when every path is a JSON/YAML candidate and both sides read as a catalogue."""
    if not all(f.kinds >= _CATALOG_CANDIDATE for f in facts) or change.binary:
        return False
    if change.source_heads:
        return False  # only the first bytes were read: fail closed
    sides = [
        (path, source, oid)
        for path, source, oid in (
            (change.old_path, change.old_source, change.old_oid),
            (change.path, change.new_source, change.new_oid),
        )
        if oid not in _ABSENT_BLOB
    ]
    if not sides or any(source is None for _, source, _ in sides):
        return False  # not read (too large, or no blob ids): fail closed
    for path, source, _ in sides:
        assert source is not None
        name = path.casefold()
        if name.endswith(".json"):
            ok = json_catalogue(path, source)
        elif name.endswith((".yml", ".yaml")):
            ok = yaml_catalogue(source)
        else:
            ok = False
        if not ok:
            return False
    return True


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

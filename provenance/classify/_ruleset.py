"""The built-in rulesets ``builtin:identity@1`` and ``@2``, their identifiers and digests.

``@1`` is frozen (``docs/decisions/0013-identity-ruleset-2.md``): its tables live in
``_paths``/``_rules_*`` and nothing may change them, so a policy that pins it keeps the same
rules, digest and verdicts. ``@2`` is derived from them in ``_v2_rules`` and adds the stages
listed in its ``stages`` document (syntax-tree neutrality, path conventions, parsed manifests,
workflows, templates). ``builtin:identity`` names the newest version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from provenance.classify._model import ContentRule, PathRule, RuleSpec
from provenance.classify._paths import KIND_GLOBS, PATH_RULES
from provenance.classify._rules_authn import AUTHN_RULES
from provenance.classify._rules_authz import AUTHZ_RULES
from provenance.classify._rules_config import CONFIG_RULES
from provenance.classify._rules_evasion import EVASION_PATH_RULES, EVASION_RULES
from provenance.classify._rules_lang import LANGUAGE_RULES

#: Version of the matching code (normalisation, scoring, stages); recorded next to every verdict.
#: 2.1.0: the red-team fixes of the engine every ruleset version uses (decision 0014).
#: 2.2.0: @2's neutrality equivalences, nesting moves and outbound-credential stage (decisions
#: 0019, 0020); caches and forked workers change no verdict (decision 0021).
#: 2.3.0: @2 reads consistent renames of function-local variables as neutral (decision 0022),
#: its guard-flow counts a condition that verifies a credential as a check, and
#: code.session-identity and code.access-definition (0025).
#: 2.4.0: @2 reads Vue blocks, CSS in tagged templates and PostCSS as what they are (0026),
#: exempts snapshots, test-directory fixtures and message catalogues by content and narrows
#: js.auth-calls, code.role-check and new CI jobs (0027), reads an else after an exiting
#: branch as the code after the if (0028), and fires code.scoped-lookup when a lookup loses
#: its scoping to the principal (0029); the red-team probes' rules (0030) and guard-flow's
#: conditions and frames (0031).
CLASSIFIER_VERSION = "2.4.0"

BUILTIN_RULESET_NAME = "builtin:identity"
RULESET_V1 = f"{BUILTIN_RULESET_NAME}@1"
RULESET_V2 = f"{BUILTIN_RULESET_NAME}@2"
#: The newest version: what ``builtin:identity`` means. A new ``@N`` for any rule change.
BUILTIN_RULESET_ID = RULESET_V2

#: ``builtin:identity@1``'s tables (frozen).
BUILTIN_PATH_RULES: tuple[PathRule, ...] = PATH_RULES + EVASION_PATH_RULES
BUILTIN_CONTENT_RULES: tuple[ContentRule, ...] = (
    AUTHN_RULES + AUTHZ_RULES + LANGUAGE_RULES + CONFIG_RULES + EVASION_RULES
)

#: Path conventions ``@2`` does not judge unless a policy says so (``[identity] exempt``).
EXEMPT_CATEGORIES = ("docs", "tests", "tooling")


@dataclass(frozen=True)
class Ruleset:
    """One version of the built-in rules: tables, file kinds and the stages it runs."""

    id: str
    path_rules: tuple[PathRule, ...]
    content_rules: tuple[ContentRule, ...]
    kinds: Mapping[str, tuple[str, ...]]
    #: JSON-ready description of the stages beyond path and content rules (empty for ``@1``):
    #: their tables are part of the digest, so changing one needs a new version.
    stages: Mapping[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> int:
        """The ``N`` of ``builtin:identity@N``."""
        return int(self.id.rpartition("@")[2])


V1 = Ruleset(RULESET_V1, BUILTIN_PATH_RULES, BUILTIN_CONTENT_RULES, KIND_GLOBS)


#: Built-in rulesets by canonical id. Later versions register themselves when their module is
#: imported (the package's ``__init__`` imports them all), so this module, which they derive
#: from, never imports them back.
_BUILTIN: dict[str, Ruleset] = {RULESET_V1: V1}


def register(rules: Ruleset) -> Ruleset:
    """Make a derived built-in ruleset known to ``ruleset``; one id is registered once."""
    if _BUILTIN.setdefault(rules.id, rules) is not rules:
        raise ValueError(f"ruleset {rules.id!r} is registered twice")
    return rules


def ruleset(ruleset_id: str) -> Ruleset:
    """The built-in ruleset with that canonical id (see ``resolve_rulesets``)."""
    try:
        return _BUILTIN[ruleset_id]
    except KeyError:
        raise ValueError(f"unknown ruleset {ruleset_id!r}") from None


def resolve_rulesets(names: Iterable[str]) -> tuple[str, ...]:
    """Canonical ids for the requested rulesets; unknown ids raise ``ValueError``.

    ``builtin:identity`` means the newest version. Two versions of the same ruleset are
    refused: they disagree on purpose, and a policy must say which one it means.
    """
    known = (BUILTIN_RULESET_NAME, RULESET_V1, RULESET_V2)
    out: list[str] = []
    for name in names:
        if name not in known:
            raise ValueError(f"unknown ruleset {name!r}; known: {', '.join(map(repr, known))}")
        canonical = BUILTIN_RULESET_ID if name == BUILTIN_RULESET_NAME else name
        if canonical not in out:
            out.append(canonical)
    if len(out) > 1:
        raise ValueError(f"name one version of {BUILTIN_RULESET_NAME}, not {', '.join(out)}")
    return tuple(out)


def canonical_document(
    *,
    rulesets: Sequence[str],
    policy_paths: Sequence[str] = (),
    policy_content: Sequence[RuleSpec] = (),
    exclude: Sequence[str] = (),
    exempt: Sequence[str] = EXEMPT_CATEGORIES,
) -> dict[str, Any]:
    """The effective rules as a JSON-ready document whose hash is the ruleset digest.

    For ``@1`` (or no built-in ruleset) the document is exactly what it has always been;
    ``@2`` adds its stages and the exempt categories.
    """
    builtin = ruleset(rulesets[0]) if rulesets else None
    kinds = builtin.kinds if builtin else KIND_GLOBS
    rules: list[dict[str, Any]] = []
    if builtin is not None:
        rules += [r.canonical() for r in builtin.path_rules]
        rules += [r.canonical() for r in builtin.content_rules]
    else:  # the policy-file and .gitattributes rules are always on
        rules += [r.canonical() for r in BUILTIN_PATH_RULES if r.unexcludable]
    rules += [{"kind": "policy-path", "id": policy_path_id(g), "glob": g} for g in policy_paths]
    rules += [
        {
            "kind": "policy-content",
            "id": policy_content_id(s.id),
            "pattern": s.pattern,
            "description": s.description,
        }
        for s in policy_content
    ]
    document: dict[str, Any] = {
        "rulesets": sorted(rulesets),
        "rules": sorted(rules, key=lambda r: (r["id"], r["kind"])),
        "kinds": {k: list(v) for k, v in sorted(kinds.items())},
        "exclude": sorted(set(exclude)),
    }
    if builtin is not None and builtin.stages:
        document["stages"] = dict(builtin.stages)
        document["exempt"] = sorted(set(exempt))
    return document


def digest_of(document: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` over canonical JSON (sorted keys, no whitespace, UTF-8)."""
    data = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(data.encode("utf-8")).hexdigest()


def policy_path_id(glob: str) -> str:
    """Rule id reported for a policy-added path glob."""
    return f"policy:path:{glob}"


def policy_content_id(rule_id: str) -> str:
    """Rule id reported for a policy-added content rule."""
    return f"policy:content:{rule_id}"


def ruleset_digest(ruleset_id: str) -> str:
    """The digest of a built-in ruleset alone (no policy additions, default exemptions)."""
    return digest_of(canonical_document(rulesets=(ruleset_id,)))

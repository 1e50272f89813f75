"""The built-in ruleset ``builtin:identity@1``, its identifiers and its digest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._model import ContentRule, PathRule, RuleSpec
from ._paths import KIND_GLOBS, PATH_RULES
from ._rules_authn import AUTHN_RULES
from ._rules_authz import AUTHZ_RULES
from ._rules_config import CONFIG_RULES
from ._rules_evasion import EVASION_PATH_RULES, EVASION_RULES
from ._rules_lang import LANGUAGE_RULES

#: Version of the matching code (normalisation, scoring); recorded next to every verdict.
CLASSIFIER_VERSION = "1.2.0"

BUILTIN_RULESET_NAME = "builtin:identity"
#: Bump the ``@N`` whenever a built-in rule, glob or file kind changes.
BUILTIN_RULESET_ID = f"{BUILTIN_RULESET_NAME}@1"

BUILTIN_PATH_RULES: tuple[PathRule, ...] = PATH_RULES + EVASION_PATH_RULES
BUILTIN_CONTENT_RULES: tuple[ContentRule, ...] = (
    AUTHN_RULES + AUTHZ_RULES + LANGUAGE_RULES + CONFIG_RULES + EVASION_RULES
)


def resolve_rulesets(names: Iterable[str]) -> tuple[str, ...]:
    """Canonical ids for the requested rulesets; unknown ids raise ``ValueError``."""
    out: list[str] = []
    for name in names:
        if name not in (BUILTIN_RULESET_NAME, BUILTIN_RULESET_ID):
            raise ValueError(
                f"unknown ruleset {name!r}; known: {BUILTIN_RULESET_NAME!r}, {BUILTIN_RULESET_ID!r}"
            )
        if BUILTIN_RULESET_ID not in out:
            out.append(BUILTIN_RULESET_ID)
    return tuple(out)


def canonical_document(
    *,
    rulesets: Sequence[str],
    policy_paths: Sequence[str] = (),
    policy_content: Sequence[RuleSpec] = (),
    exclude: Sequence[str] = (),
    kinds: Mapping[str, Sequence[str]] = KIND_GLOBS,
) -> dict[str, Any]:
    """The effective rules as a JSON-ready document whose hash is the ruleset digest."""
    rules: list[dict[str, Any]] = []
    if BUILTIN_RULESET_ID in rulesets:
        rules += [r.canonical() for r in BUILTIN_PATH_RULES]
        rules += [r.canonical() for r in BUILTIN_CONTENT_RULES]
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
    return {
        "rulesets": sorted(rulesets),
        "rules": sorted(rules, key=lambda r: (r["id"], r["kind"])),
        "kinds": {k: list(v) for k, v in sorted(kinds.items())},
        "exclude": sorted(set(exclude)),
    }


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


BUILTIN_RULESET_DIGEST = digest_of(canonical_document(rulesets=(BUILTIN_RULESET_ID,)))

"""The classify stage: which changed paths of a commit are identity-related, and why.

Between ``gitio`` (what changed) and ``record``/``verify`` (what the classification is used
for): the gate classifies every commit of a range with it, and stamping records its verdict.
``configured.classification_for`` builds the classifier a policy asks for;
``classified`` turns a range's changes into per-commit verdicts; ``syntax`` finds the
functions around a hunk with tree-sitter.

``Classifier.build(rulesets=["builtin:identity"], paths=[...], content=[RuleSpec(...)],
exclude=[...])`` compiles the built-in ruleset plus policy additions once; ``classify``
takes a ``provenance.models.FileChange`` and returns the sorted ids of the rules that fired
(empty: not identity-related). It never touches git or the filesystem.

Rule ids: built-in ones are ``<family>.<name>`` (``path.authn``, ``code.jwt``,
``deps.auth-library``, ``ci.permissions``, ``git.symlink`` ...); policy additions are
``policy:path:<glob>`` and ``policy:content:<id>``. ``BUILTIN_RULESET_DIGEST`` and
``Classifier.ruleset_digest`` hash the canonical rule definitions, so a verdict can name
exactly the rules that produced it. See ``docs/decisions/0003-classifier.md``.
"""

from __future__ import annotations

# Imported for their registration: builtin:identity@2's rules and its engine.
from provenance.classify import _v2_classifier, _v2_rules  # noqa: F401
from provenance.classify._model import RuleSpec
from provenance.classify._ruleset import (
    BUILTIN_RULESET_ID,
    CLASSIFIER_VERSION,
    EXEMPT_CATEGORIES,
    RULESET_V1,
    RULESET_V2,
    ruleset_digest,
)
from provenance.classify.classifier import Classifier

#: Digest of the newest built-in ruleset alone (``builtin:identity``, no policy additions).
BUILTIN_RULESET_DIGEST = ruleset_digest(BUILTIN_RULESET_ID)

__all__ = [
    "BUILTIN_RULESET_DIGEST",
    "BUILTIN_RULESET_ID",
    "CLASSIFIER_VERSION",
    "EXEMPT_CATEGORIES",
    "RULESET_V1",
    "RULESET_V2",
    "Classifier",
    "RuleSpec",
    "ruleset_digest",
]

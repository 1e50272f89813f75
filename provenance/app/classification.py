"""The classifier configured by a policy (or the built-in ruleset when there is none)."""

from __future__ import annotations

from provenance.policy import IdentityRules
from provenance.record.change import Classification
from provenance.record.classify import CLASSIFIER_VERSION, Classifier, RuleSpec


def classification_for(rules: IdentityRules | None) -> Classification:
    """Build the classifier from ``[identity]`` rules; unknown ruleset ids are config errors."""
    from provenance.errors import ConfigError

    rules = rules or IdentityRules()
    try:
        clf = Classifier.build(
            rulesets=list(rules.rulesets),
            paths=list(rules.paths),
            content=[
                RuleSpec(id=r.id, pattern=r.pattern, description=r.description)
                for r in rules.content
            ],
            exclude=list(rules.exclude),
        )
    except ValueError as e:
        raise ConfigError(f"invalid [identity] rules: {e}") from e
    return Classification(
        classify=clf.classify,
        version=CLASSIFIER_VERSION,
        ruleset_digest=clf.ruleset_digest,
        wants_source=clf.wants_source,
    )

"""The classifier a policy configures (or the built-in ruleset when there is none)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from provenance.classify import CLASSIFIER_VERSION, Classifier, RuleSpec
from provenance.classify.classified import NO_HOOKS, Hooks
from provenance.errors import ConfigError
from provenance.models import FileChange
from provenance.policy import IdentityRules


def _never(change: FileChange) -> bool:
    return False


def _no_path(path: str) -> bool:
    return False


@dataclass(frozen=True)
class Classification:
    """The classifier used for a record: a pure function plus its identifying metadata."""

    classify: Callable[[FileChange], tuple[str, ...]]
    version: str
    ruleset_digest: str
    #: Which changes need their whole blobs (``old_source``/``new_source``) to be judged.
    wants_source: Callable[[FileChange], bool] = _never
    #: Which paths fire a strong path rule: symlink aliases there are kept first.
    identity_path: Callable[[str], bool] = _no_path
    #: Where rules fired, whole-blob verdicts and per-commit context (``classified.Hooks``).
    hooks: Hooks = NO_HOOKS


def classification_for(rules: IdentityRules | None) -> Classification:
    """Build the classifier from ``[identity]`` rules; unknown ruleset ids are config errors."""
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
            exempt=list(rules.exempt),
        )
    except ValueError as e:
        raise ConfigError(f"invalid [identity] rules: {e}") from e
    return Classification(
        classify=clf.classify,
        version=CLASSIFIER_VERSION,
        ruleset_digest=clf.ruleset_digest,
        wants_source=clf.wants_source,
        identity_path=clf.is_identity_path,
        hooks=clf.hooks,
    )

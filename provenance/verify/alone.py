"""Commits classified alone, each a range of one against its parents (no sigstore import).

What ``verify COMMIT``, the index and the sources of rewrite links share: the same walk
(``read_alone``) and the same classification as a range, under the rules given.
"""

from __future__ import annotations

from collections.abc import Sequence

from provenance.classify.classified import CommitClassification, classify_range_changes
from provenance.classify.configured import classification_for
from provenance.gitio import Git, read_commits
from provenance.gitio.walk import RangeCommit, read_alone
from provenance.policy import IdentityRules


def classify_alone(
    git: Git, shas: Sequence[str], rules: IdentityRules | None
) -> dict[str, CommitClassification]:
    """Each commit classified alone, against its parents, as a range of one would be."""
    unique = list(dict.fromkeys(shas))
    if not unique:
        return {}
    commits = [RangeCommit(c.sha, c.parents) for c in read_commits(git, unique).values()]
    classification = classification_for(rules)
    seen = read_alone(
        git, commits, want=classification.wants_source, prefer=classification.identity_path
    )
    out: dict[str, CommitClassification] = {}
    for c in commits:
        (out[c.sha],) = classify_range_changes(
            [(c.sha, c.parents)],
            seen.own,
            seen.brought,
            classification.classify,
            None,
            classification.hooks,
        )
    return out


__all__ = ["classify_alone"]

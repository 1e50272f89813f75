"""The classifier on 300 labeled commits of real applications (``classifier-eval --real``).

``builtin:identity@2`` meets issue 16's recall targets (overall >= 0.95, no repository below
0.90) and must keep them. Its precision (0.69 overall, 0.63 to 0.73 per repository when
issue 16 closed; 0.72 overall, healthchecks 0.80, once credentials only sent to other
services stopped counting, decision 0020; 0.72 overall, 0.67 to 0.80 per repository with
the neutrality equivalences of decision 0019) is below the targets (0.85 overall, 0.75 per
repository): the floors below hold what was reached, so a change that floods reviewers
again fails here; raise them as the rules improve. ``@1`` must keep exactly the figures it
had when it was frozen (recall 0.92, precision 0.43: 55 found, 72 false flags, 5 misses),
since policies that pin it must see the same verdicts.
"""

from __future__ import annotations

import pytest

from tests.classify.harness import classifier_eval

pytestmark = pytest.mark.slow

REPOSITORIES = {
    "BookStackApp+BookStack",
    "healthchecks+healthchecks",
    "lobsters+lobsters",
    "miniflux+v2",
}


def _evaluate(ruleset: str) -> list[object]:
    data = classifier_eval.DEFAULT_REAL_SET
    if not data.is_dir():
        pytest.fail(f"{data} is missing: the shared data set must be beside the clone")
    items: list[object] = classifier_eval.evaluate(data, (), ruleset)
    assert len(items) == 300
    assert {i.repo for i in items} == REPOSITORIES  # type: ignore[attr-defined]
    return items


def test_ruleset_2_keeps_its_figures_on_real_commits() -> None:
    items = _evaluate("builtin:identity@2")
    overall = classifier_eval.confusion(items)
    assert overall.tp + overall.fn == 60
    assert overall.recall >= 0.95, overall
    assert overall.precision >= 0.72, overall
    for repo in REPOSITORIES:
        scores = classifier_eval.confusion(i for i in items if i.repo == repo)  # type: ignore[attr-defined]
        assert scores.recall >= 0.90, (repo, scores)
        assert scores.precision >= 0.66, (repo, scores)
    text = classifier_eval.render_real(items, "builtin:identity@2")
    assert "per category" in text
    # every error is listed, false flags with the rules that fired and where
    assert text.count("\n  FN ") == overall.fn
    assert text.count("\n  FP ") == overall.fp


def test_ruleset_1_keeps_its_figures() -> None:
    overall = classifier_eval.confusion(_evaluate("builtin:identity@1"))
    assert (overall.tp, overall.fp, overall.fn, overall.tn) == (55, 72, 5, 168)

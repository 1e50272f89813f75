"""``log`` and ``blame`` follow rewrite links: a squashed line names its source's agent.

Kept apart from the index (whose backend is moving): a commit the index does not find ``ok``
is looked up through its links at read time. Each link is recomputed exactly as the gate
recomputes it (:func:`provenance.verify.links.follow`), under the rules of the policy
committed at HEAD (the one ``index`` uses), and its sources must be ``ok`` in the index;
the commit then shows the sources' agents, models, prompters and counted approvers, and a
status saying how: ``ok (squash of a1b2c3d4..c3d4e5f6)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from provenance.app.gate import classify_commits
from provenance.app.policy_source import load_policy_at
from provenance.audit import CommitSummary, Index, commit_summaries
from provenance.classify.classified import CommitClassification
from provenance.gitio import Git
from provenance.store import NotesStore
from provenance.verify.links import SourceStanding, follow, read_links


def _union(summaries: Sequence[CommitSummary], field: str) -> tuple[str, ...]:
    return tuple(sorted({v for s in summaries for v in getattr(s, field)}))


def through_links(
    git: Git,
    index: Index,
    repository: str,
    summaries: Mapping[str, CommitSummary],
    shas: Sequence[str],
) -> dict[str, CommitSummary]:
    """``summaries`` with each commit of ``shas`` that passes through a link filled in
    (sources are looked up among ``repository``'s rows only)."""
    out = dict(summaries)
    lacking = [s for s in dict.fromkeys(shas) if s not in out or out[s].status != "ok"]
    head = git.head()
    loaded = load_policy_at(git, head) if head and lacking else None
    if loaded is None:
        return out
    links = read_links(NotesStore.of_policy(git, loaded.policy), lacking)
    if not links:
        return out
    classified = classify_commits(git, list(links), loaded)
    seen: dict[str, CommitSummary] = {}

    def decide(sources: tuple[CommitClassification, ...]) -> dict[str, SourceStanding]:
        seen.update(commit_summaries(index, repository, [c.commit for c in sources]))
        return {c.commit: SourceStanding(c.commit in seen and seen[c.commit].status == "ok",
                                         seen[c.commit].approvers if c.commit in seen else ())
                for c in sources}  # fmt: skip

    candidates = [classified[s] for s in links]
    for sha, followed in follow(git, candidates, links, loaded.policy.identity, decide).items():
        if not followed.ok:
            continue
        sources = [seen[s] for s in followed.sources if s in seen]
        out[sha] = CommitSummary(
            commit=sha,
            agents=_union(sources, "agents"),
            models=_union(sources, "models"),
            prompters=_union(sources, "prompters"),
            approvers=followed.approvers,
            status=f"ok ({followed.via})",
            reasons=(),
        )
    return out


__all__ = ["through_links"]

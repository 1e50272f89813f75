"""Rewrite links in the gate: a commit without evidence of its own may pass on its sources'.

A link (:mod:`provenance.store.links`) is a claim and is never trusted. A commit NEW passes
through one only when both hold, recomputed from git objects alone:

- **equivalence**: replaying each source step (a commit ``S`` is ``S^..S``, a squash is
  ``A..B``) onto NEW's parent with git's three-way merge (merge base: the step's base) gives
  NEW's tree on every identity-related path, i.e. every path the BASE policy's classifier
  marks identity-related in NEW or in any source commit (each classified alone); and every
  identity-related path of NEW is identity-related in some source (identity code may not
  arise between the pieces). Differences elsewhere are fine.
- **the sources pass on their own**: every identity-related source commit passes the gate
  under the same policy and trust (its own attestation and approvals, or a link of its own,
  up to ``MAX_DEPTH`` links deep). Approvals given to the sources count for NEW; separation
  of duties is judged on the sources.

Absent source objects refuse with ``link_source_missing``; a replay that differs,
a source range that is not a range, or a merge as a 1:1 source with ``link_not_equivalent``;
a refused source with ``link_source_refused``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from provenance.classify.classified import CommitClassification
from provenance.errors import GitError
from provenance.gitio import Commit, Git, read_commits
from provenance.gitio.rewrite import differing, replay
from provenance.gitio.snapshots import present_commits, rev_list
from provenance.gitio.stream import raw_changes_of
from provenance.gitio.walk import Sandbox, sandbox
from provenance.models import FileChange
from provenance.policy import IdentityRules
from provenance.reasons import Reason
from provenance.store import AttestationStore
from provenance.store.links import Link, parse_link, source_commits
from provenance.verify.alone import classify_alone

#: Links followed through links (a rebase, then a squash, is two).
MAX_DEPTH = 4
#: Source commits one link may name (its ranges together).
MAX_SQUASHED = 1000

#: Decides source commits (classified alone) as the gate would, one level of links deeper.
DecideSources = Callable[[tuple[CommitClassification, ...]], Mapping[str, "SourceStanding"]]


@dataclass(frozen=True)
class SourceStanding:
    """What the gate decided for one source commit."""

    ok: bool
    approvers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Followed:
    """A commit's standing through its links: passed (``via``) or the links' reasons."""

    ok: bool
    reasons: tuple[Reason, ...]
    via: str | None = None
    sources: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Plan:
    """One link resolved: the replay steps and every source commit they hold."""

    link: Link
    steps: tuple[tuple[str, str], ...]
    commits: tuple[str, ...]


def _plan(git: Git, link: Link, present: set[str], heads: Mapping[str, Commit]) -> _Plan | Reason:
    if any(name not in present for name in source_commits(link)):
        return Reason.LINK_SOURCE_MISSING
    steps: list[tuple[str, str]] = []
    commits: list[str] = []
    for s in link.sources:
        if s.base is None:
            parents = heads[s.head].parents
            if len(parents) != 1:  # a root or a merge carries no single change to replay
                return Reason.LINK_NOT_EQUIVALENT
            steps.append((parents[0], s.head))
            commits.append(s.head)
            continue
        if s.base == s.head or not git.is_ancestor(s.base, s.head):
            return Reason.LINK_NOT_EQUIVALENT
        try:
            listed = rev_list(git, [s.head], [s.base])
        except GitError:  # an object between the ends is absent (a partial fetch)
            return Reason.LINK_SOURCE_MISSING
        steps.append((s.base, s.head))
        commits += listed
        if len(commits) > MAX_SQUASHED:  # bounds the work one stored line can ask for
            return Reason.LINK_NOT_EQUIVALENT
    if link.new in commits:
        return Reason.LINK_NOT_EQUIVALENT
    return _Plan(link, tuple(steps), tuple(dict.fromkeys(commits)))


def identity_paths(c: CommitClassification) -> set[str]:
    """The identity-related paths of a commit (both names of a rename)."""
    return {p for v in c.paths if v.rules for p in (v.path, v.old_path) if p}


Raw = Mapping[str, list[FileChange]]


def _touching(changes: Sequence[FileChange], paths: set[str]) -> set[tuple[str, ...]]:
    """The raw entries (names, modes, blob ids) of ``changes`` at any of ``paths``."""
    return {
        (c.path, c.old_path, c.status, c.old_mode, c.new_mode, c.old_oid, c.new_oid)
        for c in changes
        if c.path in paths or c.old_path in paths
    }


def _raw_pairs(
    news: Mapping[str, Commit], plans: Mapping[str, list[_Plan | Reason]]
) -> dict[str, str]:
    """Commit -> the commit to diff it against: NEW against its parent, a one-step plan's head
    against its base (a head named by two different bases is left to the replay)."""
    pairs = {sha: c.parents[0] for sha, c in news.items() if len(c.parents) == 1}
    for ps in plans.values():
        for p in ps:
            if isinstance(p, _Plan) and len(p.steps) == 1:
                base, head = p.steps[0]
                if pairs.setdefault(head, base) != base:
                    pairs[head] = ""
    return {c: p for c, p in pairs.items() if p}


def _equivalent(
    box: Sandbox,
    new: Commit,
    classified: CommitClassification,
    plan: _Plan,
    sources: Mapping[str, CommitClassification],
    trees: Mapping[str, str],
    raw: Raw,
) -> bool:
    """Does replaying the plan onto NEW's parent give NEW on every identity-related path?

    When a one-step plan changes those paths from the same blobs to the same blobs (and
    modes) as NEW does, the three-way merge can only give NEW there: no merge is run.
    """
    if len(new.parents) != 1:
        return False
    own = identity_paths(classified)
    theirs = set().union(*(identity_paths(sources[s]) for s in plan.commits))
    if not own <= theirs:
        return False
    paths = own | theirs
    head = plan.steps[0][1]  # in raw only when diffed against this plan's base (_raw_pairs)
    if (
        len(plan.steps) == 1
        and new.sha in raw
        and head in raw
        and _touching(raw[new.sha], paths) == _touching(raw[head], paths)
    ):
        return True
    merged = replay(box, new.parents[0], plan.steps, trees)
    return not differing(box, merged, new.tree, paths)


def read_links(store: AttestationStore, shas: Sequence[str]) -> dict[str, list[Link]]:
    """The well-formed links stored on each commit that has any (claims, unchecked)."""
    stored = store.read_many(shas, links=True)
    out: dict[str, list[Link]] = {}
    for sha in shas:
        links = [link for line in stored.get(sha, []) if (link := parse_link(line, sha))]
        if links:
            out[sha] = links
    return out


Plans = dict[str, list["_Plan | Reason"]]


def plan_commits(plans: Plans) -> list[str]:
    """Every source commit the plans hold (what the gate may verify up front)."""
    return list(dict.fromkeys(
        s for ps in plans.values() for p in ps if isinstance(p, _Plan) for s in p.commits
    ))  # fmt: skip


def plan_links(git: Git, links: Mapping[str, list[Link]]) -> Plans:
    """Each link resolved to replay steps and source commits, or why it cannot be."""
    names = [n for ls in links.values() for link in ls for n in source_commits(link)]
    present = set(present_commits(git, list(dict.fromkeys(names))))
    singles = [s.head for ls in links.values() for link in ls for s in link.sources
               if s.base is None and s.head in present]  # fmt: skip
    heads = read_commits(git, list(dict.fromkeys(singles))) if singles else {}
    return {sha: [_plan(git, link, present, heads) for link in ls] for sha, ls in links.items()}


def _trees(git: Git, news: Iterable[Commit], plans: Plans) -> dict[str, str]:
    """Commit -> tree for NEW's parents and every step's ends (one batch read)."""
    named = [p for n in news for p in n.parents[:1]]
    named += [e for ps in plans.values() for p in ps if isinstance(p, _Plan)
              for step in p.steps for e in step]  # fmt: skip
    return {sha: c.tree for sha, c in read_commits(git, list(dict.fromkeys(named))).items()}


def follow(
    git: Git,
    candidates: Sequence[CommitClassification],
    links: Mapping[str, list[Link]],
    rules: IdentityRules | None,
    decide_sources: DecideSources,
    planned: Plans | None = None,
) -> dict[str, Followed]:
    """The standing through ``links`` of each candidate that has any (others are left out).

    Sources are classified alone under ``rules`` (the policy that decides NEW); ``planned``
    holds plans already made (:func:`plan_links`) for some of the candidates.
    """
    links = {c.commit: links[c.commit] for c in candidates if links.get(c.commit)}
    if not links:
        return {}
    known = planned or {}
    plans = {sha: known[sha] for sha in links if sha in known}
    plans |= plan_links(git, {sha: ls for sha, ls in links.items() if sha not in known})
    wanted = [s for ps in plans.values() for p in ps if isinstance(p, _Plan) for s in p.commits]
    sources = classify_alone(git, wanted, rules)
    news = read_commits(git, list(plans))
    trees = _trees(git, news.values(), plans)
    by_sha = {c.commit: c for c in candidates}
    checked: dict[str, list[_Plan | Reason]] = {}
    with sandbox(git) as box:
        raw = raw_changes_of(box.git, _raw_pairs(news, plans), env=box.env)
        for sha, ps in plans.items():
            checked[sha] = [
                p if isinstance(p, Reason)
                or _equivalent(box, news[sha], by_sha[sha], p, sources, trees, raw)
                else Reason.LINK_NOT_EQUIVALENT
                for p in ps
            ]  # fmt: skip
    needed = {s for ps in checked.values() for p in ps if isinstance(p, _Plan)
              for s in p.commits if sources[s].identity_related}  # fmt: skip
    decided = decide_sources(tuple(sources[s] for s in sorted(needed))) if needed else {}
    return {sha: _standing(ps, sources, decided) for sha, ps in checked.items()}


def _standing(
    plans: Sequence[_Plan | Reason],
    sources: Mapping[str, CommitClassification],
    decided: Mapping[str, SourceStanding],
) -> Followed:
    """The first link that holds, or every link's reason."""
    reasons: list[Reason] = []
    for p in plans:
        if isinstance(p, Reason):
            reasons.append(p)
            continue
        required = [s for s in p.commits if sources[s].identity_related]
        standings = [decided.get(s, SourceStanding(False)) for s in required]
        if all(s.ok for s in standings):
            approvers = sorted({a for s in standings for a in s.approvers})
            return Followed(True, (), p.link.describe(), p.commits, tuple(approvers))
        reasons.append(Reason.LINK_SOURCE_REFUSED)
    return Followed(False, tuple(dict.fromkeys(reasons)))


__all__ = [
    "MAX_DEPTH",
    "DecideSources",
    "Followed",
    "Plans",
    "SourceStanding",
    "follow",
    "identity_paths",
    "plan_commits",
    "plan_links",
    "read_links",
]

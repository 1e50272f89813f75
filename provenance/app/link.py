"""``link``: record that a rewritten commit carries the changes of its sources.

The link is a claim stored on NEW in the notes ref (:mod:`provenance.store.links`); the gate
never trusts it and recomputes it every time (:mod:`provenance.verify.links`). ``link``
checks now what it can from git objects alone (the sources are present, and replaying them
onto NEW's parent gives NEW on every identity-related path) and refuses with the reason
otherwise; whether the sources' attestations pass is the gate's to decide. The sources are
kept reachable under ``refs/provenance/sources/`` so clones can fetch them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from provenance.app.policy_source import resolve_policy
from provenance.app.stamp import repository_uri
from provenance.classify.classified import CommitClassification
from provenance.errors import Refusal, UsageError
from provenance.gitio import (
    Commit,
    Git,
    check_repository_safe,
    read_commit,
    read_commits,
    resolve_commit,
)
from provenance.gitio.rewrite import merge_base, patch_ids, ref_tips
from provenance.gitio.walk import parse_range, walk_range
from provenance.policy import LoadedPolicy
from provenance.predicates import LINK_PREDICATE_TYPE, LinkPredicate
from provenance.reasons import Reason
from provenance.sign import build_statement
from provenance.sign.signing import SigningOptions, sign
from provenance.store import NotesStore
from provenance.store.links import (
    SOURCES_REF_PREFIX,
    Link,
    Source,
    encode_link,
    keep_sources,
    source_commits,
)
from provenance.verify.alone import classify_alone
from provenance.verify.links import SourceStanding, follow

FETCH_HINT = (
    "fetch the link sources with `git fetch origin '+refs/provenance/*:refs/provenance/*'` "
    "(`provenance sync` fetches and pushes them)"
)
_HINTS = {
    Reason.LINK_SOURCE_MISSING: FETCH_HINT,
    Reason.LINK_NOT_EQUIVALENT: "an identity-related difference needs evidence of its own: "
    "stamp the commit (`provenance stamp`) instead of linking it",
}


@dataclass(frozen=True)
class Linked:
    """A link recorded: NEW, its sources, and the refs that keep them."""

    new: str
    link: Link
    refs: tuple[str, ...]
    added: bool


def _commit_id(git: Git, rev: str) -> str:
    """A full object id as given (it may be absent here: ``link_source_missing`` then says
    what to fetch), anything else resolved to exactly one commit (G42)."""
    literal = Source.parse(rev.lower())
    return (
        literal.head if literal is not None and literal.base is None else resolve_commit(git, rev)
    )


def parse_sources(git: Git, specs: Sequence[str]) -> tuple[Source, ...]:
    """``SOURCE`` or ``A..B`` (a squash of A..B), each end one commit."""
    out = []
    for spec in specs:
        parsed = parse_range(spec)
        if parsed is None:
            out.append(Source(_commit_id(git, spec)))
        else:
            out.append(Source(_commit_id(git, parsed[1]), _commit_id(git, parsed[0])))
    return tuple(out)


def _all_pass(sources: tuple[CommitClassification, ...]) -> Mapping[str, SourceStanding]:
    """Sources are the gate's to judge; ``link`` checks only what git objects show."""
    return {c.commit: SourceStanding(True) for c in sources}


def check_link(git: Git, link: Link, loaded: LoadedPolicy | None) -> tuple[Reason, ...]:
    """Why ``link`` does not hold now from git objects alone (empty: it holds)."""
    rules = loaded.policy.identity if loaded else None
    classified = classify_alone(git, [link.new], rules)[link.new]
    followed = follow(git, [classified], {link.new: [link]}, rules, _all_pass)
    return followed[link.new].reasons


def signed(git: Git, link: Link, loaded: LoadedPolicy, signing: SigningOptions) -> Link:
    """``link`` carrying the signed statement of its claim (who linked; never trusted)."""
    commit = read_commit(git, link.new)
    uri = repository_uri(git, loaded.policy.repository)
    predicate = LinkPredicate(sources=[str(s) for s in link.sources])
    statement = build_statement(commit, uri, LINK_PREDICATE_TYPE, predicate)
    line = sign(statement, signing).line
    return replace(link, signature=json.loads(line))


def record_link(
    git: Git, link: Link, loaded: LoadedPolicy, signing: SigningOptions | None = None
) -> Linked:
    """Check ``link``, keep its sources reachable and store it on NEW; refuse when it fails.

    With ``signing`` (a credential at hand) the stored line carries the signed claim.
    """
    reasons = check_link(git, link, loaded)
    if reasons:
        raise Refusal(
            reasons[0],
            f"{link.new[:12]} is not a rewrite of {link.describe().split(' of ', 1)[1]}",
            hint=_HINTS.get(reasons[0]),
        )
    refs = keep_sources(git, source_commits(link))
    if signing is not None:
        link = signed(git, link, loaded, signing)
    added = NotesStore.of_policy(git, loaded.policy).add(link.new, [encode_link(link)])
    return Linked(link.new, link, tuple(refs), added > 0)


def link(
    repo: Path,
    new: str,
    specs: Sequence[str],
    policy: Path | None = None,
    signing: SigningOptions | None = None,
) -> Linked:
    """``provenance link NEW --from SOURCE|A..B ...`` (rules: HEAD's policy or ``--policy``)."""
    git = Git.discover(repo)
    check_repository_safe(git)
    new_sha = resolve_commit(git, new)
    sources = parse_sources(git, specs)
    loaded = resolve_policy(git, policy, resolve_commit(git, "HEAD"))
    return record_link(git, Link(new_sha, sources), loaded, signing)


@dataclass(frozen=True)
class Rewritten:
    """What the post-rewrite hook did: links recorded, and commits left unlinked (why)."""

    linked: tuple[Linked, ...]
    refused: tuple[tuple[str, Reason], ...]


def _rewrite_pairs(text: str) -> dict[str, list[str]]:
    """``OLD NEW [EXTRA]`` lines (git's post-rewrite input) -> NEW -> OLDs in order."""
    olds_of: dict[str, list[str]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and all(Source.parse(p) for p in parts[:2]):
            olds_of.setdefault(parts[1], []).append(parts[0])
    return olds_of


def link_rewritten(repo: Path, text: str) -> Rewritten:
    """Link each rewritten commit to the commits it replaces (``post-rewrite`` hook).

    Only rewrites of commits that carry something in the notes ref (attestations or links)
    are linked; several old commits folded into one (``rebase -i`` squash, fixup) are its
    sources in order. A link that does not hold is reported, not recorded.
    """
    git = Git.discover(repo)
    check_repository_safe(git)
    olds_of = _rewrite_pairs(text)
    loaded = resolve_policy(git, None, resolve_commit(git, "HEAD"))
    store = NotesStore.of_policy(git, loaded.policy)
    every = [o for olds in olds_of.values() for o in olds]
    lines, links = store.read_many(every), store.read_many(every, links=True)
    linked: list[Linked] = []
    refused: list[tuple[str, Reason]] = []
    for new, olds in olds_of.items():
        if not any(lines[o] or links[o] for o in olds):
            continue
        try:
            linked.append(record_link(git, Link(new, tuple(Source(o) for o in olds)), loaded))
        except Refusal as e:
            refused.append((new, e.reason))
    return Rewritten(tuple(linked), tuple(refused))


#: Where ``link --auto`` looks for sources (forges keep pull/merge request heads there).
DEFAULT_CANDIDATES = (
    "refs/heads/",
    "refs/remotes/",
    "refs/pull/*/head",
    "refs/merge-requests/*/head",
    SOURCES_REF_PREFIX,
)
_CHERRY = re.compile(rb"^\(cherry picked from commit ([0-9a-f]{40}|[0-9a-f]{64})\)$", re.M)


def cherry_picked_from(raw: bytes) -> str | None:
    """The commit a ``cherry-pick -x`` line names (the last one), or ``None``."""
    found = _CHERRY.findall(raw.split(b"\n\n", 1)[-1])
    return found[-1].decode() if found else None


def _proposals(
    git: Git, new: Commit, tips: Sequence[str], by_patch: Mapping[str, list[str]], pid: str | None
) -> list[Link]:
    """Links worth checking for NEW: its cherry-pick line, same patch, squashed branch tips."""
    out: list[Link] = []
    picked = cherry_picked_from(new.raw)
    if picked:
        out.append(Link(new.sha, (Source(picked),)))
    out += [Link(new.sha, (Source(s),)) for s in (by_patch.get(pid, []) if pid else [])
            if s != new.sha]  # fmt: skip
    for tip in tips:
        base = merge_base(git, tip, new.parents[0]) if new.parents else None
        if base is not None and base != tip and tip != new.sha:
            out.append(Link(new.sha, (Source(tip, base),)))
    return out


def _unevidenced(git: Git, spec: str, loaded: LoadedPolicy) -> list[Commit]:
    """Identity commits of ``spec`` (single parent) with nothing stored on them."""
    _base, _head, walked = walk_range(git, *_range_parts(spec))
    shas = [c.sha for c in walked if len(c.parents) == 1]
    classified = classify_alone(git, shas, loaded.policy.identity)
    wanted = [s for s in shas if classified[s].identity_related]
    store = NotesStore.of_policy(git, loaded.policy)
    lines, links = store.read_many(wanted), store.read_many(wanted, links=True)
    bare = [s for s in wanted if not lines[s] and not links[s]]
    return list(read_commits(git, bare).values())


def _range_parts(spec: str) -> tuple[str, str]:
    parsed = parse_range(spec)
    if parsed is None:
        raise UsageError(f"{spec!r} is not a range", hint="give BASE..HEAD")
    return parsed


def auto_link(
    repo: Path,
    spec: str,
    candidates: Sequence[str] | None = None,
    policy: Path | None = None,
    signing: SigningOptions | None = None,
) -> list[Linked]:
    """Link every identity commit of ``spec`` lacking evidence to sources that hold.

    Proposals come from the commit's ``(cherry picked from commit ...)`` line, commits with
    the same patch id reachable from the candidate refs (rebases), and candidate ref tips
    squashed onto NEW's parent (squash merges); each is checked exactly as ``link`` checks
    it, and the first that holds is recorded. Policy: BASE's, or ``--policy``.
    """
    git = Git.discover(repo)
    check_repository_safe(git)
    loaded = resolve_policy(git, policy, resolve_commit(git, _range_parts(spec)[0]))
    news = _unevidenced(git, spec, loaded)
    if not news:
        return []
    tips = ref_tips(git, list(candidates or DEFAULT_CANDIDATES))
    head = resolve_commit(git, _range_parts(spec)[1])
    by_patch: dict[str, list[str]] = {}
    for sha, pid in patch_ids(git, tips, [head]).items():
        by_patch.setdefault(pid, []).append(sha)
    own = patch_ids(git, [n.sha for n in news], no_walk=True)
    found = []
    for new in news:
        for proposal in _proposals(git, new, tips, by_patch, own.get(new.sha)):
            if not check_link(git, proposal, loaded):
                found.append(record_link(git, proposal, loaded, signing))
                break
    return found


__all__ = [
    "DEFAULT_CANDIDATES",
    "FETCH_HINT",
    "Linked",
    "Rewritten",
    "auto_link",
    "check_link",
    "cherry_picked_from",
    "link",
    "link_rewritten",
    "parse_sources",
    "record_link",
]

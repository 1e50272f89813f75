"""Human approval: show what is being approved, then sign and store the approval attestation.

The change attestation is verified with the policy of the branch the commit will merge into
(``--base``, by default the current branch's upstream) or a pinned ``--policy``, never with the
policy the commit's own branch carries: with the agent's branch checked out, HEAD's policy
names the agent's key as a signer and shows the approver a forged "valid" attestation
(THREATS.md G58). A base that already contains the commit is refused for the same reason.

What the approver is shown as identity-related is the gate's own verdict over
``base..commit`` (sources, symlink aliases, what a merge brings), never only the verdict the
stamp recorded: ``stamp`` judges plain diffs, so a change the gate refuses for
``code.guard-flow`` was shown as "0 identity-related path(s)" and approved blind (G57).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from provenance.app.gate import commit_verdict
from provenance.app.options import VerifyOptions
from provenance.app.policy_source import resolve_policy
from provenance.app.stamp import repository_uri, sign_and_store
from provenance.classify.classified import PathVerdict
from provenance.errors import ConfigError, ProvenanceError, Refusal, UsageError
from provenance.gitio import Commit, Git, read_commit, resolve_commit
from provenance.gitio.revision import upstream_of_head
from provenance.gitio.stream import diff_against
from provenance.policy import LoadedPolicy
from provenance.predicates import (
    APPROVAL_PREDICATE_TYPE,
    ApprovalPredicate,
    ChangePredicate,
    CommitRef,
)
from provenance.reasons import Reason
from provenance.sign import build_statement
from provenance.sign.signing import SigningOptions
from provenance.store import NotesStore
from provenance.verify.attestation import AttestationResult
from provenance.verify.gate import verify_note
from provenance.verify.links import read_links


class ApprovalRefused(Refusal):
    """The commit cannot be approved (no valid change attestation): exit 1."""

    def diagnostics(self) -> str:
        """The message already lists every reason (as before the reason code was kept)."""
        return ProvenanceError.diagnostics(self)


#: Identity-related diffs longer than this are not shown by default (``--show-diff`` forces).
SHORT_DIFF_LINES = 200


@dataclass(frozen=True)
class Hunk:
    """The lines an identity-related path lost and gained in the commit."""

    path: str
    removed: tuple[str, ...]
    added: tuple[str, ...]


@dataclass(frozen=True)
class Preview:
    """What an approver sees before signing."""

    commit: Commit
    change: AttestationResult
    diffstat: list[tuple[str, int, int]]
    notes_ref: str
    policy_source: str = ""
    hunks: tuple[Hunk, ...] = ()
    #: The gate's verdict per changed path, and the commit it judged the change from.
    verdict: tuple[PathVerdict, ...] = ()
    judged_from: str = ""

    @property
    def predicate(self) -> ChangePredicate:
        """The signed change record being approved (verified; a change predicate)."""
        assert isinstance(self.change.predicate, ChangePredicate)
        return self.change.predicate

    @property
    def message(self) -> str:
        """The commit message, as stored (decoded leniently)."""
        return self.commit.raw.partition(b"\n\n")[2].decode("utf-8", errors="replace")

    def identity_paths(self) -> list[tuple[str, list[str]]]:
        """(path, rules) for every path the gate judges identity-related in this commit."""
        return [(v.path, list(v.rules)) for v in self.verdict if v.rules]

    def recorded_paths(self) -> list[tuple[str, list[str]]]:
        """(path, rules) the signed change record lists (the stamp's own, cheaper verdict)."""
        return [(c.path, list(c.rules)) for c in self.predicate.changes if c.rules]

    def diff_lines(self) -> int:
        return sum(len(h.removed) + len(h.added) for h in self.hunks)


def policy_base(git: Git, base: str | None, sha: str) -> str:
    """The commit whose policy judges ``sha``: ``base``, else the current branch's upstream."""
    rev = base
    if rev is None:
        rev = upstream_of_head(git) or ""
        if not rev:
            raise ConfigError(
                "cannot tell which policy applies: the current branch has no upstream",
                hint="pass --base REV (the branch the commit will merge into, e.g. "
                "origin/main) or --policy FILE; HEAD's own policy is never used",
            )
    base_sha = resolve_commit(git, rev)
    if git.is_ancestor(sha, base_sha):
        raise UsageError(
            f"the base {rev} already contains {sha[:12]}: its policy could be the change "
            "under review",
            hint="pass --base with the branch the commit will merge into (e.g. origin/main)",
        )
    return base_sha


@dataclass(frozen=True)
class Approved:
    """What ``approve`` stored."""

    commit: str
    decision: str
    approves: str
    digest: str
    signer: str


def preview(repo: Path, rev: str, options: VerifyOptions, base: str | None = None) -> Preview:
    """Verify ``rev``'s change attestations; refuse unless one is fully valid.

    The policy is ``options.policy`` when given, else the one committed at
    :func:`policy_base`.
    """
    git = Git.discover(repo)
    sha = resolve_commit(git, rev)
    commit = read_commit(git, sha)
    at = policy_base(git, base, sha) if options.policy is None else sha
    loaded = resolve_policy(git, options.policy, at)
    trust = options.trust(loaded)
    lines = NotesStore.of_policy(git, loaded.policy).read_many([sha], trust.screen)[sha]
    outcome = verify_note(lines, commit, trust)  # junk neither costs nor outvotes (G52)
    results = list(outcome) if isinstance(outcome, tuple) else []
    valid = [r for r in results if r.ok and r.kind == "change"]
    if not valid:
        missing = outcome if isinstance(outcome, Reason) else Reason.ATTESTATION_MISSING
        why = sorted({x for r in results for x in r.reasons}) or [missing]
        links = read_links(NotesStore.of_policy(git, loaded.policy), [sha]).get(sha, [])
        sources = ", ".join(s.label() for link in links for s in link.sources)
        raise ApprovalRefused(
            why[0],
            f"{sha[:12]} has no valid change attestation ({', '.join(why)}); nothing to approve",
            hint=f"it is linked to {sources}: approve the source commits, whose approvals "
            "count for it"
            if links
            else "the agent wrapper must stamp it first (provenance stamp)",
        )
    newest = max(valid, key=lambda r: r.signed_time or datetime.min.replace(tzinfo=UTC))
    changes = [
        c for parent in (commit.parents[:1] or (None,)) for c in diff_against(git, sha, parent)
    ]
    judged_from, verdict = _gate_verdict(git, base, commit, loaded, pinned=at == sha)
    identity = {p for v in verdict if v.rules for p in (v.path, v.old_path) if p}
    return Preview(
        commit=commit,
        change=newest,
        diffstat=[(c.path, len(c.added), len(c.removed)) for c in changes],
        notes_ref=loaded.policy.notes_ref,
        policy_source=loaded.source,
        hunks=tuple(
            Hunk(c.path, tuple(c.removed), tuple(c.added))
            for c in changes
            if c.path in identity or c.old_path in identity
        ),
        verdict=verdict,
        judged_from=judged_from,
    )


def _gate_verdict(
    git: Git, base: str | None, commit: Commit, loaded: LoadedPolicy, *, pinned: bool
) -> tuple[str, tuple[PathVerdict, ...]]:
    """The gate's verdict for ``commit`` over ``base..commit`` (and the base it used).

    With a pinned policy and no usable base (no ``--base``, no upstream, or an upstream that
    already contains the commit), the commit is judged from its first parent; a root commit
    has nothing to judge it from, so every path it adds is shown.
    """
    sha = commit.sha
    if pinned:
        try:
            start = policy_base(git, base, sha)
        except ProvenanceError:
            if base is not None:
                raise
            start = commit.parents[0] if commit.parents else ""
    else:
        start = policy_base(git, base, sha)
    if not start:
        paths = (c.path for c in diff_against(git, sha, None))
        return "", tuple(PathVerdict(p, None, ("root-commit",)) for p in paths)
    return start, commit_verdict(git, start, sha, loaded).paths


def approve(
    repo: Path, seen: Preview, decision: str, comment: str | None, signing: SigningOptions
) -> Approved:
    """Sign an approval (or rejection) of the previewed change attestation and store it."""
    git = Git.discover(repo)
    commit = seen.commit
    predicate = ApprovalPredicate(
        change_attestation={"sha256": str(seen.change.digest)},
        commit=CommitRef(sha=commit.sha, tree=commit.tree, parents=list(commit.parents)),
        decision="approve" if decision == "approve" else "reject",
        comment=comment,
        decided_at=datetime.now(UTC),
    )
    uri = seen.predicate.repository.uri or repository_uri(git, None)
    statement = build_statement(commit, uri, APPROVAL_PREDICATE_TYPE, predicate)
    signed, _added = sign_and_store(git, commit.sha, statement, seen.notes_ref, signing)
    return Approved(
        commit=commit.sha,
        decision=predicate.decision,
        approves=f"sha256:{seen.change.digest}",
        digest="sha256:" + hashlib.sha256(statement).hexdigest(),
        signer=signed.signer,
    )

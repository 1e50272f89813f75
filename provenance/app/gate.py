"""The release gate and ``classify``: over ``BASE..HEAD`` (policy from BASE, never the
candidate) or over named commits (a range of one each; policy from HEAD or ``--policy``).

Both forms run the same walk, the same classification and the same decision
(:func:`provenance.verify.gate.gate`); only where the policy comes from differs, and every
report says which (``policy_from``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from provenance.app.policy_source import load_policy_at, resolve_policy
from provenance.classify.classified import CommitClassification, classify_range_changes
from provenance.classify.configured import classification_for
from provenance.errors import UsageError
from provenance.gitio import Git, check_repository_safe, read_commit, resolve_commit
from provenance.gitio.enrich import attach_sources
from provenance.gitio.walk import parse_range, read_range, walk_range
from provenance.policy import LoadedPolicy
from provenance.verify.alone import classify_alone

if TYPE_CHECKING:  # the verifier (and sigstore) load only when verifying, not to classify
    from provenance.app.options import VerifyOptions
    from provenance.store import AttestationStore
    from provenance.verify.report import Report
    from provenance.verify.trust import TrustContext

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Classified:
    """What ``classify`` reports: the range, the rules source, and per-commit verdicts."""

    range_info: dict[str, str]
    policy_source: str
    ruleset_digest: str
    commits: list[CommitClassification]


def _policy_for_rules(git: Git, policy_file: Path | None, base: str) -> LoadedPolicy | None:
    if policy_file is not None:
        return resolve_policy(git, policy_file, base)
    return load_policy_at(git, base)


def range_ends(spec: str) -> tuple[str, str]:
    """The two ends of ``BASE..HEAD`` as given; anything else is a usage error."""
    parsed = parse_range(spec)
    if parsed is None:
        raise UsageError(f"{spec!r} is not a range", hint="give BASE..HEAD")
    return parsed


def _classify(
    git: Git, spec: str, loaded: LoadedPolicy | None, progress: Progress | None
) -> Classified:
    base, head, commits = walk_range(git, *range_ends(spec))  # callers checked the repository
    classification = classification_for(loaded.policy.identity if loaded else None)
    seen = read_range(
        git,
        commits,
        ends=(base, head),
        want=classification.wants_source,
        prefer=classification.identity_path,
        own_sources=False,
    )
    report = (lambda n, t: progress("classified", n, t)) if progress else None
    verdicts = classify_range_changes(
        [(c.sha, c.parents) for c in commits],
        seen.own,
        seen.brought,
        classification.classify,
        report,
        classification.hooks,
        # each chunk's blobs are read where it is judged, on every core (decision 0021)
        lambda own: attach_sources(git, own, classification.wants_source),
    )
    info = {"base": base, "head": head, "head_tree": read_commit(git, head).tree}
    source = loaded.source if loaded else "builtin:identity (no policy at base)"
    return Classified(info, source, classification.ruleset_digest, verdicts)


def commit_verdict(
    git: Git, base: str, sha: str, loaded: LoadedPolicy | None
) -> CommitClassification:
    """``sha``'s verdict exactly as the gate reaches it over ``base..sha`` (THREATS.md G57).

    The whole range is read as the gate reads it: sources, symlink aliases, and for a merge
    what it brings into the mainline. ``stamp`` records a cheaper verdict; an approver must
    see this one.
    """
    found = _classify(git, f"{base}..{sha}", loaded, None).commits
    return next(c for c in found if c.commit == sha)


def classify_commits(
    git: Git, shas: Sequence[str], loaded: LoadedPolicy | None
) -> dict[str, CommitClassification]:
    """Each commit classified alone, against its parents, as a range of one would be."""
    return classify_alone(git, shas, loaded.policy.identity if loaded else None)


def classify_range(
    repo: Path, spec: str, policy_file: Path | None = None, progress: Progress | None = None
) -> Classified:
    """Which commits of ``spec`` the gate would demand attestations for, and why."""
    git = Git.discover(repo)
    check_repository_safe(git)  # before any object is read
    parsed = parse_range(spec)
    base_rev = parsed[0] if parsed else spec
    loaded = _policy_for_rules(git, policy_file, resolve_commit(git, base_rev))
    return _classify(git, spec, loaded, progress)


def with_trust(report: Report, trust: TrustContext) -> Report:
    """The report, naming the trusted root that decided (text, JSON, SARIF and VSA show it)."""
    return replace(report, trusted_root=trust.description())


def verify_range(
    repo: Path,
    spec: str,
    options: VerifyOptions,
    progress: Progress | None = None,
    *,
    store: AttestationStore | None = None,
) -> Report:
    """The release gate: classify with BASE's rules, then verify what they require.

    Attestations come from the policy's notes ref, or from ``store`` (an evidence pack).
    """
    git = Git.discover(repo)
    check_repository_safe(git)  # before any object is read
    loaded = resolve_policy(git, options.policy, resolve_commit(git, range_ends(spec)[0]))
    return gate_range(git, spec, loaded, options, progress, store=store)


def gate_range(
    git: Git,
    spec: str,
    loaded: LoadedPolicy,
    options: VerifyOptions,
    progress: Progress | None = None,
    *,
    store: AttestationStore | None = None,
) -> Report:
    """:func:`verify_range` with the policy (and revocations) already chosen by the caller."""
    from provenance.store import NotesStore
    from provenance.verify.gate import Target, gate
    from provenance.verify.report import RangeInfo

    trust = options.trust(loaded)
    classified = _classify(git, spec, loaded, progress)
    store = store if store is not None else NotesStore.of_policy(git, loaded.policy)
    report = (lambda n, t: progress("verified", n, t)) if progress else None
    target = Target(
        tuple(classified.commits),
        "--policy" if options.policy is not None else "BASE",
        RangeInfo(**classified.range_info),
    )
    return with_trust(gate(git, target, trust, store, progress=report), trust)


def verify(repo: Path, revisions: list[str], options: VerifyOptions) -> Report:
    """The gate over named commits, each a range of one (classified against its parents).

    The policy is HEAD's committed one, or ``--policy``: a commit has no BASE to take it
    from, and the report says who chose it. ``offline`` here means: a pinned root is required
    and nothing is fetched; the CLI also calls ``forbid_network``.
    """
    from provenance.store import NotesStore
    from provenance.verify.gate import Target, gate

    if not revisions:
        raise UsageError("name at least one commit to verify")
    git = Git.discover(repo)
    check_repository_safe(git)  # before any object is read
    shas = [resolve_commit(git, rev) for rev in revisions]
    loaded = resolve_policy(git, options.policy, resolve_commit(git, "HEAD"))
    trust = options.trust(loaded)
    classified = classify_commits(git, shas, loaded)
    chosen_by = "--policy" if options.policy is not None else "HEAD"
    target = Target(tuple(classified[sha] for sha in shas), chosen_by, show_all=True)
    store = NotesStore.of_policy(git, loaded.policy)
    return with_trust(gate(git, target, trust, store), trust)

"""The release gate and ``classify`` over ``BASE..HEAD``: policy from BASE, never the candidate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from provenance.app.policy_source import load_policy_at, resolve_policy
from provenance.classify.classified import CommitClassification, classify_range_changes
from provenance.classify.configured import classification_for
from provenance.errors import UsageError
from provenance.gitio import Git, check_repository_safe, read_commit, resolve_commit
from provenance.gitio.walk import parse_range, read_range, walk_range
from provenance.policy import LoadedPolicy

if TYPE_CHECKING:  # the verifier (and sigstore) load only when verifying, not to classify
    from provenance.app.verify import VerifyOptions
    from provenance.store import AttestationStore
    from provenance.verify.report import Report

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


def _classify(
    git: Git, spec: str, loaded: LoadedPolicy | None, progress: Progress | None
) -> Classified:
    parsed = parse_range(spec)
    if parsed is None:
        raise UsageError(f"{spec!r} is not a range", hint="give BASE..HEAD")
    base, head, commits = walk_range(git, *parsed)  # callers checked the repository first
    classification = classification_for(loaded.policy.identity if loaded else None)
    seen = read_range(
        git,
        commits,
        ends=(base, head),
        want=classification.wants_source,
        prefer=classification.identity_path,
    )
    report = (lambda n, t: progress("classified", n, t)) if progress else None
    verdicts = classify_range_changes(
        [(c.sha, c.parents) for c in commits],
        seen.own,
        seen.brought,
        classification.classify,
        report,
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
    from provenance.app.verify import trust_description, verifier_factory, with_trust
    from provenance.store import NotesStore
    from provenance.verify.gate import trust_context
    from provenance.verify.range_gate import gate

    git = Git.discover(repo)
    check_repository_safe(git)  # before any object is read
    parsed = parse_range(spec)
    if parsed is None:
        raise UsageError(f"{spec!r} is not a range", hint="give BASE..HEAD")
    loaded = resolve_policy(git, options.policy, resolve_commit(git, parsed[0]))
    trust = trust_context(loaded, verifier_factory(options))
    classified = _classify(git, spec, loaded, progress)
    store = store if store is not None else NotesStore(git, loaded.policy.notes_ref)
    report = (lambda n, t: progress("verified", n, t)) if progress else None
    decided = gate(
        git, classified.commits, trust, store, range_info=classified.range_info, progress=report
    )
    return with_trust(decided, trust_description(options, trust))

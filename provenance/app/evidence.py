"""Evidence packs: export a range's attestations with the policy and trusted root they need,
and run the release gate later from the pack and the repository's objects alone.

The pack's policy must be byte-identical to the policy the gate reads from BASE (checked by
digest), so a pack cannot bring its own, weaker rules. Its trusted root is used as given; an
auditor who holds a known root passes ``--trusted-root`` and the pack's must equal it.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from provenance.app.gate import Progress, verify_range
from provenance.app.options import VerifyOptions
from provenance.app.policy_source import resolve_policy
from provenance.audit.models import parse_when_claimed as iso_time
from provenance.errors import ConfigError, StoreError, UsageError
from provenance.gitio import Git, check_repository_safe, read_commit, resolve_commit
from provenance.gitio.objects import blob_at
from provenance.gitio.walk import parse_range, walk_range
from provenance.policy import POLICY_PATH, LoadedPolicy
from provenance.reasons import Reason
from provenance.store import NotesStore
from provenance.store.directory import DirectoryStore, PackError
from provenance.verify.report import Report

POLICY_FILE = "policy.toml"
TRUSTED_ROOT_FILE = "trusted_root.json"


def _sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def root_validity(document: bytes) -> dict[str, Any]:
    """Oldest and newest ``validFor.start`` and the expired keys of a trusted root."""
    try:
        root = json.loads(document)
    except ValueError as e:
        raise PackError(
            Reason.EVIDENCE_MANIFEST_INVALID, f"the trusted root is not JSON: {e}"
        ) from e
    starts: list[datetime] = []
    ended = 0
    now = datetime.now(UTC)
    for group in ("tlogs", "ctlogs", "certificateAuthorities", "timestampAuthorities"):
        for entry in root.get(group, []) if isinstance(root, dict) else []:
            valid = entry.get("validFor") or entry.get("publicKey", {}).get("validFor") or {}
            start, end = (
                iso_time(valid.get("start")),
                iso_time(valid.get("end")),
            )
            if start is not None:
                starts.append(start)
            if end is not None and end < now:
                ended += 1
    return {
        "oldest_key_since": min(starts).isoformat() if starts else None,
        "newest_key_since": max(starts).isoformat() if starts else None,
        "expired_keys": ended,
    }


def _policy_bytes(git: Git, options: VerifyOptions, base: str, loaded: LoadedPolicy) -> bytes:
    if options.policy is not None:
        raw = options.policy.read_bytes()
    else:
        raw = blob_at(git, base, POLICY_PATH) or b""
    if _sha256(raw) != loaded.digest:
        raise ConfigError("the policy changed while it was being exported; run export again")
    return raw


@dataclass(frozen=True)
class Exported:
    """What ``export`` wrote."""

    out: Path
    base: str
    head: str
    commits: int
    attested_commits: int
    lines: int
    manifest: dict[str, Any]


def export_pack(repo: Path, spec: str, out: Path, options: VerifyOptions) -> Exported:
    """Write ``spec``'s attestations, BASE's policy and the trusted root to a new pack."""
    git = Git.discover(repo)
    check_repository_safe(git)  # before any object is read
    parsed = parse_range(spec)
    if parsed is None:
        raise UsageError(f"{spec!r} is not a range", hint="give BASE..HEAD")
    base, head, commits = walk_range(git, *parsed)
    loaded = resolve_policy(git, options.policy, base)
    root = options.trust_source().document()
    if root is None:
        raise UsageError(
            "export needs the trusted root to put in the pack",
            hint="pass --trusted-root FILE or --trust-config FILE",
        )
    notes = NotesStore.of_policy(git, loaded.policy)
    if not notes.available():
        raise StoreError(
            f"{loaded.policy.notes_ref} does not exist: there is nothing to export",
            hint=f"git fetch origin '{loaded.policy.notes_ref}:{loaded.policy.notes_ref}'",
        )
    lines: dict[str, Sequence[bytes]] = {
        sha: ls for sha, ls in notes.read_many([c.sha for c in commits]).items() if ls
    }
    pack = DirectoryStore.create(out)
    pack.add_many(lines)
    policy_digest = pack.write_file(POLICY_FILE, _policy_bytes(git, options, base, loaded))
    root_digest = pack.write_file(TRUSTED_ROOT_FILE, root)
    manifest = pack.seal(
        {
            "range": {
                "spec": spec,
                "base": base,
                "head": head,
                "head_tree": read_commit(git, head).tree,
                "commits": len(commits),
            },
            "notes_ref": loaded.policy.notes_ref,
            "policy": {"file": POLICY_FILE, "digest": policy_digest, "source": loaded.source},
            "trusted_root": {
                "file": TRUSTED_ROOT_FILE,
                "digest": root_digest,
                "source": str(options.trusted_root or options.trust_config),
                **root_validity(root),
            },
        }
    )
    return Exported(
        out, base, head, len(commits), len(lines), sum(map(len, lines.values())), manifest
    )


def _entry(manifest: dict[str, Any], key: str, expected_file: str) -> dict[str, Any]:
    entry = manifest.get(key)
    files = manifest["files"]
    if (
        not isinstance(entry, dict)
        or entry.get("file") != expected_file
        or entry.get("digest") != files.get(expected_file)
    ):
        raise PackError(
            Reason.EVIDENCE_MANIFEST_INVALID, f"the manifest's {key} entry does not match its files"
        )
    return entry


def _json_value(document: bytes) -> object:
    """A trusted root as a JSON value (so serialisation differences do not matter)."""
    try:
        return json.loads(document)
    except ValueError as e:
        raise PackError(Reason.EVIDENCE_MANIFEST_INVALID, f"a trusted root is not JSON: {e}") from e


def _age_days(since: str | None, now: datetime) -> float | None:
    when = iso_time(since)
    return round((now - when).total_seconds() / 86400, 1) if when is not None else None


def verify_evidence(
    repo: Path,
    spec: str,
    pack_dir: Path,
    options: VerifyOptions,
    progress: Progress | None = None,
) -> Report:
    """The release gate over ``spec`` from the pack and the repository's objects, offline.

    The pack cannot vouch for itself: its manifest is unsigned, so a forger could ship their
    own Sigstore root with attestations signed under it. The auditor pins the root they trust
    (``--trusted-root`` or ``--trust-config``); it must be the pack's root, and verification
    uses the auditor's copy. The policy in force is the one committed at BASE, never the pack's.
    """
    if options.policy is not None:
        raise UsageError(
            "--evidence decides with the policy committed at BASE; --policy cannot replace it",
            hint="drop --policy (the pack's policy must be BASE's)",
        )
    pack = DirectoryStore.open(pack_dir)
    manifest = pack.manifest
    policy_entry = _entry(manifest, "policy", POLICY_FILE)
    root_entry = _entry(manifest, "trusted_root", TRUSTED_ROOT_FILE)
    pinned_root = options.trust_source().document()
    if pinned_root is None:
        raise PackError(
            Reason.EVIDENCE_TRUSTED_ROOT_UNPINNED,
            "no trusted root is pinned: a pack's own root proves nothing",
            hint="pass --trusted-root FILE or --trust-config FILE with the root you trust",
        )
    git = Git.discover(repo)
    check_repository_safe(git)  # before any object is read
    parsed = parse_range(spec)
    if parsed is None:
        raise UsageError(f"{spec!r} is not a range", hint="give BASE..HEAD")
    loaded = resolve_policy(git, None, resolve_commit(git, parsed[0]))
    if loaded.digest != policy_entry["digest"]:
        raise PackError(
            Reason.EVIDENCE_POLICY_MISMATCH,
            f"the pack's policy ({policy_entry['digest']}) is not the policy in force "
            f"({loaded.source}, {loaded.digest})",
            hint="verify against the BASE the pack was exported for",
        )
    root = pack.read_file(TRUSTED_ROOT_FILE)
    if _json_value(pinned_root) != _json_value(root):
        raise PackError(
            Reason.EVIDENCE_TRUSTED_ROOT_MISMATCH,
            "the pack's trusted root is not the one pinned "
            f"({options.trusted_root or options.trust_config})",
            hint="the pack was verified against another root; do not trust it blindly",
        )
    now = datetime.now(UTC)
    validity = root_validity(root)
    with tempfile.TemporaryDirectory(prefix="provenance-evidence-") as tmp:
        pinned = Path(tmp) / TRUSTED_ROOT_FILE
        pinned.write_bytes(pinned_root)  # the auditor's root, never the pack's bytes
        pack_options = replace(options, trusted_root=pinned, trust_config=None, offline=True)
        report = verify_range(repo, spec, pack_options, progress, store=pack)
    evidence = {
        "pack": str(pack_dir),
        "created_at": manifest.get("created_at"),
        "range": manifest.get("range"),
        "policy_digest": policy_entry["digest"],
        "trusted_root": {
            "digest": root_entry["digest"],
            "captured_at": manifest.get("created_at"),
            "age_days": _age_days(manifest.get("created_at"), now),
            **validity,
            "newest_key_age_days": _age_days(validity["newest_key_since"], now),
        },
    }
    trust = options.trust_source(via="evidence pack").description()
    return replace(report, evidence=evidence, trusted_root=trust)

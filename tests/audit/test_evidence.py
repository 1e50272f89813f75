"""Evidence packs: the gate from a pack gives the online verdict; a tampered pack is refused."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provenance.app.evidence import Exported, export_pack, verify_evidence
from provenance.app.gate import verify_range
from provenance.app.options import VerifyOptions
from provenance.errors import UsageError
from provenance.reasons import Reason
from provenance.store import PackError
from provenance.verify.report import Report
from tests.audit.conftest import World
from tests.helpers import check_document

Tamper = Callable[[Path, World], object]


@pytest.fixture(scope="module")
def exported(world: World, tmp_path_factory: pytest.TempPathFactory) -> Exported:
    out = tmp_path_factory.mktemp("packs") / "pack"
    return export_pack(world.repo.path, world.spec, out, world.options())


def _verdicts(report: Report) -> list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
    return [(c.commit, c.status, c.reasons, c.approvers) for c in report.commits]


def test_export_writes_what_the_gate_needs(world: World, exported: Exported) -> None:
    m = check_document("evidence-manifest", exported.manifest)
    assert (exported.base, exported.head) == (world.base, world.docs)
    assert (exported.commits, exported.attested_commits, exported.lines) == (3, 2, 5)
    assert set(m["files"]) == {
        f"attestations/{world.sso}.jsonl",
        f"attestations/{world.scim}.jsonl",
        "policy.toml",
        "trusted_root.json",
    }
    committed = (world.repo.path / ".provenance/policy.toml").read_bytes()
    assert (exported.out / "policy.toml").read_bytes() == committed
    assert m["policy"]["digest"] == "sha256:" + hashlib.sha256(committed).hexdigest()
    root = world.inst.trusted_root_path.read_bytes()
    assert m["trusted_root"]["digest"] == "sha256:" + hashlib.sha256(root).hexdigest()
    assert m["trusted_root"]["newest_key_since"] and m["range"]["head_tree"]
    for rel, digest in m["files"].items():
        assert digest == "sha256:" + hashlib.sha256((exported.out / rel).read_bytes()).hexdigest()


def test_the_pack_gives_the_online_verdict_and_states_the_roots_age(
    world: World, exported: Exported
) -> None:
    online = verify_range(world.repo.path, world.spec, world.options())
    offline = verify_evidence(world.repo.path, world.spec, exported.out, world.options())
    assert _verdicts(offline) == _verdicts(online)
    assert offline.result == online.result == "refused"  # scim still waits for an approval
    by_commit = {c.commit: c for c in offline.commits}
    assert by_commit[world.sso].status == "ok" and by_commit[world.sso].approvers == ("bob",)
    assert by_commit[world.scim].reasons == ("approval_missing",)
    assert by_commit[world.docs].status == "not-required"
    root = offline.extra["evidence"]["trusted_root"]
    assert root["digest"] == exported.manifest["trusted_root"]["digest"]
    assert root["age_days"] == 0.0 and root["newest_key_age_days"] is not None
    assert root["expired_keys"] == 0
    # THREATS.md G51: the verdict names the root that decided, pinned for the pack
    pinned = world.options().trusted_root
    assert offline.extra["trusted_root"] == {
        "source": "evidence pack, pinned by --trusted-root",
        "path": str(pinned),
        "digest": root["digest"],
    }
    # A trust config pins the same root (serialised differently): same verdict.
    by_config = VerifyOptions(trust_config=world.inst.trust_config_path, offline=True)
    assert _verdicts(verify_evidence(world.repo.path, world.spec, exported.out, by_config)) == (
        _verdicts(online)
    )


def test_an_unpinned_pack_proves_nothing(world: World, exported: Exported) -> None:
    # The manifest is unsigned: a forger could ship their own root with attestations signed
    # under it, so the pack's root is never trusted on its own.
    with pytest.raises(PackError) as e:
        verify_evidence(world.repo.path, world.spec, exported.out, VerifyOptions(offline=True))
    assert e.value.reason == Reason.EVIDENCE_TRUSTED_ROOT_UNPINNED
    assert e.value.exit_code == 1


def test_the_policy_comes_from_base_never_from_a_flag(world: World, exported: Exported) -> None:
    policy = world.repo.path / ".provenance" / "policy.toml"
    options = VerifyOptions(policy=policy, trusted_root=world.inst.trusted_root_path)
    with pytest.raises(UsageError, match="policy committed at BASE"):
        verify_evidence(world.repo.path, world.spec, exported.out, options)


def _rewrite_manifest(pack: Path, edit: Callable[[dict[str, Any]], object]) -> None:
    path = pack / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))


def _flip(pack: Path, rel: str) -> None:
    data = bytearray((pack / rel).read_bytes())
    data[len(data) // 2] ^= 1
    (pack / rel).write_bytes(bytes(data))


def _consistent_policy(pack: Path, world: World) -> None:
    """A weaker policy, with the manifest rewritten to match it (a careful forger)."""
    weaker = (pack / "policy.toml").read_text().replace("required = 1", "required = 0")
    (pack / "policy.toml").write_text(weaker)
    digest = "sha256:" + hashlib.sha256(weaker.encode()).hexdigest()

    def edit(m: dict[str, Any]) -> None:
        m["files"]["policy.toml"] = digest
        m["policy"]["digest"] = digest

    _rewrite_manifest(pack, edit)


def _line_swapped(pack: Path, world: World) -> None:
    """The scim note's lines copied onto sso (digests fixed): the signatures refuse it."""
    scim = (pack / f"attestations/{world.scim}.jsonl").read_bytes()
    (pack / f"attestations/{world.sso}.jsonl").write_bytes(scim)
    digest = "sha256:" + hashlib.sha256(scim).hexdigest()
    _rewrite_manifest(
        pack, lambda m: m["files"].update({f"attestations/{world.sso}.jsonl": digest})
    )


def _manifest(edit: Callable[[dict[str, Any]], object]) -> Tamper:
    return lambda pack, _world: _rewrite_manifest(pack, edit)


def _unlink(rel: Callable[[World], str]) -> Tamper:
    return lambda pack, world: (pack / rel(world)).unlink()


def _create(rel: Callable[[World], str]) -> Tamper:
    return lambda pack, world: (pack / rel(world)).write_text("{}\n")


def _flipped(rel: Callable[[World], str]) -> Tamper:
    return lambda pack, world: _flip(pack, rel(world))


ZERO = "sha256:" + "0" * 64
DIGEST, MISSING, EXTRA = (
    Reason.EVIDENCE_DIGEST_MISMATCH,
    Reason.EVIDENCE_FILE_MISSING,
    Reason.EVIDENCE_FILE_EXTRA,
)
TAMPERING: dict[str, tuple[Tamper, str]] = {
    "attestation-byte": (_flipped(lambda w: f"attestations/{w.sso}.jsonl"), DIGEST),
    "policy-byte": (_flipped(lambda w: "policy.toml"), DIGEST),
    "root-byte": (_flipped(lambda w: "trusted_root.json"), DIGEST),
    "manifest-digest": (_manifest(lambda m: m["files"].update({"policy.toml": ZERO})), DIGEST),
    "manifest-format": (
        _manifest(lambda m: m.update(format="x")),
        Reason.EVIDENCE_MANIFEST_INVALID,
    ),
    "manifest-policy": (
        _manifest(lambda m: m["policy"].update(digest=ZERO)),
        Reason.EVIDENCE_MANIFEST_INVALID,
    ),
    "attestation-missing": (_unlink(lambda w: f"attestations/{w.scim}.jsonl"), MISSING),
    "root-missing": (_unlink(lambda w: "trusted_root.json"), MISSING),
    "manifest-missing": (_unlink(lambda w: "manifest.json"), MISSING),
    "extra-file": (_create(lambda w: "README"), EXTRA),
    "extra-attestation": (_create(lambda w: f"attestations/{w.docs}.jsonl"), EXTRA),
    "weaker-policy": (_consistent_policy, Reason.EVIDENCE_POLICY_MISMATCH),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_any_tampered_missing_or_extra_file_is_refused(
    world: World, exported: Exported, tmp_path: Path, case: str
) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(exported.out, pack)
    tamper, reason = TAMPERING[case]
    tamper(pack, world)
    with pytest.raises(PackError) as e:
        verify_evidence(world.repo.path, world.spec, pack, world.options())
    assert e.value.reason == reason
    assert e.value.exit_code == 1


def test_lines_moved_between_commits_with_fixed_digests_are_refused_by_signatures(
    world: World, exported: Exported, tmp_path: Path
) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(exported.out, pack)
    _line_swapped(pack, world)
    report = verify_evidence(world.repo.path, world.spec, pack, world.options())
    sso = next(c for c in report.commits if c.commit == world.sso)
    assert sso.status == "refused" and "subject_mismatch" in sso.reasons


def test_a_pinned_root_must_be_the_packs_root(
    world: World, exported: Exported, tmp_path: Path
) -> None:
    other = tmp_path / "other_root.json"
    other.write_text(json.dumps({**json.loads(world.inst.trusted_root_path.read_text()), "x": 1}))
    with pytest.raises(PackError) as e:
        verify_evidence(
            world.repo.path, world.spec, exported.out, VerifyOptions(trusted_root=other)
        )
    assert e.value.reason == Reason.EVIDENCE_TRUSTED_ROOT_MISMATCH


def test_export_refuses_to_overwrite_and_needs_a_pinned_root(
    world: World, exported: Exported, tmp_path: Path
) -> None:
    with pytest.raises(Exception, match="not an empty directory"):
        export_pack(world.repo.path, world.spec, exported.out, world.options())
    with pytest.raises(UsageError):
        export_pack(world.repo.path, world.spec, tmp_path / "p", VerifyOptions())

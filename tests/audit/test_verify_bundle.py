"""``verify-bundle`` on every public bundle of the interop manifest, and on our own bundles."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from provenance.app.verify_bundle import artifact_digests, verify_bundle
from provenance.errors import UsageError
from provenance.gitio import Git, read_commit
from tests.audit.conftest import World
from tests.conftest import AGENT_ID
from tests.helpers import INTEROP, interop_cases


def _subject(bundle: Path) -> str:
    """The first subject digest, read without verification (what the artifact must hash to)."""
    envelope = json.loads(bundle.read_text())["dsseEnvelope"]
    digest: dict[str, str] = json.loads(base64.b64decode(envelope["payload"]))["subject"][0][
        "digest"
    ]
    alg = "sha256" if "sha256" in digest else "sha512"
    return f"{alg}:{digest[alg]}"


interop = pytest.mark.skipif(
    not INTEROP.exists(), reason=f"{INTEROP} is absent (a clone outside the workspace)"
)


@interop
@pytest.mark.parametrize("case", interop_cases(), ids=lambda c: str(c["file"])[:48])
def test_every_manifest_case_gives_the_expected_result(case: dict[str, Any]) -> None:
    bundle = INTEROP / "bundles" / case["file"]
    root = INTEROP / f"trusted_root.{case['instance']}.json"
    check = verify_bundle(
        bundle,
        _subject(bundle),
        identity=case["identity"],
        issuer=case["issuer"],
        trusted_root=root,
        offline=True,
    )
    assert check.result.ok is (case["expect"] == "ok"), check.result.reasons
    if not check.result.ok:
        assert check.result.reasons[0] in {"tlog_mismatch", "signature_invalid"}
        return
    assert check.result.predicate_type == case["predicate_type"]
    alg = _subject(bundle).split(":")[0]
    wrong = f"{alg}:" + "0" * (64 if alg == "sha256" else 128)
    refused = verify_bundle(
        bundle, wrong, identity=case["identity"], issuer=case["issuer"], trusted_root=root
    )
    assert refused.result.reasons == ("subject_mismatch",)
    other = verify_bundle(
        bundle,
        _subject(bundle),
        identity=case["identity"],
        issuer=case["issuer"] + "/evil",
        trusted_root=root,
    )
    assert other.result.reasons == ("signer_not_allowed",)


def test_a_file_artifact_binds_by_its_digest(world: World, tmp_path: Path) -> None:
    """Our own bundles: the subject is the sha256 of the framed commit object."""
    commit = read_commit(Git.discover(world.repo.path), world.sso)
    framed = tmp_path / "commit.obj"
    framed.write_bytes(b"commit %d\x00" % len(commit.raw) + commit.raw)
    note = world.repo.git("notes", "--ref=refs/notes/provenance", "show", world.sso)
    bundle = tmp_path / "sso.sigstore.json"
    bundle.write_text(note.splitlines()[0])
    kwargs: dict[str, Any] = {
        "identity": AGENT_ID,
        "issuer": world.inst.default_issuer,
        "trusted_root": world.inst.trusted_root_path,
        "offline": True,
    }
    ok = verify_bundle(bundle, str(framed), **kwargs)
    assert ok.result.ok and ok.digest == f"sha256:{commit.digest}"
    assert ok.result.signer == AGENT_ID
    assert verify_bundle(bundle, f"sha256:{commit.digest}", **kwargs).result.ok
    other = tmp_path / "other.obj"
    other.write_bytes(b"not the commit")
    assert verify_bundle(bundle, str(other), **kwargs).result.reasons == ("subject_mismatch",)
    with pytest.raises(UsageError):
        verify_bundle(bundle, "sha256:ABC", **kwargs)
    # offline without a root: Sigstore's public-good root, which never trusts the devinstance
    public = verify_bundle(bundle, str(framed), **{**kwargs, "trusted_root": None})
    assert public.result.reasons == ("certificate_chain_invalid",)
    assert "embedded in sigstore-python" in public.root.source
    assert set(artifact_digests(str(framed))) == {"sha256", "sha512"}

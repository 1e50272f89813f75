"""``verify-bundle`` as a full conformance client: message signatures, managed keys, shipped roots.

Each capability is checked on bundles made here (sigstore-python signing against the local
instance, key bundles logged in its Rekor) and, for the shipped roots, on the public bundles
of ``../shared/interop``. Refusals are asserted by reason code (THREATS.md section C).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from rfc3161_client import decode_timestamp_response

from provenance.app.verify_bundle import BundleCheck, verify_bundle
from provenance.devinstance import DevInstance
from provenance.errors import TrustError, UsageError
from provenance.verify.generic import verify_dsse_bundle
from tests.audit._bundles import (
    SIGNER,
    intoto_bundle,
    key_dsse_bundle,
    key_message_bundle,
    pem,
    sign_message,
    statement_for,
    write,
)
from tests.helpers import INTEROP, interop_cases

ARTIFACT = b"release 1.2.3\n"


def _sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    path = tmp_path / "release.tar.gz"
    path.write_bytes(ARTIFACT)
    return path


def _by_identity(inst: DevInstance, bundle: Path, artifact: str, **kw: Any) -> BundleCheck:
    options: dict[str, Any] = {
        "identity": SIGNER,
        "issuer": inst.default_issuer,
        "trusted_root": inst.trusted_root_path,
        "offline": True,
    }
    return verify_bundle(bundle, artifact, **{**options, **kw})


@pytest.mark.parametrize("rekor", ["v1", "v2"])
def test_message_signature_by_path_and_by_digest(
    rekor: str, dev: DevInstance, dev_v2: DevInstance, artifact: Path, tmp_path: Path
) -> None:
    """A non-DSSE bundle from sigstore-python's ``sign_artifact`` (hashedrekord 0.0.1 / 0.0.2)."""
    inst = dev if rekor == "v1" else dev_v2
    bundle = write(tmp_path / "b.json", sign_message(inst, ARTIFACT))
    for given in (str(artifact), _sha256(ARTIFACT)):
        check = _by_identity(inst, bundle, given)
        assert check.result.ok, check.result.reasons
        assert check.result.signer == SIGNER
        assert check.result.statement_type is None
        assert check.root.source == f"--trusted-root {inst.trusted_root_path}"


def test_message_signature_refusals(
    dev: DevInstance, dev_v2: DevInstance, artifact: Path, tmp_path: Path
) -> None:
    """THREATS.md C: another artifact, signer or instance is refused with its reason code."""
    text = sign_message(dev, ARTIFACT)
    bundle = write(tmp_path / "b.json", text)
    other = _sha256(b"release 1.2.4\n")
    assert _by_identity(dev, bundle, other).result.reasons == ("subject_mismatch",)
    wrong = _by_identity(dev, bundle, str(artifact), identity="mallory@example.com")
    assert wrong.result.reasons == ("signer_not_allowed",)
    issuer = _by_identity(dev, bundle, str(artifact), issuer=dev.default_issuer + "/evil")
    assert issuer.result.reasons == ("signer_not_allowed",)
    elsewhere = _by_identity(dev, bundle, str(artifact), trusted_root=dev_v2.trusted_root_path)
    assert elsewhere.result.reasons == ("certificate_chain_invalid",)
    sha512 = "sha512:" + hashlib.sha512(ARTIFACT).hexdigest()
    assert _by_identity(dev, bundle, sha512).result.reasons == ("subject_digest_unsupported",)

    doc = json.loads(text)
    del doc["messageSignature"]["messageDigest"]  # nothing names the digest but the signature
    bare = write(tmp_path / "bare.json", doc)
    assert _by_identity(dev, bare, str(artifact)).result.ok
    assert _by_identity(dev, bare, other).result.reasons == ("signature_invalid",)
    signature = bytearray(base64.b64decode(doc["messageSignature"]["signature"]))
    signature[-1] ^= 1
    doc["messageSignature"]["signature"] = base64.b64encode(bytes(signature)).decode()
    flipped = write(tmp_path / "flipped.json", doc)
    assert _by_identity(dev, flipped, str(artifact)).result.reasons == ("signature_invalid",)


def test_message_bundle_shape_is_strict(dev: DevInstance, artifact: Path, tmp_path: Path) -> None:
    """THREATS.md A: duplicate keys, extra fields and lax base64 never reach sigstore."""
    text = sign_message(dev, ARTIFACT)
    doc = json.loads(text)
    signature = doc["messageSignature"]["signature"]
    cases = {
        "duplicate_json_key": text.replace(
            '"messageSignature":', '"x": 1, "x": 2, "messageSignature":'
        ),
        "unexpected_field": json.dumps({**doc, "extra": 1}),
        "base64_invalid": text.replace(signature, signature[:-4] + " " + signature[-4:]),
        "bundle_invalid": json.dumps({**doc, "messageSignature": {"signature": signature, "k": 1}}),
        "too_large": json.dumps({**doc, "pad": "x" * (4 << 20)}),
    }
    for reason, bad in cases.items():
        check = _by_identity(dev, write(tmp_path / f"{reason}.json", bad), str(artifact))
        assert check.result.reasons == (reason,), reason


@pytest.mark.parametrize("rekor", ["v1", "v2"])
def test_managed_key_message_bundle(
    rekor: str, dev: DevInstance, dev_v2: DevInstance, artifact: Path, tmp_path: Path
) -> None:
    """``--key``: a bundle whose verification material is a public-key hint."""
    dev = dev if rekor == "v1" else dev_v2
    key, stranger = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "key.pub").write_bytes(pem(key))
    (tmp_path / "stranger.pub").write_bytes(pem(stranger))
    doc = key_message_bundle(dev, key, ARTIFACT)
    bundle = write(tmp_path / "k.json", doc)

    def check(path: Path, given: str, key_file: str = "key.pub") -> tuple[str, ...]:
        return verify_bundle(
            path, given, key=tmp_path / key_file,
            trusted_root=dev.trusted_root_path, offline=True,
        ).result.reasons  # fmt: skip

    for given in (str(artifact), _sha256(ARTIFACT)):
        assert check(bundle, given) == ()
    ok = verify_bundle(bundle, str(artifact), key=tmp_path / "key.pub", offline=True,
                       trusted_root=dev.trusted_root_path)  # fmt: skip
    assert ok.result.signer is not None and ok.result.signer.startswith("key sha256:")
    assert check(bundle, str(artifact), "stranger.pub") == ("signature_invalid",)
    assert check(bundle, _sha256(b"other")) == ("subject_mismatch",)
    by_identity = _by_identity(dev, bundle, str(artifact))
    assert by_identity.result.reasons == ("verification_material_mismatch",)

    # the stranger logged the same artifact: a valid entry, but for another key
    theirs = key_message_bundle(dev, stranger, ARTIFACT)
    swapped = json.loads(json.dumps(doc))
    swapped["verificationMaterial"]["tlogEntries"] = theirs["verificationMaterial"]["tlogEntries"]
    assert check(write(tmp_path / "swapped.json", swapped), str(artifact)) == ("tlog_mismatch",)

    broken = json.loads(json.dumps(doc))
    proof = broken["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    proof["rootHash"] = base64.b64encode(b"\x00" * 32).decode()
    assert check(write(tmp_path / "proof.json", broken), str(artifact)) == ("tlog_invalid",)

    untimed = json.loads(json.dumps(doc))
    del untimed["verificationMaterial"]["timestampVerificationData"]
    untimed["verificationMaterial"]["tlogEntries"][0].pop("inclusionPromise", None)
    assert check(write(tmp_path / "untimed.json", untimed), str(artifact)) == (
        "signed_time_missing",
    )


@pytest.mark.parametrize("rekor", ["v1", "v2"])
def test_managed_key_dsse_bundle(
    rekor: str, dev: DevInstance, dev_v2: DevInstance, artifact: Path, tmp_path: Path
) -> None:
    """A key-signed DSSE bundle (``dsse/0.0.1``, or ``hashedrekord/0.0.2`` on Rekor v2)."""
    dev = dev if rekor == "v1" else dev_v2
    key, stranger = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "key.pub").write_bytes(pem(key))
    (tmp_path / "stranger.pub").write_bytes(pem(stranger))
    bundle = write(tmp_path / "d.json", key_dsse_bundle(dev, key, statement_for(ARTIFACT)))

    def check(given: str, key_file: str = "key.pub") -> BundleCheck:
        return verify_bundle(
            bundle, given, key=tmp_path / key_file,
            trusted_root=dev.trusted_root_path, offline=True,
        )  # fmt: skip

    ok = check(str(artifact))
    assert ok.result.ok, ok.result.reasons
    assert ok.result.statement_type == "https://in-toto.io/Statement/v1"
    assert check(_sha256(ARTIFACT)).result.ok
    assert check(_sha256(b"other")).result.reasons == ("subject_mismatch",)
    assert check(str(artifact), "stranger.pub").result.reasons == ("signature_invalid",)


def test_key_and_identity_are_exclusive(dev: DevInstance, artifact: Path, tmp_path: Path) -> None:
    """A certificate bundle checked with --key is refused, not verified by its certificate."""
    bundle = write(tmp_path / "b.json", sign_message(dev, ARTIFACT))
    key_file = tmp_path / "key.pub"
    key_file.write_bytes(pem(ec.generate_private_key(ec.SECP256R1())))
    keyed = verify_bundle(
        bundle, str(artifact), key=key_file, trusted_root=dev.trusted_root_path, offline=True
    )
    assert keyed.result.reasons == ("verification_material_mismatch",)
    with pytest.raises(UsageError):
        _by_identity(dev, bundle, str(artifact), key=key_file)
    with pytest.raises(UsageError):
        verify_bundle(bundle, str(artifact), offline=True, trusted_root=dev.trusted_root_path)
    (tmp_path / "rsa.pub").write_text(
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    )
    with pytest.raises(UsageError):
        verify_bundle(bundle, str(artifact), key=tmp_path / "rsa.pub", offline=True)


def test_legacy_intoto_entries(
    dev: DevInstance, dev_v2: DevInstance, artifact: Path, tmp_path: Path
) -> None:
    """Rekor's ``intoto/0.0.2`` entries (sigstore-js 1.x, early npm provenance) verify in
    verify-bundle; THREATS.md C: the signature, the entry's content and the signer still bind,
    and the gate's own adapter still refuses the type (its trust surface did not grow)."""
    doc = intoto_bundle(dev, statement_for(ARTIFACT))
    bundle = write(tmp_path / "intoto.json", doc)
    for given in (str(artifact), _sha256(ARTIFACT)):
        check = _by_identity(dev, bundle, given)
        assert check.result.ok, check.result.reasons
        assert check.result.predicate_type == "https://example.com/test/v1"
    assert _by_identity(dev, bundle, _sha256(b"other")).result.reasons == ("subject_mismatch",)
    wrong = _by_identity(dev, bundle, str(artifact), identity="mallory@example.com")
    assert wrong.result.reasons == ("signer_not_allowed",)
    gate = verify_dsse_bundle(
        bundle.read_bytes(), identity=SIGNER, issuer=dev.default_issuer,
        trusted_root=dev.trusted_root_path,
    )  # fmt: skip
    assert not gate.ok

    other = intoto_bundle(dev, statement_for(b"another release\n"))  # same signer, logged too
    swapped = json.loads(json.dumps(doc))
    swapped["verificationMaterial"]["tlogEntries"] = other["verificationMaterial"]["tlogEntries"]
    swapped_check = _by_identity(dev, write(tmp_path / "swap.json", swapped), str(artifact))
    assert swapped_check.result.reasons == ("tlog_mismatch",)

    forged = json.loads(json.dumps(doc))
    sig = bytearray(base64.b64decode(forged["dsseEnvelope"]["signatures"][0]["sig"]))
    sig[-1] ^= 1
    forged["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    forged_check = _by_identity(dev, write(tmp_path / "forged.json", forged), str(artifact))
    assert forged_check.result.reasons == ("signature_invalid",)

    elsewhere = _by_identity(dev, bundle, str(artifact), trusted_root=dev_v2.trusted_root_path)
    assert elsewhere.result.reasons == ("certificate_chain_invalid",)


def _tsa_time_root(inst: DevInstance, bundle_text: str, tmp_path: Path, shift: timedelta) -> Path:
    """The instance's root, its TSA valid until the bundle's timestamp plus ``shift``."""
    tvd = json.loads(bundle_text)["verificationMaterial"]["timestampVerificationData"]
    token = base64.b64decode(tvd["rfc3161Timestamps"][0]["signedTimestamp"])
    gen_time = decode_timestamp_response(token).tst_info.gen_time + shift
    root = json.loads(inst.trusted_root_path.read_text())
    root["timestampAuthorities"][0]["validFor"]["end"] = gen_time.isoformat().replace("+00:00", "Z")
    path = tmp_path / f"root{shift.total_seconds()}.json"
    path.write_text(json.dumps(root))
    return path


def test_tsa_validity_end_is_inclusive(dev_v2: DevInstance, artifact: Path, tmp_path: Path) -> None:
    """protobuf-specs ``TimeRange`` is closed: a timestamp at its TSA's ``end`` is valid."""
    text = sign_message(dev_v2, ARTIFACT)  # Rekor v2: the TSA is the only signed time
    bundle = write(tmp_path / "b.json", text)
    at_end = _tsa_time_root(dev_v2, text, tmp_path, timedelta(0))
    assert _by_identity(dev_v2, bundle, str(artifact), trusted_root=at_end).result.ok
    before = _tsa_time_root(dev_v2, text, tmp_path, timedelta(seconds=-1))
    refused = _by_identity(dev_v2, bundle, str(artifact), trusted_root=before)
    assert refused.result.reasons == ("signed_time_missing",)


interop = pytest.mark.skipif(not INTEROP.exists(), reason=f"{INTEROP} is absent")


def _subject(bundle: Path) -> str:
    payload = json.loads(bundle.read_text())["dsseEnvelope"]["payload"]
    digest = json.loads(base64.b64decode(payload))["subject"][0]["digest"]
    alg = "sha256" if "sha256" in digest else "sha512"
    return f"{alg}:{digest[alg]}"


@interop
@pytest.mark.parametrize("instance", ["production", "staging"])
def test_offline_without_a_root_uses_the_root_sigstore_ships(instance: str) -> None:
    """``--offline`` alone: the public-good root inside sigstore-python, no TUF, no cache."""
    cases = [c for c in interop_cases() if c["instance"] == instance and c["expect"] == "ok"]
    assert cases
    shipped = INTEROP / f"trusted_root.{instance}.json"  # copied from the sigstore wheel
    for case in cases:
        bundle = INTEROP / "bundles" / case["file"]
        check = verify_bundle(
            bundle, _subject(bundle), identity=case["identity"], issuer=case["issuer"],
            staging=instance == "staging", offline=True,
        )  # fmt: skip
        assert check.result.ok, (case["file"], check.result.reasons)
        assert "embedded in sigstore-python" in check.root.source
        assert check.root.digest == _sha256(shipped.read_bytes())
        other = verify_bundle(
            bundle, _subject(bundle), identity=case["identity"], issuer=case["issuer"],
            staging=instance != "staging", offline=True,
        )  # fmt: skip
        assert not other.result.ok


def test_a_trust_config_given_as_a_trusted_root_says_so(dev: DevInstance, artifact: Path) -> None:
    """Exit 3 with a hint naming --trust-config, not a validation dump."""
    bundle = dev.trusted_root_path  # any readable file: the root fails first
    with pytest.raises(TrustError) as caught:
        verify_bundle(
            bundle, str(artifact), identity=SIGNER, issuer=dev.default_issuer,
            trusted_root=dev.trust_config_path, offline=True,
        )  # fmt: skip
    assert caught.value.hint is not None and "--trust-config" in caught.value.hint
    assert "\n" not in str(caught.value)
    via_config = verify_bundle(
        write(Path(str(artifact) + ".sigstore.json"), sign_message(dev, ARTIFACT)),
        str(artifact), identity=SIGNER, issuer=dev.default_issuer,
        trust_config=dev.trust_config_path, offline=True,
    )  # fmt: skip
    assert via_config.result.ok
    assert via_config.root.source.startswith("the trustedRoot of trust config")


@interop
def test_a_broken_log_proof_is_a_log_refusal_whatever_its_checkpoint_says(tmp_path: Path) -> None:
    """THREATS.md C: the reason for a bad inclusion proof is ``tlog_invalid``, even though
    sigstore's message quotes the checkpoint, whose text ("Timestamp: ...") is the log's."""
    case = next(
        c for c in interop_cases() if c["file"] == "sigstore-js_bundleV03-dsse.sigstore.json"
    )
    doc = json.loads((INTEROP / "bundles" / case["file"]).read_text())
    proof = doc["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    assert "Timestamp: " in proof["checkpoint"]["envelope"]
    proof["hashes"][0] = base64.b64encode(b"\x00" * 32).decode()
    bundle = write(tmp_path / "proof.json", doc)
    check = verify_bundle(
        bundle, _subject(bundle), identity=case["identity"], issuer=case["issuer"],
        trusted_root=INTEROP / "trusted_root.production.json", offline=True,
    )  # fmt: skip
    assert check.result.reasons == ("tlog_invalid",)

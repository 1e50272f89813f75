"""End to end: unmodified sigstore-python signs against the instance and verifies offline."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sigstore.errors import VerificationError
from sigstore.models import Bundle
from sigstore.verify.policy import Identity

from provenance.devinstance import DevInstance
from tests.devinstance._support import IDENTITY, sign_dsse, verifier

MODES = [
    pytest.param((1, True), id="rekor1-tsa"),
    pytest.param((1, False), id="rekor1-notsa"),
    pytest.param((2, True), id="rekor2-tsa"),
]


@pytest.mark.parametrize("mode", MODES)
def test_sign_dsse_then_verify_offline(
    instance_for: Callable[[tuple[int, bool]], DevInstance], mode: tuple[int, bool]
) -> None:
    inst = instance_for(mode)
    bundle = Bundle.from_json(sign_dsse(inst).to_json())  # round-trip as stored bundles are

    policy = Identity(identity=IDENTITY, issuer=inst.default_issuer)
    payload_type, payload = verifier(inst).verify_dsse(bundle, policy)

    assert payload_type == "application/vnd.in-toto+json"
    assert json.loads(payload)["subject"][0]["digest"] == {"sha256": "a" * 64}
    rekor_version, tsa = mode
    kind = bundle.log_entry._inner.kind_version
    assert (kind.kind, kind.version) == (
        ("dsse", "0.0.1") if rekor_version == 1 else ("hashedrekord", "0.0.2")
    )
    timestamps = bundle.verification_material.timestamp_verification_data
    assert (timestamps is not None) == tsa
    assert (bundle.log_entry._inner.integrated_time is not None) == (rekor_version == 1)


@pytest.mark.parametrize("mode", MODES)
def test_verify_refuses_wrong_identity_and_issuer(
    instance_for: Callable[[tuple[int, bool]], DevInstance], mode: tuple[int, bool]
) -> None:
    inst = instance_for(mode)
    bundle = sign_dsse(inst)
    check = verifier(inst)

    with pytest.raises(VerificationError, match="SANs do not match"):
        check.verify_dsse(
            bundle, Identity(identity="mallory@example.com", issuer=inst.default_issuer)
        )
    with pytest.raises(VerificationError, match="OIDCIssuer"):
        check.verify_dsse(bundle, Identity(identity=IDENTITY, issuer="https://other.example.com"))


def test_uri_identity_from_second_issuer(instance: DevInstance) -> None:
    workflow = "https://github.com/org/repo/.github/workflows/stamp.yml@refs/heads/main"
    issuer = "https://token.actions.githubusercontent.com"
    bundle = sign_dsse(instance, identity=workflow, issuer=issuer)

    verifier(instance).verify_dsse(bundle, Identity(identity=workflow, issuer=issuer))


def test_concurrent_signers_get_distinct_log_entries(instance: DevInstance) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        bundles = list(pool.map(lambda _: sign_dsse(instance), range(12)))

    indices = {b.log_entry._inner.log_index for b in bundles}
    assert len(indices) == 12
    check, policy = verifier(instance), Identity(identity=IDENTITY, issuer=instance.default_issuer)
    for bundle in bundles:
        check.verify_dsse(bundle, policy)


def test_bundle_does_not_verify_against_another_instance(
    instance_for: Callable[[tuple[int, bool]], DevInstance],
) -> None:
    bundle = sign_dsse(instance_for((1, True)))
    other = instance_for((1, False))

    with pytest.raises(VerificationError):
        verifier(other).verify_dsse(
            bundle, Identity(identity=IDENTITY, issuer=other.default_issuer)
        )


def test_tsa_outage_leaves_bundle_without_timestamp(instance: DevInstance) -> None:
    instance.tsa_outage.set()
    try:
        bundle = sign_dsse(instance)
    finally:
        instance.tsa_outage.clear()

    assert bundle.verification_material.timestamp_verification_data is None
    policy = Identity(identity=IDENTITY, issuer=instance.default_issuer)
    verifier(instance).verify_dsse(bundle, policy)  # the SET alone still gives signed time

"""Real public Sigstore bundles verify (or fail) as their manifest says, through our verifier."""

from __future__ import annotations

from typing import Any

import pytest

from provenance.verify.generic import verify_dsse_bundle
from tests.helpers import INTEROP, interop_cases

pytestmark = pytest.mark.skipif(
    not INTEROP.exists(), reason=f"{INTEROP} is absent (a clone outside the workspace)"
)


@pytest.mark.parametrize("case", interop_cases(), ids=lambda c: str(c["file"])[:48])
def test_bundle_verifies_as_manifest_says(case: dict[str, Any]) -> None:
    result = verify_dsse_bundle(
        (INTEROP / "bundles" / case["file"]).read_bytes(),
        identity=case["identity"],
        issuer=case["issuer"],
        trusted_root=INTEROP / f"trusted_root.{case['instance']}.json",
    )
    assert result.ok is (case["expect"] == "ok"), result.reasons
    if result.ok:
        assert result.statement_type == case.get(
            "statement_type", "https://in-toto.io/Statement/v1"
        )
        assert result.predicate_type == case["predicate_type"]
    else:
        assert result.reasons and result.reasons[0] in {"tlog_mismatch", "signature_invalid"}


@pytest.mark.parametrize(
    "case", [c for c in interop_cases() if c["expect"] == "ok"], ids=lambda c: str(c["file"])[:48]
)
def test_bundle_refused_against_the_other_instance(case: dict[str, Any]) -> None:
    other = "staging" if case["instance"] == "production" else "production"
    result = verify_dsse_bundle(
        (INTEROP / "bundles" / case["file"]).read_bytes(),
        identity=case["identity"],
        issuer=case["issuer"],
        trusted_root=INTEROP / f"trusted_root.{other}.json",
    )
    assert not result.ok


@pytest.mark.parametrize(
    "case",
    [c for c in interop_cases() if c["expect"] == "ok"][:3],
    ids=lambda c: str(c["file"])[:48],
)
def test_bundle_refused_for_another_identity(case: dict[str, Any]) -> None:
    result = verify_dsse_bundle(
        (INTEROP / "bundles" / case["file"]).read_bytes(),
        identity=case["identity"] + "x",
        issuer=case["issuer"],
        trusted_root=INTEROP / f"trusted_root.{case['instance']}.json",
    )
    assert result.reasons == ("signer_not_allowed",)

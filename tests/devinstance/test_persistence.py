"""Restarting on the same directory keeps the trust root and continues the log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sigstore.verify.policy import Identity

from provenance.devinstance import DevInstance
from provenance.errors import DevInstanceError
from tests.devinstance._support import IDENTITY, sign_dsse, verifier


def _keys(trusted_root: dict[str, Any]) -> dict[str, Any]:
    """Everything in a trusted root except the URLs, which follow the port."""
    return {
        "tlogs": [(t["publicKey"], t["logId"]) for t in trusted_root["tlogs"]],
        "ctlogs": [(t["publicKey"], t["logId"]) for t in trusted_root["ctlogs"]],
        "cas": [ca["certChain"] for ca in trusted_root["certificateAuthorities"]],
        "tsas": [ca["certChain"] for ca in trusted_root["timestampAuthorities"]],
    }


def test_restart_keeps_trust_root_and_grows_log(tmp_path: Path) -> None:
    with DevInstance(tmp_path) as first:
        before = json.loads(first.trusted_root_path.read_text())
        old_bundle = sign_dsse(first)
        token = first.issue_token(IDENTITY, "https://ci.example.com")
        first_index = old_bundle.log_entry._inner.log_index
    assert not (tmp_path / "url").exists()

    with DevInstance(tmp_path) as second:
        after = json.loads(second.trusted_root_path.read_text())
        new_bundle = sign_dsse(second)
        assert second.issuers.verify(token).issuer == "https://ci.example.com"

    assert _keys(after) == _keys(before)
    assert new_bundle.log_entry._inner.log_index == first_index + 1
    assert new_bundle.log_entry._inner.inclusion_proof.tree_size == first_index + 2
    policy = Identity(identity=IDENTITY, issuer=second.default_issuer)
    verifier(second).verify_dsse(old_bundle, policy)


def test_second_server_on_same_directory_is_refused(tmp_path: Path) -> None:
    with DevInstance(tmp_path) as running:
        with pytest.raises(DevInstanceError, match="already serving"):
            DevInstance(tmp_path).start()
        assert (tmp_path / "url").read_text().strip() == running.url


def test_url_is_unavailable_until_started(tmp_path: Path) -> None:
    inst = DevInstance(tmp_path, rekor_version=2, tsa=False)

    with pytest.raises(DevInstanceError, match="not running"):
        _ = inst.url
    with pytest.raises(DevInstanceError, match="unsupported Rekor version"):
        DevInstance(tmp_path, rekor_version=3)

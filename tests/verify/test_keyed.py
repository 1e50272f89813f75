"""THREATS.md C18: key-signed envelopes against the policy's public keys and their validity."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from provenance.app.gate import verify
from provenance.app.options import VerifyOptions
from provenance.app.stamp import stamp
from provenance.sign import public_key_from_pem
from provenance.sign.signing import SigningOptions
from provenance.verify.report import Report
from tests.conftest import session
from tests.helpers import SSO_CALLBACK, GitRepo
from tests.verify._support import (
    Json,
    assert_passed,
    assert_refused,
    decode,
    encode,
    mutated,
    network_restored,
)

KEY_PATH = ".provenance/keys/agent.pub.pem"


def _toml_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


def _public_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class KeyedRepo:
    """A repository whose committed policy trusts one public key; the SSO commit is stamped."""

    repo: GitRepo
    commit: str
    keyid: str
    line: bytes

    def verify(self, *lines: bytes) -> Report:
        """Store ``lines`` (if given) as the commit's note, then run the gate offline.

        No trusted root is given: key-signed attestations need no Sigstore material at all.
        """
        if lines:
            self.repo.git("notes", "--ref=refs/notes/provenance", "add", "-f", "-F", "-",
                          self.commit, input=b"\n".join(lines) + b"\n")  # fmt: skip
        with network_restored():
            return verify(self.repo.path, [self.commit], VerifyOptions(offline=True))


def make_keyed(
    tmp_path: Path,
    *,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    sign_with_other_key: bool = False,
) -> KeyedRepo:
    trusted = ec.generate_private_key(ec.SECP256R1())
    signing = ec.generate_private_key(ec.SECP256R1()) if sign_with_other_key else trusted
    window = "".join(
        f"{name} = {_toml_time(moment)}\n"
        for name, moment in (("valid_from", valid_from), ("valid_until", valid_until))
        if moment is not None
    )
    policy = f'version = 1\n\n[[signers]]\nkey = "keys/agent.pub.pem"\n{window}'
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit("policy", {".provenance/policy.toml": policy, KEY_PATH: _public_pem(trusted),
                           "README.md": "app\n"})  # fmt: skip
    commit = repo.commit("Add SSO callback", {"app/auth/sso.py": SSO_CALLBACK})
    private = _write_private(tmp_path / "agent.key.pem", signing)
    stamp(repo.path, commit, session(), SigningOptions(key=str(private)))
    out = repo.git("notes", "--ref=refs/notes/provenance", "show", commit)
    (line,) = [ln.encode() for ln in out.splitlines() if ln]
    keyid = public_key_from_pem(_public_pem(signing).encode()).keyid
    return KeyedRepo(repo=repo, commit=commit, keyid=keyid, line=line)


def test_valid_key_passes(tmp_path: Path) -> None:
    keyed = make_keyed(tmp_path)
    attestation = assert_passed(keyed.verify())
    assert attestation.format == "envelope"
    assert attestation.signer == f"key:{keyed.keyid}"


def test_key_inside_its_validity_window_passes(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    keyed = make_keyed(
        tmp_path, valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=1)
    )
    assert_passed(keyed.verify())


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    keyed = make_keyed(tmp_path, sign_with_other_key=True)
    assert_refused(keyed.verify(), "key_unknown")


def test_expired_key_is_refused(tmp_path: Path) -> None:
    keyed = make_keyed(tmp_path, valid_until=datetime.now(UTC) - timedelta(days=1))
    assert_refused(keyed.verify(), "key_expired")


def test_key_not_yet_valid_is_refused(tmp_path: Path) -> None:
    keyed = make_keyed(tmp_path, valid_from=datetime.now(UTC) + timedelta(days=1))
    assert_refused(keyed.verify(), "key_not_yet_valid")


def _payload_edit(doc: Json) -> None:
    payload = base64.b64decode(doc["payload"]).replace(b"claude-opus-4", b"claude-opus-5")
    doc["payload"] = base64.b64encode(payload).decode()


def test_tampered_key_signed_payload_is_refused(tmp_path: Path) -> None:
    keyed = make_keyed(tmp_path)
    assert_refused(keyed.verify(mutated(keyed.line, _payload_edit)), "signature_invalid")


def test_keyid_naming_the_trusted_key_does_not_make_another_key_trusted(tmp_path: Path) -> None:
    """The keyid is only a hint: a signature by another key under the trusted id is refused."""
    trusted = make_keyed(tmp_path / "trusted")
    other = make_keyed(tmp_path / "other", sign_with_other_key=True)
    forged = decode(other.line)
    forged["signatures"][0]["keyid"] = trusted.keyid
    # other's statement names other's commit: give it the trusted repo's payload instead, so
    # only the signature is wrong.
    forged["payload"] = decode(trusted.line)["payload"]
    assert_refused(trusted.verify(encode(forged)), "signature_invalid")


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        pytest.param(lambda doc: doc["signatures"][0].pop("keyid"), "malformed", id="no-keyid"),
        # securesystemslib takes the number as the key id "7", which the policy does not know.
        pytest.param(lambda doc: doc["signatures"][0].update(keyid=7), "key_unknown",
                     id="keyid-not-string"),
        pytest.param(lambda doc: doc["signatures"][0].update(keyid=""), "key_unknown",
                     id="keyid-empty"),
    ],
)  # fmt: skip
def test_key_signed_envelope_without_usable_keyid_is_refused(
    tmp_path: Path, edit: Callable[[Json], object], reason: str
) -> None:
    keyed = make_keyed(tmp_path)
    line = mutated(keyed.line, edit)
    assert_refused(keyed.verify(line), reason)


def test_stamped_envelope_is_plain_dsse_json(tmp_path: Path) -> None:
    """What the key path stores: exactly payload, payloadType and one keyid+sig signature."""
    doc = json.loads(make_keyed(tmp_path).line)
    assert set(doc) == {"payload", "payloadType", "signatures"}
    assert [set(s) for s in doc["signatures"]] == [{"keyid", "sig"}]

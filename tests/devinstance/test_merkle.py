"""The RFC 6962 tree: every inclusion proof for trees of 1..40 leaves, checked three ways."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

# The client's own proof checker, reached through its (private) module on purpose: the point is
# that *sigstore-python's* arithmetic accepts our proofs, not just ours.
from sigstore._internal.merkle import verify_merkle_inclusion
from sigstore.models import TransparencyLogEntry

from provenance.devinstance import merkle
from provenance.devinstance.ca import CertificateAuthority
from provenance.devinstance.ct import CTLog
from provenance.devinstance.entries import hashedrekord_v001_body
from provenance.devinstance.tlog import TransparencyLog

MAX_SIZE = 40


def _bottom_up_root(leaves: list[bytes]) -> bytes:
    """MTH computed level by level, promoting a lone right node: a second, independent method."""
    level = list(leaves)
    while len(level) > 1:
        pairs = [merkle.node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    return level[0]


@pytest.fixture(scope="module")
def bodies() -> list[bytes]:
    """Forty real hashedrekord bodies, so sigstore-python's entry parser accepts them."""
    ca = CertificateAuthority.ephemeral(CTLog(ec.generate_private_key(ec.SECP256R1())))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = ca.issue_leaf(key.public_key(), "merkle@example.com", "https://issuer.example")
    pem = base64.b64encode(cert.public_bytes(serialization.Encoding.PEM)).decode()
    result = []
    for n in range(MAX_SIZE):
        artifact = f"leaf {n}".encode()
        signature = key.sign(artifact, ec.ECDSA(hashes.SHA256()))
        digest = hashlib.sha256(artifact).hexdigest()
        spec = {
            "signature": {
                "content": base64.b64encode(signature).decode(),
                "publicKey": {"content": pem},
            },
            "data": {"hash": {"algorithm": "sha256", "value": digest}},
        }
        result.append(hashedrekord_v001_body(spec))
    return result


def test_root_matches_independent_bottom_up_computation() -> None:
    leaves = [merkle.leaf_hash(bytes([n])) for n in range(MAX_SIZE)]
    for size in range(1, MAX_SIZE + 1):
        assert merkle.root_hash(leaves[:size]) == _bottom_up_root(leaves[:size])


def test_every_proof_verifies_with_rfc9162_and_sigstore(bodies: list[bytes]) -> None:
    leaves = [merkle.leaf_hash(body) for body in bodies]
    for size in range(1, MAX_SIZE + 1):
        root = merkle.root_hash(leaves[:size])
        for index in range(size):
            proof = merkle.inclusion_proof(index, leaves[:size])
            assert merkle.verify_inclusion(index, size, leaves[index], proof, root)
            assert not merkle.verify_inclusion(index, size, leaves[index], proof, b"\0" * 32)
            verify_merkle_inclusion(_client_entry(bodies[index], index, size, root, proof))


def _client_entry(
    body: bytes, index: int, size: int, root: bytes, proof: list[bytes]
) -> TransparencyLogEntry:
    """Parse a v1-shaped response exactly as sigstore-python's Rekor client does."""
    response = {
        "uuid": {
            "body": base64.b64encode(body).decode(),
            "integratedTime": 0,
            "logID": "00" * 32,
            "logIndex": index,
            "verification": {
                "signedEntryTimestamp": "",
                "inclusionProof": {
                    "logIndex": index,
                    "rootHash": root.hex(),
                    "treeSize": size,
                    "hashes": [h.hex() for h in proof],
                    "checkpoint": "unused",
                },
            },
        }
    }
    return TransparencyLogEntry._from_v1_response(response)


def test_log_survives_a_torn_last_line(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    log = TransparencyLog(tmp_path, key, origin="test - 1", name="test")
    first = log.append(b"one")
    with (tmp_path / "entries.jsonl").open("ab") as handle:
        handle.write(b'{"body": "dHdv", "integ')  # a crash in the middle of an append

    reopened = TransparencyLog(tmp_path, key, origin="test - 1", name="test")
    second = reopened.append(b"two")

    assert (first.index, second.index) == (0, 1)
    assert len((tmp_path / "entries.jsonl").read_bytes().splitlines()) == 2
    assert second.root == merkle.root_hash([merkle.leaf_hash(b"one"), merkle.leaf_hash(b"two")])

"""RFC 6962 Merkle tree hashing and inclusion proofs, server side.

No Python library offers the *server* half of RFC 6962 (the clients only verify), and the
definitions are short: section 2.1 (MTH) and 2.1.1 (PATH). Proof hashes are ordered from the
leaf upwards, which is what sigstore-python's ``verify_merkle_inclusion`` expects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of one log entry (RFC 6962 section 2.1)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: an interior node."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """Largest power of two strictly smaller than ``size`` (``size`` >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves; the empty tree hashes to ``SHA-256("")``."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root_hash(leaves[:k]), root_hash(leaves[k:]))


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(index, leaves): sibling hashes from the leaf up to the root."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf index {index} outside tree of size {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_proof(index, leaves[:k]), root_hash(leaves[k:])]
    return [*inclusion_proof(index - k, leaves[k:]), root_hash(leaves[:k])]


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Recompute the root from a proof (RFC 9162 section 2.1.3.2): a cross-check for tests."""
    if not 0 <= index < size:
        return False
    fn, sn, running = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            running = node_hash(sibling, running)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            running = node_hash(running, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and running == root

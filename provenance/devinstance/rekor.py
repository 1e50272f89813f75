"""Rekor v1 and v2 ``log/entries`` endpoints: proposal in, integrated entry JSON out.

v1 answers ``{uuid: LogEntry}`` with hex hashes, an integrated time and a SET (the shape
``TransparencyLogEntry._from_v1_response`` reads); v2 answers a protobuf-JSON
``TransparencyLogEntry`` with base64 bytes, string integers and no SET, as rekor-tiles does.
Each version has its own log and key, both listed in the trusted root.
"""

from __future__ import annotations

import base64
from typing import Any

from provenance.devinstance import merkle
from provenance.devinstance.entries import (
    ProposalRejected,
    dsse_v001_body,
    hashedrekord_v001_body,
    hashedrekord_v002_body,
    intoto_v002_body,
)
from provenance.devinstance.tlog import LoggedEntry, TransparencyLog


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class RekorV1:
    """``POST /api/v1/log/entries``: ``dsse``/``hashedrekord`` 0.0.1, legacy ``intoto`` 0.0.2."""

    _KINDS = {
        ("dsse", "0.0.1"): dsse_v001_body,
        ("hashedrekord", "0.0.1"): hashedrekord_v001_body,
        ("intoto", "0.0.2"): intoto_v002_body,
    }

    def __init__(self, log: TransparencyLog) -> None:
        self.log = log

    def create_entry(self, proposal: Any) -> dict[str, Any]:
        """Verify, canonicalise and log ``proposal``; return Rekor's ``{uuid: entry}`` answer."""
        if not isinstance(proposal, dict):
            raise ProposalRejected("the proposed entry must be a JSON object")
        kind, version = proposal.get("kind"), proposal.get("apiVersion")
        make = self._KINDS.get((str(kind), str(version)))
        if make is None:
            raise ProposalRejected(f"unsupported entry type {kind}/{version}")
        body = make(proposal.get("spec"))
        entry = self.log.append(body)
        return {merkle.leaf_hash(body).hex(): self.render(entry)}

    def render(self, entry: LoggedEntry) -> dict[str, Any]:
        """One v1 ``LogEntry`` value: body, time, IDs, SET and inclusion proof with checkpoint."""
        return {
            "body": _b64(entry.body),
            "integratedTime": entry.integrated_time,
            "logID": self.log.log_id.hex(),
            "logIndex": entry.index,
            "verification": {
                "signedEntryTimestamp": _b64(self.log.signed_entry_timestamp(entry)),
                "inclusionProof": {
                    "logIndex": entry.index,
                    "rootHash": entry.root.hex(),
                    "treeSize": entry.tree_size,
                    "hashes": [h.hex() for h in entry.proof],
                    "checkpoint": entry.checkpoint,
                },
            },
        }

    def log_info(self) -> dict[str, Any]:
        """``GET /api/v1/log``: the current signed tree head."""
        size, root, checkpoint = self.log.head()
        return {
            "rootHash": root.hex(),
            "treeSize": size,
            "signedTreeHead": checkpoint,
            "treeID": self.log.origin.rpartition(" ")[2],
        }


class RekorV2:
    """``POST /api/v2/log/entries`` for ``hashedRekordRequestV002`` requests."""

    def __init__(self, log: TransparencyLog) -> None:
        self.log = log

    def create_entry(self, request: Any) -> dict[str, Any]:
        """Verify, canonicalise and log ``request``; return the ``TransparencyLogEntry`` JSON."""
        if not isinstance(request, dict) or "hashedRekordRequestV002" not in request:
            raise ProposalRejected(
                "only hashedRekordRequestV002 is supported (sigstore-python logs DSSE that way)"
            )
        entry = self.log.append(hashedrekord_v002_body(request["hashedRekordRequestV002"]))
        return {
            "logIndex": str(entry.index),
            "logId": {"keyId": _b64(self.log.log_id)},
            "kindVersion": {"kind": "hashedrekord", "version": "0.0.2"},
            "inclusionProof": {
                "logIndex": str(entry.index),
                "rootHash": _b64(entry.root),
                "treeSize": str(entry.tree_size),
                "hashes": [_b64(h) for h in entry.proof],
                "checkpoint": {"envelope": entry.checkpoint},
            },
            "canonicalizedBody": _b64(entry.body),
        }

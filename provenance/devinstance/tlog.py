"""A persistent append-only transparency log: RFC 6962 tree, signed checkpoints and SETs.

Entries are JSON lines in ``entries.jsonl`` (canonical body + integrated time); the leaf hashes
are rebuilt from it on start, so restarting on the same directory continues the same log. The
checkpoint is a signed note (transparency-dev ``formats/log``) whose key hint is the first four
bytes of the log ID, which is how sigstore-python matches the signature line to the key.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from provenance.devinstance import merkle
from provenance.devinstance.storage import key_id
from provenance.errors import DevInstanceError


@dataclass(frozen=True)
class LoggedEntry:
    """One integrated entry with its inclusion proof against the tree right after it."""

    index: int
    body: bytes
    integrated_time: int
    tree_size: int
    root: bytes
    proof: list[bytes]
    checkpoint: str


class TransparencyLog:
    """Append-only log under ``directory``, signed by ``key``; safe to share between threads."""

    def __init__(
        self, directory: Path, key: ec.EllipticCurvePrivateKey, *, origin: str, name: str
    ) -> None:
        self.key = key
        self.log_id = key_id(key.public_key())
        self.origin = origin
        self.name = name
        self._path = directory / "entries.jsonl"
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)
        self._leaves: list[bytes] = []
        self._valid_bytes = 0
        self.reload()

    def reload(self) -> None:
        """Re-read the log from disk (a server calls this once it holds the directory lock).

        Reading never writes: a torn last line (a crash mid-append) is only skipped here and
        cut off by the next :meth:`append`, which only the directory's one server performs.
        """
        with self._lock:
            self._leaves = [merkle.leaf_hash(body) for body, _ in self._read_entries()]

    def _read_entries(self) -> list[tuple[bytes, int]]:
        """Parse every complete line; anything unparseable but the torn tail is an error."""
        raw = self._path.read_bytes() if self._path.exists() else b""
        complete, _, torn = raw.rpartition(b"\n")
        self._valid_bytes = len(raw) - len(torn)
        entries = []
        for number, line in enumerate(complete.splitlines(), start=1):
            try:
                record = json.loads(line)
                entries.append((base64.b64decode(record["body"]), int(record["integratedTime"])))
            except (ValueError, KeyError, TypeError) as e:
                raise DevInstanceError(
                    f"{self._path}:{number} is corrupt: {e}",
                    hint="the log is append-only; restore it or delete the instance directory",
                ) from e
        return entries

    def __len__(self) -> int:
        return len(self._leaves)

    def append(self, body: bytes) -> LoggedEntry:
        """Integrate ``body`` durably, then prove its inclusion and sign the new tree head."""
        integrated_time = int(time.time())
        record = json.dumps(
            {"body": base64.b64encode(body).decode(), "integratedTime": integrated_time}
        )
        line = record.encode() + b"\n"
        with self._lock:
            with self._path.open("ab") as handle:
                if handle.tell() != self._valid_bytes:
                    handle.truncate(self._valid_bytes)  # drop a torn tail before appending
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            self._valid_bytes += len(line)
            self._leaves.append(merkle.leaf_hash(body))
            index, leaves = len(self._leaves) - 1, list(self._leaves)
        root = merkle.root_hash(leaves)
        return LoggedEntry(
            index=index,
            body=body,
            integrated_time=integrated_time,
            tree_size=len(leaves),
            root=root,
            proof=merkle.inclusion_proof(index, leaves),
            checkpoint=self.checkpoint(len(leaves), root),
        )

    def head(self) -> tuple[int, bytes, str]:
        """Current size, root hash and signed checkpoint."""
        with self._lock:
            leaves = list(self._leaves)
        root = merkle.root_hash(leaves)
        return len(leaves), root, self.checkpoint(len(leaves), root)

    def checkpoint(self, size: int, root: bytes) -> str:
        """Signed note: origin, size, base64 root, blank line, ``— name b64(keyhint || sig)``."""
        note = f"{self.origin}\n{size}\n{base64.b64encode(root).decode()}\n"
        signature = self.key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        stamp = base64.b64encode(self.log_id[:4] + signature).decode()
        return f"{note}\n\u2014 {self.name} {stamp}\n"

    def signed_entry_timestamp(self, entry: LoggedEntry) -> bytes:
        """SET: the log key's signature over RFC 8785 JSON of body, time, log ID and index."""
        payload: dict[str, Any] = {
            "body": base64.b64encode(entry.body).decode(),
            "integratedTime": entry.integrated_time,
            "logID": self.log_id.hex(),
            "logIndex": entry.index,
        }
        return self.key.sign(rfc8785.dumps(payload), ec.ECDSA(hashes.SHA256()))

"""Evidence-pack store: a directory of attestations plus a manifest of every file's sha256.

Layout (``manifest.json`` is the only file not listed in itself)::

    manifest.json                   {"format": ..., "files": {"<rel>": "sha256:<hex>"}, ...}
    attestations/<commit>.jsonl     one attestation per line, as the notes store held them
    <any other sealed file>         e.g. the policy and trusted root the pack was verified with

Opening a pack checks the manifest before anything is read: a file that is missing, extra,
altered, a symlink or named outside the pack refuses the whole pack with a reason code
(:class:`PackError`, exit 1). Reads check each file's digest again, so a pack changed after it
was opened is refused too.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from provenance.documents import EVIDENCE_FORMAT
from provenance.errors import Refusal, StoreError
from provenance.reasons import Reason
from provenance.store.interface import (
    STORE_FOR_SCHEME,
    AttestationStore,
    LineScreen,
    NoteLines,
    merge_lines,
    split_lines,
)

MANIFEST = "manifest.json"
PACK_FORMAT = EVIDENCE_FORMAT
ATTESTATIONS_DIR = "attestations"
#: Files larger than this are never read into memory (THREATS.md A6).
MAX_PACK_FILE_BYTES = 256 * 1024 * 1024
_MAX_MANIFEST_BYTES = 32 * 1024 * 1024
_COMPONENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class PackError(Refusal, StoreError):
    """The pack cannot be used as evidence: a refusal (exit 1) with an ``evidence_*`` reason."""

    def __init__(self, reason: Reason, message: str, *, hint: str | None = None) -> None:
        super().__init__(reason, message, hint=hint or "re-export the pack from the repository")


def sha256_file(path: Path) -> str:
    """``sha256:<hex>`` of a file, streamed."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return f"sha256:{h.hexdigest()}"


def _check_name(rel: str) -> None:
    parts = rel.split("/")
    if not rel or not all(_COMPONENT.match(p) for p in parts) or ".." in parts:
        raise PackError(Reason.EVIDENCE_PATH_UNSAFE, f"pack file name {rel!r} is not allowed")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise PackError(Reason.EVIDENCE_MANIFEST_INVALID, f"manifest repeats the key {key!r}")
        out[key] = value
    return out


def _refuse_constant(name: str) -> Any:
    raise PackError(
        Reason.EVIDENCE_MANIFEST_INVALID, f"manifest holds the non-finite number {name}"
    )


def _load_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    if path.is_symlink():
        raise PackError(Reason.EVIDENCE_PATH_UNSAFE, f"{path} is a symbolic link")
    try:
        if path.stat().st_size > _MAX_MANIFEST_BYTES:
            raise PackError(Reason.EVIDENCE_MANIFEST_INVALID, f"{path} is too large")
        raw = path.read_bytes()
    except FileNotFoundError as e:
        raise PackError(Reason.EVIDENCE_FILE_MISSING, f"{root} has no {MANIFEST}") from e
    except OSError as e:
        raise StoreError(f"cannot read {path}: {e.strerror}") from e
    try:
        doc = json.loads(
            raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PackError(Reason.EVIDENCE_MANIFEST_INVALID, f"{path} is not JSON: {e}") from e
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("format") != PACK_FORMAT or not isinstance(files, dict):
        raise PackError(Reason.EVIDENCE_MANIFEST_INVALID, f"{path} is not a {PACK_FORMAT} manifest")
    for rel, digest in files.items():
        _check_name(rel)
        if rel == MANIFEST or not isinstance(digest, str) or not _DIGEST.match(digest):
            raise PackError(
                Reason.EVIDENCE_MANIFEST_INVALID, f"manifest entry {rel!r} is malformed"
            )
    return doc


def _on_disk(root: Path) -> set[str]:
    """Every file and directory under ``root`` (``dir/`` for directories); links are refused."""
    found: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        for name in [*dirnames, *filenames]:
            full = base / name
            rel = full.relative_to(root).as_posix()
            if full.is_symlink():
                raise PackError(Reason.EVIDENCE_PATH_UNSAFE, f"{rel} is a symbolic link")
            if full.is_dir():
                found.add(rel + "/")
            elif full.is_file():
                found.add(rel)
            else:
                raise PackError(Reason.EVIDENCE_PATH_UNSAFE, f"{rel} is not a regular file")
    return found


class DirectoryStore(AttestationStore):
    """An evidence pack: ``create`` + ``add_many`` + ``write_file`` + ``seal``, then ``open``."""

    def __init__(self, root: Path, manifest: dict[str, Any] | None, *, writable: bool) -> None:
        self.root = root
        self.uri = f"dir:{root}"
        self._manifest = manifest
        self._writable = writable
        self._files: dict[str, str] = dict(manifest["files"]) if manifest else {}

    @classmethod
    def create(cls, root: Path) -> DirectoryStore:
        """A new, writable pack in an empty or missing directory (never overwrites)."""
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise StoreError(
                f"{root} exists and is not an empty directory",
                hint="choose a new --out directory; packs are never overwritten",
            )
        (root / ATTESTATIONS_DIR).mkdir(parents=True, exist_ok=True)
        return cls(root, None, writable=True)

    @classmethod
    def open(cls, root: Path) -> DirectoryStore:
        """Open a sealed pack after checking every file against the manifest."""
        if not root.is_dir() or root.is_symlink():
            raise PackError(
                Reason.EVIDENCE_FILE_MISSING, f"{root} is not an evidence pack directory"
            )
        manifest = _load_manifest(root)
        listed: dict[str, str] = manifest["files"]
        needed_dirs = {
            "/".join(rel.split("/")[: i + 1]) + "/" for rel in listed for i in range(rel.count("/"))
        }
        present = _on_disk(root) - {MANIFEST}
        extra = sorted(present - set(listed) - needed_dirs - {f"{ATTESTATIONS_DIR}/"})
        if extra:
            raise PackError(
                Reason.EVIDENCE_FILE_EXTRA, f"files not in the manifest: {', '.join(extra)}"
            )
        missing = sorted(set(listed) - present)
        if missing:
            raise PackError(Reason.EVIDENCE_FILE_MISSING, f"files missing: {', '.join(missing)}")
        for rel, digest in sorted(listed.items()):
            cls._check_digest(root / rel, rel, digest)
        return cls(root, manifest, writable=False)

    @staticmethod
    def _check_digest(path: Path, rel: str, digest: str) -> None:
        if path.stat().st_size > MAX_PACK_FILE_BYTES:
            raise PackError(
                Reason.EVIDENCE_DIGEST_MISMATCH, f"{rel} is larger than any pack file may be"
            )
        if sha256_file(path) != digest:
            raise PackError(
                Reason.EVIDENCE_DIGEST_MISMATCH, f"{rel} does not match its manifest digest"
            )

    @property
    def manifest(self) -> dict[str, Any]:
        """The verified manifest (sealed packs only)."""
        if self._manifest is None:
            raise StoreError("the pack is not sealed yet")
        return self._manifest

    def commits(self) -> list[str]:
        """Commits the pack holds attestations for."""
        prefix = f"{ATTESTATIONS_DIR}/"
        return sorted(
            rel[len(prefix) : -len(".jsonl")]
            for rel in self._files
            if rel.startswith(prefix) and rel.endswith(".jsonl")
        )

    def available(self) -> bool:
        return self._manifest is not None or self._writable

    def read_file(self, rel: str) -> bytes:
        """A sealed file's bytes, checked against the manifest again (no time-of-check gap)."""
        _check_name(rel)
        digest = self._files.get(rel)
        if digest is None:
            raise PackError(Reason.EVIDENCE_FILE_MISSING, f"the manifest lists no {rel}")
        path = self.root / rel
        if path.is_symlink() or not path.is_file():
            raise PackError(Reason.EVIDENCE_FILE_MISSING, f"{rel} is missing")
        if path.stat().st_size > MAX_PACK_FILE_BYTES:
            raise PackError(
                Reason.EVIDENCE_DIGEST_MISMATCH, f"{rel} is larger than any pack file may be"
            )
        data = path.read_bytes()
        if f"sha256:{hashlib.sha256(data).hexdigest()}" != digest:
            raise PackError(
                Reason.EVIDENCE_DIGEST_MISMATCH, f"{rel} changed since the pack was opened"
            )
        return data

    def read_many(
        self, commits: Iterable[str], screen: LineScreen | None = None, *, links: bool = False
    ) -> dict[str, list[bytes]]:
        result: dict[str, list[bytes]] = {}
        for commit in commits:
            rel = f"{ATTESTATIONS_DIR}/{commit}.jsonl"
            if not _COMMIT.match(commit) or rel not in self._files:
                result[commit] = []
                continue
            data = self.read_file(rel) if not self._writable else (self.root / rel).read_bytes()
            result[commit] = NoteLines(screen, links=links).extend(data).lines
        return result

    def add_many(self, items: dict[str, Sequence[bytes]]) -> int:
        if not self._writable:
            raise StoreError("a sealed evidence pack is read-only")
        added = 0
        for commit, lines in items.items():
            if not _COMMIT.match(commit):
                raise StoreError(f"not a full commit id: {commit!r}")
            rel = f"{ATTESTATIONS_DIR}/{commit}.jsonl"
            path = self.root / rel
            before = split_lines(path.read_bytes()) if path.exists() else []
            after = merge_lines(before, lines)
            if len(after) == len(before):
                continue
            added += len(after) - len(before)
            self._write(rel, b"\n".join(after) + b"\n")
        return added

    def write_file(self, rel: str, data: bytes) -> str:
        """Add one more file to an unsealed pack; returns its ``sha256:`` digest."""
        if not self._writable:
            raise StoreError("a sealed evidence pack is read-only")
        _check_name(rel)
        if rel == MANIFEST or rel.startswith(f"{ATTESTATIONS_DIR}/"):
            raise StoreError(f"{rel} is reserved")
        return self._write(rel, data)

    def _write(self, rel: str, data: bytes) -> str:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
        self._files[rel] = digest
        return digest

    def seal(self, meta: dict[str, Any]) -> dict[str, Any]:
        """Write ``manifest.json`` (``meta`` plus every file's digest); the pack is then sealed."""
        if not self._writable:
            raise StoreError("the pack is already sealed")
        manifest = {
            "format": PACK_FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **meta,
            "files": dict(sorted(self._files.items())),
        }
        text = json.dumps(manifest, indent=2, sort_keys=False) + "\n"
        tmp = self.root / (MANIFEST + ".tmp")
        tmp.write_text(text)
        tmp.replace(self.root / MANIFEST)
        self._manifest = manifest
        self._writable = False
        return manifest


def _from_uri(path: str, _git: object) -> AttestationStore:
    return DirectoryStore.open(Path(path))


STORE_FOR_SCHEME["dir"] = _from_uri

"""Evidence-pack store: sealed manifests, and every kind of tampering refused with its reason."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provenance.errors import StoreError
from provenance.reasons import Reason
from provenance.store import DirectoryStore, PackError
from provenance.store.interface import open_store

C1, C2 = "a" * 40, "b" * 40


def _pack(root: Path) -> DirectoryStore:
    pack = DirectoryStore.create(root)
    assert pack.add_many({C1: [b'{"x":1}', b'{"x":2}'], C2: [b'{"y":1}']}) == 3
    assert pack.add_many({C1: [b'{"x":2}']}) == 0  # idempotent, like every store
    pack.write_file("policy.toml", b"version = 1\n")
    pack.seal({"range": {"base": "b", "head": "h"}})
    return pack


@pytest.fixture
def sealed(tmp_path: Path) -> Path:
    _pack(tmp_path / "pack")
    return tmp_path / "pack"


def _refused(root: Path) -> str:
    with pytest.raises(PackError) as e:
        DirectoryStore.open(root)
    assert e.value.exit_code == 1
    return e.value.reason


def test_sealed_pack_reads_back_like_the_store_it_came_from(sealed: Path) -> None:
    pack = DirectoryStore.open(sealed)
    assert pack.available()
    assert pack.read_many([C1, C2, "c" * 40]) == {
        C1: [b'{"x":1}', b'{"x":2}'],
        C2: [b'{"y":1}'],
        "c" * 40: [],
    }
    assert pack.commits() == [C1, C2]
    assert pack.read_file("policy.toml") == b"version = 1\n"
    assert pack.manifest["range"] == {"base": "b", "head": "h"}
    assert set(pack.manifest["files"]) == {
        f"attestations/{C1}.jsonl",
        f"attestations/{C2}.jsonl",
        "policy.toml",
    }
    with pytest.raises(StoreError):
        pack.add_many({C1: [b"z"]})  # sealed packs are read-only
    assert isinstance(open_store(f"dir:{sealed}", None), DirectoryStore)


def test_create_never_overwrites(sealed: Path) -> None:
    with pytest.raises(StoreError):
        DirectoryStore.create(sealed)


@pytest.mark.parametrize("rel", [f"attestations/{C1}.jsonl", "policy.toml"])
def test_one_changed_byte_is_refused(sealed: Path, rel: str) -> None:
    path = sealed / rel
    data = bytearray(path.read_bytes())
    data[0] ^= 1
    path.write_bytes(bytes(data))
    assert _refused(sealed) == Reason.EVIDENCE_DIGEST_MISMATCH


def test_missing_extra_and_unsafe_files_are_refused(tmp_path: Path) -> None:
    cases: dict[str, Callable[[Path], object]] = {
        "missing": lambda p: (p / "policy.toml").unlink(),
        "missing-attestations": lambda p: (p / f"attestations/{C2}.jsonl").unlink(),
        "extra": lambda p: (p / "notes.txt").write_text("hi"),
        "extra-attestation": lambda p: (p / f"attestations/{'d' * 40}.jsonl").write_text("{}\n"),
        "extra-dir": lambda p: (p / "more").mkdir(),
        "symlink": lambda p: os.symlink("/etc/passwd", p / "passwd"),
        "no-manifest": lambda p: (p / "manifest.json").unlink(),
    }
    expected = {
        "missing": Reason.EVIDENCE_FILE_MISSING,
        "missing-attestations": Reason.EVIDENCE_FILE_MISSING,
        "extra": Reason.EVIDENCE_FILE_EXTRA,
        "extra-attestation": Reason.EVIDENCE_FILE_EXTRA,
        "extra-dir": Reason.EVIDENCE_FILE_EXTRA,
        "symlink": Reason.EVIDENCE_PATH_UNSAFE,
        "no-manifest": Reason.EVIDENCE_FILE_MISSING,
    }
    for name, tamper in cases.items():
        root = tmp_path / name
        _pack(root)
        tamper(root)
        assert _refused(root) == expected[name], name


def _rewrite_manifest(root: Path, text: str) -> None:
    (root / "manifest.json").write_text(text)


ZERO = "sha256:" + "0" * 64
INVALID = Reason.EVIDENCE_MANIFEST_INVALID
MANIFEST_EDITS: dict[str, tuple[Callable[[dict[str, Any]], object], Reason]] = {
    "format": (lambda m: m.update(format="https://example.com/other"), INVALID),
    "dotdot": (lambda m: m["files"].update({"../escape": ZERO}), Reason.EVIDENCE_PATH_UNSAFE),
    "absolute": (lambda m: m["files"].update({"/etc/passwd": ZERO}), Reason.EVIDENCE_PATH_UNSAFE),
    "algorithm": (
        lambda m: m["files"].update({"policy.toml": "md5:0"}),
        Reason.EVIDENCE_MANIFEST_INVALID,
    ),
    "digest": (lambda m: m["files"].update({"policy.toml": ZERO}), Reason.EVIDENCE_DIGEST_MISMATCH),
    "unlisted": (lambda m: m["files"].pop("policy.toml"), Reason.EVIDENCE_FILE_EXTRA),
}


@pytest.mark.parametrize("case", sorted(MANIFEST_EDITS))
def test_manifest_edits_are_refused(sealed: Path, case: str) -> None:
    edit, reason = MANIFEST_EDITS[case]
    manifest = json.loads((sealed / "manifest.json").read_text())
    edit(manifest)
    _rewrite_manifest(sealed, json.dumps(manifest))
    assert _refused(sealed) == reason


def test_duplicate_keys_and_non_json_manifests_are_refused(sealed: Path) -> None:
    text = (sealed / "manifest.json").read_text()
    _rewrite_manifest(sealed, text.replace('"format"', '"format": "x", "format"', 1))
    assert _refused(sealed) == Reason.EVIDENCE_MANIFEST_INVALID
    _rewrite_manifest(sealed, "not json")
    assert _refused(sealed) == Reason.EVIDENCE_MANIFEST_INVALID


def test_a_file_changed_after_opening_is_refused_on_read(sealed: Path) -> None:
    pack = DirectoryStore.open(sealed)
    (sealed / f"attestations/{C1}.jsonl").write_bytes(b'{"forged":1}\n')
    with pytest.raises(PackError) as e:
        pack.read_many([C1])
    assert e.value.reason == Reason.EVIDENCE_DIGEST_MISMATCH

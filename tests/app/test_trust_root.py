"""``trust-root export``: which root, written atomically, never over a file without --force."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from provenance.app.trust_root import RootChoice, export_root, resolve_root
from provenance.devinstance import DevInstance
from provenance.errors import TrustError, UsageError


def test_sources_in_order(dev: DevInstance, dev_v2: DevInstance, tmp_path: Path) -> None:
    """--trusted-root wins over --trust-config, which wins over --devinstance."""
    first = RootChoice(dev.trusted_root_path, dev_v2.trust_config_path, dev_v2.dir)
    assert resolve_root(first).data == dev.trusted_root_path.read_bytes()
    second = RootChoice(None, dev.trust_config_path, dev_v2.dir)
    assert "trust config" in resolve_root(second).source
    third = RootChoice(devinstance=dev_v2.dir)
    assert resolve_root(third).data == dev_v2.trusted_root_path.read_bytes()
    shipped = resolve_root(RootChoice(offline=True))
    assert shipped.source == "the production root embedded in sigstore-python 4.5.1"
    staging = resolve_root(RootChoice(staging=True, offline=True))
    assert staging.digest != shipped.digest
    assert shipped.digest == f"sha256:{hashlib.sha256(shipped.data).hexdigest()}"
    with pytest.raises(UsageError):
        resolve_root(RootChoice(devinstance=tmp_path))  # no instance was ever served there


def test_export_is_atomic_and_never_overwrites_silently(dev: DevInstance, tmp_path: Path) -> None:
    out = tmp_path / "root.json"
    done = export_root(RootChoice(trusted_root=dev.trusted_root_path), out)
    assert out.read_bytes() == dev.trusted_root_path.read_bytes()
    assert done.root.digest == f"sha256:{hashlib.sha256(out.read_bytes()).hexdigest()}"
    assert out.stat().st_mode & 0o777 == 0o644
    with pytest.raises(UsageError) as caught:
        export_root(RootChoice(offline=True), out)
    assert caught.value.hint == "pass --force to replace it"
    assert out.read_bytes() == dev.trusted_root_path.read_bytes()
    export_root(RootChoice(offline=True), out, force=True)
    assert out.read_bytes() == resolve_root(RootChoice(offline=True)).data
    with pytest.raises(UsageError):
        export_root(RootChoice(offline=True), tmp_path)  # a directory
    with pytest.raises(TrustError):  # not a trusted root: nothing written
        export_root(RootChoice(trusted_root=dev.trust_config_path), tmp_path / "bad.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root.json"]

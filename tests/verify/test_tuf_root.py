"""The TUF path of ``trust-root export`` and ``verify-bundle`` (no ``--offline``), on loopback.

Sigstore's real TUF repository is not reachable here, so a small TUF repository (python-tuf
metadata signed with fresh keys) serves the devinstance's trusted root; sigstore-python's own
TUF client refreshes it exactly as it refreshes production's. The root returned must be the
bytes TUF verified, and a target that does not match its signed hash must be refused.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)

from provenance.devinstance import DevInstance
from provenance.errors import TrustError
from provenance.verify.sigstore_bundles import parse_root, tuf_root


def _repository(directory: Path, targets: dict[str, bytes]) -> Path:
    """Write a one-key-per-role TUF repository serving ``targets``; return its root.json."""
    (directory / "targets").mkdir(parents=True)
    roles = ("root", "targets", "snapshot", "timestamp")
    signers = {role: CryptoSigner.generate_ecdsa() for role in roles}
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    root = Root(expires=expires, consistent_snapshot=False)
    for role, signer in signers.items():
        root.add_key(signer.public_key, role)
    files = Targets(expires=expires)
    for name, data in targets.items():
        (directory / "targets" / name).write_bytes(data)
        files.targets[name] = TargetFile.from_data(name, data)
    snapshot = Snapshot(expires=expires, meta={"targets.json": MetaFile(version=1)})
    timestamp = Timestamp(expires=expires, snapshot_meta=MetaFile(version=1))

    def publish(role: str, metadata: Metadata[Any]) -> None:
        metadata.sign(signers[role])
        metadata.to_file(str(directory / f"{role}.json"))

    publish("root", Metadata(root))
    publish("targets", Metadata(files))
    publish("snapshot", Metadata(snapshot))
    publish("timestamp", Metadata(timestamp))
    return directory / "root.json"


@pytest.fixture
def served(tmp_path: Path, dev: DevInstance) -> Iterator[tuple[str, Path, Path]]:
    """(url, bootstrap root.json, repository directory) of a TUF repository on loopback."""
    repo = tmp_path / "repo"
    config = json.loads(dev.trust_config_path.read_text())
    bootstrap = _repository(
        repo,
        {
            "trusted_root.json": dev.trusted_root_path.read_bytes(),
            "signing_config.v0.2.json": json.dumps(config["signingConfig"]).encode(),
        },
    )
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(repo))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", bootstrap, repo
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sigstore-python keeps TUF metadata and targets under the XDG directories."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


def test_the_root_is_the_target_tuf_verified(
    served: tuple[str, Path, Path], dev: DevInstance
) -> None:
    url, bootstrap, _ = served
    root = tuf_root("production", url=url, bootstrap=bootstrap)
    assert root.data == dev.trusted_root_path.read_bytes()
    assert root.source.startswith("Sigstore production via TUF (")
    parse_root(root)


def test_a_target_that_does_not_match_its_signed_hash_is_refused(
    served: tuple[str, Path, Path],
) -> None:
    url, bootstrap, repo = served
    (repo / "targets" / "trusted_root.json").write_bytes(b'{"mediaType": "forged"}')
    with pytest.raises(TrustError) as caught:
        tuf_root("production", url=url, bootstrap=bootstrap)
    assert caught.value.hint is not None and "--offline" in caught.value.hint

"""``verify-bundle`` as the conformance suite calls it, and ``trust-root export``: real processes.

The suite passes ``verify-bundle [--staging] --bundle FILE (--certificate-identity ID
--certificate-oidc-issuer URL | --key FILE) [--trusted-root FILE] FILE_OR_DIGEST`` and reads
only the exit code; we also check the JSON reason codes. Processes run four at a time and
one test checks them all (see test_audit_cli.py for why).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from provenance.devinstance import DevInstance
from tests.audit._bundles import SIGNER, key_message_bundle, pem, sign_message, write
from tests.helpers import Result

ARTIFACT = b"conformance artifact\n"


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Result:
    """``python -m provenance`` with no PROVENANCE_* variable but those given, and no network."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    argv = [sys.executable, "-m", "provenance", *args]
    if subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0:
        argv = ["unshare", "-rn", *argv]
    proc = subprocess.run(
        argv, cwd=cwd, env={**clean, **(env or {})}, capture_output=True, text=True, check=False
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _sha256(path: Path) -> str:
    return f"sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}"


def test_conformance_protocol_and_trust_root_export(dev: DevInstance, tmp_path: Path) -> None:
    artifact = tmp_path / "a.txt"
    artifact.write_bytes(ARTIFACT)
    digest = f"sha256:{hashlib.sha256(ARTIFACT).hexdigest()}"
    message = str(write(tmp_path / "m.sigstore.json", sign_message(dev, ARTIFACT)))
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "key.pub").write_bytes(pem(key))
    keyed = str(write(tmp_path / "k.sigstore.json", key_message_bundle(dev, key, ARTIFACT)))
    root = str(dev.trusted_root_path)
    who = ["--certificate-identity", SIGNER, "--certificate-oidc-issuer", dev.default_issuer]
    (tmp_path / "taken.json").write_text("{}")
    vb, pin, js = ["verify-bundle", "--bundle"], ["--trusted-root", root], ["--format", "json"]
    export = ["trust-root", "export", "--out"]
    stranger = [
        "--certificate-identity",
        "x@example.com",
        "--certificate-oidc-issuer",
        dev.default_issuer,
    ]
    jobs: dict[str, tuple[list[str], dict[str, str] | None]] = {
        "path": ([*vb, message, *who, *pin, "a.txt"], None),
        "digest": ([*vb, message, *who, *pin, digest], None),
        "key": ([*vb, keyed, "--key", "key.pub", *pin, "a.txt"], None),
        "refused": ([*vb, message, *stranger, *pin, *js, "a.txt"], None),
        "no_key": ([*vb, keyed, *who, *pin, *js, "a.txt"], None),
        "public_good": ([*vb, message, "--offline", *who, *js, "a.txt"], None),
        "no_network": ([*vb, message, *who, "a.txt"], {"XDG_CACHE_HOME": str(tmp_path / "cache")}),
        "export_offline": ([*export, "shipped.json", "--offline"], None),
        "export_dev": ([*export, "dev.json", "--devinstance", str(dev.dir)], None),
        "export_env": (
            [*export, "env.json"],
            {"PROVENANCE_TRUST_CONFIG": str(dev.trust_config_path)},
        ),
        "export_taken": ([*export, "taken.json", "--offline"], None),
        "export_wrong": (
            [*export, "wrong.json", "--trusted-root", str(dev.trust_config_path)],
            None,
        ),
    }
    with ThreadPoolExecutor(4) as pool:
        futures = {
            name: pool.submit(_run, args, tmp_path, env) for name, (args, env) in jobs.items()
        }
        r = {name: future.result() for name, future in futures.items()}

    for name in ("path", "digest", "key"):
        assert r[name].returncode == 0, (name, r[name].stderr)
    assert "signed by key sha256:" in r["key"].stdout  # the report: stdout (issue 17)
    assert (
        f"trusted root: --trusted-root {root} ({_sha256(dev.trusted_root_path)})"
        in r["path"].stderr
    )

    refusals = {
        "refused": "signer_not_allowed",
        "no_key": "verification_material_mismatch",
        "public_good": "certificate_chain_invalid",
    }
    for name, reason in refusals.items():
        assert r[name].returncode == 1, (name, r[name].stderr)
        report = r[name].json()
        assert report["result"] == "refused" and report["reasons"] == [reason], name
    assert "embedded in sigstore-python" in r["public_good"].json()["trusted_root"]["source"]
    assert r["no_network"].returncode == 3
    assert "--offline" in r["no_network"].stderr  # the hint: the shipped root needs no network

    shipped = tmp_path / "shipped.json"
    assert r["export_offline"].returncode == 0, r["export_offline"].stderr
    assert f"embedded in sigstore-python 4.5.1 ({_sha256(shipped)})" in r["export_offline"].stderr
    assert r["public_good"].json()["trusted_root"]["digest"] == _sha256(shipped)
    assert (tmp_path / "dev.json").read_bytes() == dev.trusted_root_path.read_bytes()
    assert f"devinstance {dev.dir / 'trusted_root.json'}" in r["export_dev"].stderr
    assert "trust config" in r["export_env"].stderr
    assert json.loads((tmp_path / "env.json").read_text()) == json.loads(
        dev.trusted_root_path.read_text()
    )
    assert r["export_taken"].returncode == 2 and "--force" in r["export_taken"].stderr
    assert (tmp_path / "taken.json").read_text() == "{}"
    assert r["export_wrong"].returncode == 3 and "--trust-config" in r["export_wrong"].stderr
    assert not (tmp_path / "wrong.json").exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left

"""The ``devinstance`` commands: ``serve`` as a real process, ``token`` through click."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jwt
from click.testing import CliRunner
from sigstore.models import ClientTrustConfig, TrustedRoot
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext
from sigstore.verify import Verifier
from sigstore.verify.policy import Identity

from provenance._cli.devinstance_cmd import devinstance
from provenance.devinstance import DEFAULT_ISSUER
from tests.devinstance._support import IDENTITY, statement

ROOT = Path(__file__).resolve().parents[2]


def _token(directory: Path, *extra: str) -> str:
    result = CliRunner().invoke(
        devinstance, ["token", "--dir", str(directory), "--identity", IDENTITY, *extra]
    )
    assert result.exit_code == 0, result.output
    return result.output.strip()


def _wait_for(path: Path, proc: subprocess.Popen[bytes], timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, "serve exited before it was ready"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)
    return path.read_text().strip()


def test_token_command_needs_no_server(tmp_path: Path) -> None:
    claims = jwt.decode(_token(tmp_path), options={"verify_signature": False})
    expired = jwt.decode(_token(tmp_path, "--ttl=-60"), options={"verify_signature": False})

    assert claims["iss"] == DEFAULT_ISSUER and claims["sub"] == IDENTITY
    assert claims["aud"] == "sigstore" and claims["email_verified"] is True
    assert expired["exp"] < time.time()


def test_token_command_refuses_bad_identity(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        devinstance, ["token", "--dir", str(tmp_path), "--identity", "nobody"]
    )

    assert result.exit_code != 0
    assert "neither an email address nor a URI" in str(result.exception)


def test_serve_process_signs_and_stops_on_sigterm(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "provenance._cli.devinstance_cmd", "serve"]
    command += ["--dir", str(tmp_path), "--rekor-version", "2"]
    proc = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, env={**os.environ})
    try:
        url = _wait_for(tmp_path / "url", proc)
        config = ClientTrustConfig.from_json((tmp_path / "trust_config.json").read_text())
        context = SigningContext.from_trust_config(config)
        with context.signer(IdentityToken(_token(tmp_path))) as signer:
            bundle = signer.sign_dsse(statement())
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)

    assert proc.returncode == 0, stderr.decode()
    assert url in stderr.decode() and "trust_config.json" in stderr.decode()
    assert not (tmp_path / "url").exists()
    root = TrustedRoot.from_file(str(tmp_path / "trusted_root.json"))
    payload_type, _ = Verifier(trusted_root=root).verify_dsse(
        bundle, Identity(identity=IDENTITY, issuer=DEFAULT_ISSUER)
    )
    assert payload_type == "application/vnd.in-toto+json"

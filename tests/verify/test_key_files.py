"""Managed key files (issue 17, item 7): an encrypted PEM key takes its passphrase from
``PROVENANCE_KEY_PASSPHRASE`` (or a prompt at a terminal), never echoed; a private key others
can read is refused like a loose salt file (THREATS.md G55: whoever reads it signs as you).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from provenance.app.credentials import is_withheld
from tests.helpers import SSO_CALLBACK, GitRepo, Result

PASSPHRASE = "correct horse battery staple"


def make(tmp_path: Path) -> tuple[GitRepo, Path, list[str]]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    repo = GitRepo.init(tmp_path / "repo")
    policy = 'version = 1\n\n[[signers]]\nkey = "keys/agent.pub.pem"\n'
    repo.commit("policy", {".provenance/policy.toml": policy,
                           ".provenance/keys/agent.pub.pem": public.decode()})  # fmt: skip
    repo.commit("Add SSO callback", {"app/auth/sso.py": SSO_CALLBACK})
    private = tmp_path / "agent.key.pem"
    encryption = serialization.BestAvailableEncryption(PASSPHRASE.encode())
    pkcs8 = serialization.PrivateFormat.PKCS8
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, pkcs8, encryption))
    private.chmod(0o600)
    task = tmp_path / "task.md"
    task.write_text("add SSO\n")
    args = ["stamp", "--key", str(private), "--agent", "claude-code@2.1.0", "--model", "m",
            "--prompter", "alice@example.com", "--prompt-file", str(task), "HEAD"]  # fmt: skip
    return repo, private, args


def cli(args: list[str], cwd: Path, **env: str) -> Result:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "provenance"), *args], cwd=cwd,
        env={**base, **env}, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    return Result(proc.returncode, proc.stdout, proc.stderr)


def notes(repo: GitRepo) -> str:
    return repo.git("notes", "--ref=refs/notes/provenance", "list")


def test_encrypted_key_signs_with_the_passphrase_from_the_environment(tmp_path: Path) -> None:
    repo, _, args = make(tmp_path)
    missing = cli(args, repo.path)
    assert missing.returncode == 3, missing.stderr
    assert "is encrypted and no passphrase was given" in missing.stderr
    assert "PROVENANCE_KEY_PASSPHRASE" in missing.stderr and "is now pending" in missing.stderr
    assert notes(repo) == ""

    wrong = cli(args, repo.path, PROVENANCE_KEY_PASSPHRASE="tr0ub4dor")
    assert wrong.returncode == 3 and "wrong passphrase" in wrong.stderr
    assert "tr0ub4dor" not in wrong.stderr + wrong.stdout  # never echoed

    signed = cli(args, repo.path, PROVENANCE_KEY_PASSPHRASE=PASSPHRASE)
    assert signed.returncode == 0, signed.stderr
    assert PASSPHRASE not in signed.stderr + signed.stdout
    assert repo.git("rev-parse", "HEAD") in notes(repo)
    verified = cli(["verify", "--offline", "--trusted-root", os.devnull, "HEAD"], repo.path)
    assert "OK" in verified.stdout, verified.stdout + verified.stderr


def test_a_private_key_others_can_read_is_refused(tmp_path: Path) -> None:
    repo, private, args = make(tmp_path)
    private.chmod(0o644)
    loose = cli(args, repo.path, PROVENANCE_KEY_PASSPHRASE=PASSPHRASE)
    assert loose.returncode == 3, loose.stderr
    assert f"private key {private} is readable or writable by others (mode 644)" in loose.stderr
    assert f"hint: chmod 600 {private}" in loose.stderr
    assert notes(repo) == ""


def test_the_passphrase_is_withheld_from_a_wrapped_agent() -> None:
    """THREATS.md G55: the agent under `provenance run` never sees it."""
    assert is_withheld("PROVENANCE_KEY_PASSPHRASE")

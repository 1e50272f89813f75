"""The wrapper's signing path cannot be redirected from the work tree or by swapping its inputs.

Real git, real CLI processes, the local Sigstore instance, and a real HTTP listener standing
in for a Fulcio the agent would run: it records every request it gets (THREATS.md G54, G55).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from provenance.app.run import run_session
from provenance.devinstance import DevInstance
from provenance.errors import ConfigError, UsageError
from provenance.record.capture import read_salt
from provenance.sign.signing import SigningOptions
from tests.app.test_run import GIT_IDENTITY, script
from tests.conftest import AGENT_ID, Golden, make_golden, session

ROOT = Path(__file__).resolve().parents[2]
#: A package that, if ever imported, leaves a sentinel and writes out the wrapper's environment.
PLANTED = """import os, sys
with open({sentinel!r}, "a") as f:
    f.write(f"{{os.getuid()}} {{sys.argv!r}}\\n")
    f.write("\\n".join(f"{{k}}={{v}}" for k, v in os.environ.items()))
raise SystemExit("planted module ran")
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, dev: DevInstance) -> Golden:
    return make_golden(tmp_path_factory.mktemp("isolation"), dev)


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in GIT_IDENTITY.items():
        monkeypatch.setenv(key, value)


class Catcher(BaseHTTPRequestHandler):
    """Records every request: what a Fulcio run by the agent would learn."""

    seen: list[str] = []

    def _record(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Catcher.seen.append(f"{self.command} {self.path} {dict(self.headers)} {body!r}")
        self.send_response(500)
        self.end_headers()

    do_GET = do_POST = _record

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def catcher() -> Iterator[str]:
    Catcher.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Catcher)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def _plant(directory: Path, package: str, sentinel: Path) -> None:
    (directory / package).mkdir(exist_ok=True)
    (directory / package / "__init__.py").write_text(PLANTED.format(sentinel=str(sentinel)))


def test_signing_imports_nothing_new_once_preloaded(dev: DevInstance, tmp_path: Path) -> None:
    """THREATS.md G54: everything signing needs is in memory before the agent starts."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = tmp_path / "key.pem"
    key.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key.chmod(0o600)  # a private key others can read is refused
    child = """
import sys
from pathlib import Path
import provenance._cli, provenance._cli.run, provenance.app.run
from provenance.sign.signing import SigningOptions, pin_signing, sign
key, token, trust = sys.argv[1:]
keyed = pin_signing(SigningOptions(key=key), None)
keyless = pin_signing(SigningOptions(identity_token=token, trust_config=Path(trust)), None)
before = set(sys.modules)
stmt = (b'{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":'
        b'{"sha256":"' + b"0" * 64 + b'"}}],"predicateType":"https://example.com/p",'
        b'"predicate":{}}')
sign(stmt, keyed)
sign(stmt, keyless)
print(sorted(set(sys.modules) - before))
"""
    proc = subprocess.run(
        [sys.executable, "-c", child, str(key), dev.issue_token(AGENT_ID),
         str(dev.trust_config_path)],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_python_dash_m_imports_nothing_from_the_working_directory(tmp_path: Path) -> None:
    """THREATS.md G54: packages planted where the wrapper runs are never imported."""
    sentinel = tmp_path / "sentinel"
    for package in ("click", "sigstore", "pydantic"):
        _plant(tmp_path, package, sentinel)
    bundle = tmp_path / "bundle.json"
    bundle.write_text("{}")
    proc = subprocess.run(
        [sys.executable, "-m", "provenance", "verify-bundle", "--bundle", str(bundle),
         "--certificate-identity", "a", "--certificate-oidc-issuer", "b", "--offline",
         "--trusted-root", str(bundle), "sha256:" + "0" * 64],
        cwd=tmp_path, capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert not sentinel.exists(), sentinel.read_text()
    assert "planted module ran" not in proc.stderr
    assert proc.returncode in (1, 3), proc.stderr  # it ran its own code and refused the junk


def _agent_commit(
    lab: Golden, search_path: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """``scripts/agent-commit ... HEAD`` from the work tree, with ``search_path`` as PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE")}
    env.update(GIT_IDENTITY)
    env["PATH"] = search_path
    env["PROVENANCE_IDENTITY_TOKEN"] = lab.inst.issue_token(AGENT_ID)
    env["PROVENANCE_TRUST_CONFIG"] = str(lab.inst.trust_config_path)
    proc = subprocess.run(
        [str(ROOT / "scripts" / "agent-commit"), "--agent", "aider@0.86", "--model", "gpt-5",
         "--prompter", "bob@example.com", "--prompt-digest", "sha256:" + "4" * 64, "HEAD"],
        cwd=lab.repo.path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return proc, env


def test_agent_commit_never_imports_from_the_work_tree(lab: Golden, tmp_path: Path) -> None:
    """THREATS.md G54: scripts/agent-commit runs the console script, not `python -m`."""
    repo = lab.repo
    sentinel = tmp_path / "sentinel"
    for package in ("sigstore", "securesystemslib", "provenance"):
        _plant(repo.path, package, sentinel)
    repo.commit("agent: more SSO", {"app/auth/sso.py": "def sso():\n    return True\n"})
    proc, _ = _agent_commit(lab, "/usr/bin:/bin")  # no provenance on PATH: the checkout's .venv
    for package in ("sigstore", "securesystemslib", "provenance"):
        subprocess.run(["rm", "-rf", str(repo.path / package)], check=True)
    assert not sentinel.exists(), sentinel.read_text()
    assert proc.returncode == 0, proc.stderr
    assert lab.verify("HEAD").commits[0].status == "ok"


def test_agent_commit_never_finds_provenance_on_a_path_the_agent_writes(
    lab: Golden, tmp_path: Path
) -> None:
    """THREATS.md G53 (variant): a ``provenance`` in a relative PATH entry is the agent's."""
    repo = lab.repo
    sentinel = tmp_path / "sentinel"
    fake = repo.path / "bin" / "provenance"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\necho \"$*\" > '{sentinel}'\n")
    fake.chmod(0o755)
    repo.commit("agent: even more SSO", {"app/auth/sso.py": "def sso():\n    return 2\n"})
    proc, env = _agent_commit(lab, "bin:/usr/bin:/bin")
    subprocess.run(["rm", "-rf", str(fake.parent)], check=True)
    assert not sentinel.exists(), sentinel.read_text()
    assert proc.returncode == 0, proc.stderr
    assert lab.verify("HEAD").commits[0].status == "ok"
    relative = subprocess.run(
        [str(ROOT / "scripts" / "agent-commit"), "--help"],
        env={**env, "PROVENANCE": "bin/provenance"}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert relative.returncode == 2 and "absolute path" in relative.stderr


def test_a_trust_config_swapped_during_the_session_is_not_used(
    lab: Golden, tmp_path: Path, catcher: str
) -> None:
    """THREATS.md G55: Fulcio, Rekor and TSA are fixed before the agent runs."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    trust = private / "trust_config.json"
    original = lab.inst.trust_config_path.read_text()
    trust.write_text(original)
    swapped = private / "swapped.json"
    swapped.write_text(original.replace(lab.inst.url, catcher))
    token = lab.inst.issue_token(AGENT_ID)
    agent = f"""#!/bin/sh
set -e
printf 'def swap():\\n    return 1\\n' > app/auth/swap.py
git add -A && git commit -q -m "agent: swap"
cp '{swapped}' '{trust}'
"""
    done = run_session(
        lab.repo.path,
        script(tmp_path / "agent.sh", agent),
        session(),
        SigningOptions(identity_token=token, trust_config=trust),
        cwd=lab.repo.path,
    )
    assert len(done.stamped) == 1 and not done.pending
    assert Catcher.seen == []
    assert lab.verify("HEAD").commits[0].status == "ok"
    assert json.loads(trust.read_text()) != json.loads(original)  # the swap did happen


@pytest.mark.parametrize("where", ["work tree", "group-writable", "open directory"])
def test_signing_inputs_someone_else_could_write_are_refused(
    lab: Golden, tmp_path: Path, where: str
) -> None:
    """THREATS.md G55: a trust config or key the agent could replace stops the run at once."""
    sentinel = tmp_path / "agent-ran"
    if where == "work tree":
        trust = lab.repo.path / "trust_config.json"
    elif where == "group-writable":
        trust = tmp_path / "trust_config.json"
    else:
        shared = tmp_path / "shared"
        shared.mkdir()
        shared.chmod(0o777)  # writable by anyone, no sticky bit: the file can be replaced
        trust = shared / "trust_config.json"
    trust.write_text(lab.inst.trust_config_path.read_text())
    if where == "group-writable":
        trust.chmod(trust.stat().st_mode | stat.S_IWGRP)
    try:
        with pytest.raises(UsageError, match="--trust-config"):
            run_session(
                lab.repo.path,
                ["sh", "-c", f"touch '{sentinel}'"],
                session(),
                SigningOptions(identity_token="unused", trust_config=trust),
            )
    finally:
        trust.unlink()
    assert not sentinel.exists()


def test_a_salt_others_could_write_is_refused(tmp_path: Path) -> None:
    """THREATS.md G55: an agent that can replace the salt would know the prompt commitment."""
    salt = tmp_path / "salt"
    salt.write_bytes(os.urandom(32))
    salt.chmod(0o600)
    assert len(read_salt(salt)) == 32
    tmp_path.chmod(0o770)
    with pytest.raises(ConfigError, match="writable by other users"):
        read_salt(salt)

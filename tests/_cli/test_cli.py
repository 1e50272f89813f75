"""The CLI contract: exit codes 0/1/2/3, JSON shape, help that teaches, pending on failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.devinstance import DevInstance
from tests.conftest import AGENT_ID, Golden
from tests.helpers import GitRepo


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(env or {})}
    full.pop("PROVENANCE_IDENTITY_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "provenance", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        check=False,
    )


def offline(g: Golden) -> list[str]:
    return ["--offline", "--trusted-root", str(g.inst.trusted_root_path)]


@pytest.mark.parametrize(
    "command",
    ["", "init", "stamp", "verify", "show", "demo", "devinstance serve", "devinstance token"],
)
def test_help_teaches(command: str, tmp_path: Path) -> None:
    proc = run([*command.split(), "--help"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Usage:" in proc.stdout and len(proc.stdout) > 200


def test_verify_json_contract_and_exit_codes(golden: Golden) -> None:
    proc = run(["verify", *offline(golden), "--format", "json", golden.commit], golden.repo.path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["result"] == "passed"
    (entry,) = data["commits"]
    assert (entry["commit"], entry["status"], entry["reasons"]) == (golden.commit, "ok", [])
    assert entry["attestations"][0]["signer"] == AGENT_ID
    # the parent has no attestation: refused, exit 1, reason code in JSON
    proc = run(["verify", *offline(golden), "--format", "json", "HEAD~1"], golden.repo.path)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["commits"][0]["reasons"] == ["attestation_missing"]


def test_usage_errors_exit_2(golden: Golden) -> None:
    assert run(["verify", *offline(golden), "no-such-rev"], golden.repo.path).returncode == 2
    assert run(["verify", "--offline", "HEAD"], golden.repo.path).returncode == 2
    proc = run(["stamp", "--agent", "a", "--model", "m", "--prompter", "p"], golden.repo.path)
    assert proc.returncode == 2 and "--prompt-file" in proc.stderr
    assert run(["verify"], golden.repo.path).returncode == 2


def test_could_not_decide_exit_3(tmp_path: Path, dev: DevInstance) -> None:
    repo = GitRepo.init(tmp_path / "r")
    repo.commit("x", {"a.py": "x"})
    proc = run(["verify", "--trusted-root", str(dev.trusted_root_path), "HEAD"], repo.path)
    assert proc.returncode == 3 and "no .provenance/policy.toml" in proc.stderr
    repo.commit("p", {".provenance/policy.toml": "version = 1\n"})
    proc = run(["verify", "--trusted-root", str(dev.trusted_root_path), "HEAD"], repo.path)
    assert proc.returncode == 3 and "no [[signers]]" in proc.stderr
    repo.commit("p", {".provenance/policy.toml": "version = 1\nsignerz = []\n"})
    proc = run(["verify", "--trusted-root", str(dev.trusted_root_path), "HEAD"], repo.path)
    assert proc.returncode == 3 and "signerz" in proc.stderr


def test_failed_signing_exits_3_and_leaves_the_commit_pending(golden: Golden) -> None:
    sha = golden.repo.commit("more sso", {"app/auth/sso.py": "# changed\n"})
    expired = golden.inst.issue_token(AGENT_ID, ttl=-60)
    proc = run(
        [
            "stamp",
            "--agent",
            "a@1",
            "--model",
            "m",
            "--prompter",
            "p@example.com",
            "--prompt-digest",
            "sha256:" + "1" * 64,
            "--identity-token",
            expired,
            "--trust-config",
            str(golden.inst.trust_config_path),
        ],
        golden.repo.path,
    )
    assert proc.returncode == 3, proc.stderr
    pending = golden.repo.git("notes", "--ref=refs/notes/provenance-pending", "show", sha)
    assert json.loads(pending)["pending"] is True
    report = golden.verify(sha)
    assert report.commits[0].reasons == (
        "attestation_pending",
    )  # pending is still missing, named as such


def test_stamp_cli_with_token_file_and_env_trust_config(golden: Golden, tmp_path: Path) -> None:
    sha = golden.repo.commit("scim", {"app/scim/users.py": "def deprovision(user): ...\n"})
    token_file = tmp_path / "token.jwt"
    token_file.write_text(golden.inst.issue_token(AGENT_ID))
    proc = run(
        [
            "stamp",
            "--agent",
            "claude-code@2",
            "--model",
            "m",
            "--prompter",
            "p@example.com",
            "--prompt-digest",
            "sha256:" + "2" * 64,
            "--identity-token",
            f"@{token_file}",
            sha,
        ],
        golden.repo.path,
        env={"PROVENANCE_TRUST_CONFIG": str(golden.inst.trust_config_path)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("sha256:") and len(proc.stdout.strip()) == 71
    proc = run(["show", *offline(golden), "--format", "json", sha], golden.repo.path)
    shown = json.loads(proc.stdout)["commits"][0]["attestations"][0]
    assert shown["predicate"]["agent"]["tool"] == "claude-code"
    prompt = shown["predicate"]["prompt"]
    assert (prompt["algorithm"], prompt["digest"]) == ("sha256", "2" * 64)
    assert "prompt_text" not in json.dumps(shown)


def test_init_writes_a_valid_policy_and_refuses_to_overwrite(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "r")
    assert (
        run(
            ["init", "--issuer", "https://i.example", "--identity", "bot@example.com"], repo.path
        ).returncode
        == 0
    )
    text = (repo.path / ".provenance" / "policy.toml").read_text()
    assert 'identity = "bot@example.com"' in text
    assert run(["init"], repo.path).returncode == 2
    assert run(["init", "--force"], repo.path).returncode == 0


def _netns_available() -> bool:
    try:
        return subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0
    except FileNotFoundError:
        return False


def test_offline_verify_needs_no_network(golden: Golden) -> None:
    """Same verdict in a process that has no network at all (or sockets forbidden)."""
    args = [
        sys.executable,
        "-m",
        "provenance",
        "verify",
        *offline(golden),
        "--format",
        "json",
        "HEAD",
    ]
    if _netns_available():
        args = ["unshare", "-rn", *args]
    proc = subprocess.run(args, cwd=golden.repo.path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"] == "passed"


def test_offline_flag_forbids_sockets_in_process(golden: Golden) -> None:
    code = (
        "import socket, sys\n"
        "from provenance.app.options import forbid_network\n"
        "forbid_network()\n"
        "try:\n    socket.create_connection(('127.0.0.1', 9))\nexcept OSError as e:\n"
        "    sys.exit(0 if 'offline' in str(e) else 1)\n"
        "sys.exit(1)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_an_unexpected_failure_is_could_not_decide_never_refused_or_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A crash (a broken worker pool, a bug) must not read as a verdict: exit 3, with a hint.
    import provenance.app.gate as verify_module
    from provenance._cli import main

    repo = GitRepo.init(tmp_path / "repo")
    repo.commit("one", {"a.txt": "a\n"})

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("worker pool broke")

    monkeypatch.setattr(verify_module, "verify", crash)
    monkeypatch.setattr(sys, "argv", ["provenance", "verify", "--repo", str(repo.path), "HEAD"])
    with pytest.raises(SystemExit) as e:
        main()
    assert e.value.code == 3
    err = capsys.readouterr().err
    assert "internal error (RuntimeError: worker pool broke); nothing was decided" in err

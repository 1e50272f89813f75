"""Every report names the trusted root that decided and where it came from (THREATS.md G51).

``PROVENANCE_TRUST_CONFIG`` used to redirect the gate to another Sigstore instance without a
word in any report. Text, JSON, SARIF and the VSA now carry the root's sha256 and its source
(``--trusted-root``, ``--trust-config``, the environment variable, production through TUF,
or an evidence pack's pin), and a one-commit VSA needs a policy from outside the candidate.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.verify.sigstore_adapter import load_trusted_root, root_digest
from provenance.verify.trust import TrustSource
from tests.conftest import Golden
from tests.helpers import Result


def run(golden: Golden, *args: str, env: dict[str, str] | None = None) -> Result:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    proc = subprocess.run(
        [sys.executable, "-m", "provenance", *args],
        cwd=golden.repo.path, env={**base, **(env or {})}, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _file_digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_json_and_text_name_a_pinned_root(golden: Golden) -> None:
    """THREATS.md G51: ``--trusted-root FILE``: its digest, the flag, the path."""
    root = golden.inst.trusted_root_path
    result = run(golden, "verify", "--offline", "--trusted-root", str(root), "--format", "json",
                 "HEAD")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.json()["trusted_root"] == {
        "source": "--trusted-root", "path": str(root), "digest": _file_digest(root),
    }  # fmt: skip
    text = run(golden, "verify", "--offline", "--trusted-root", str(root), "HEAD")
    assert f"trusted root {_file_digest(root)} from --trusted-root {root}" in text.stdout


def test_the_environment_variable_is_named_as_the_source(golden: Golden) -> None:
    """THREATS.md G51: the gate says so when PROVENANCE_TRUST_CONFIG chose the instance."""
    config = golden.inst.trust_config_path
    env = {"PROVENANCE_TRUST_CONFIG": str(config)}
    result = run(golden, "verify", "--offline", "--format", "json", "HEAD", env=env)
    assert result.returncode == 0, result.stderr
    expected = TrustSource(trust_config=config).pinned_digest()
    assert result.json()["trusted_root"] == {
        "source": "PROVENANCE_TRUST_CONFIG", "path": str(config), "digest": expected,
    }  # fmt: skip
    assert "from PROVENANCE_TRUST_CONFIG" in result.stderr
    flag = run(golden, "verify", "--offline", "--trust-config", str(config), "--format", "json",
               "HEAD")  # fmt: skip
    assert flag.json()["trusted_root"]["source"] == "--trust-config"
    assert "PROVENANCE_TRUST_CONFIG" not in flag.stderr


def test_every_verifying_command_names_the_environment_variable(golden: Golden) -> None:
    """THREATS.md G51: ``pending`` (a report with its root) said --trust-config before."""
    config = golden.inst.trust_config_path
    env = {"PROVENANCE_TRUST_CONFIG": str(config)}
    base = golden.repo.git("rev-parse", "HEAD~1")
    result = run(golden, "pending", "--offline", "--format", "json", f"{base}..HEAD", env=env)
    assert result.returncode == 0, result.stderr
    assert result.json()["trusted_root"]["source"] == "PROVENANCE_TRUST_CONFIG"
    assert "from PROVENANCE_TRUST_CONFIG" in result.stderr


def test_sarif_and_the_vsa_carry_the_root(golden: Golden, tmp_path: Path) -> None:
    """THREATS.md G51: the machine formats name it too (SARIF run properties, VSA predicate)."""
    root = golden.inst.trusted_root_path
    vsa = tmp_path / "vsa.json"
    base = golden.repo.git("rev-parse", "HEAD~1")
    result = run(golden, "verify", "--offline", "--trusted-root", str(root), "--format", "sarif",
                 "--vsa", str(vsa), f"{base}..HEAD")  # fmt: skip
    assert result.returncode == 0, result.stderr
    properties = json.loads(result.stdout)["runs"][0]["properties"]
    assert properties["trusted_root"]["digest"] == _file_digest(root)
    predicate = json.loads(vsa.read_bytes())["predicate"]
    assert predicate["trustedRoot"] == {
        "name": "--trusted-root", "uri": str(root),
        "digest": {"sha256": _file_digest(root).removeprefix("sha256:")},
    }  # fmt: skip


def test_a_one_commit_vsa_needs_a_policy_from_outside_the_candidate(
    golden: Golden, tmp_path: Path
) -> None:
    """THREATS.md G51: ``verify HEAD --vsa`` would vouch with HEAD's own policy: refused."""
    root = golden.inst.trusted_root_path
    vsa = tmp_path / "vsa.json"
    common = ["verify", "--offline", "--trusted-root", str(root), "--vsa", str(vsa)]
    refused = run(golden, *common, "HEAD")
    assert refused.returncode == 2 and "--policy" in refused.stderr
    assert not vsa.exists()
    policy = tmp_path / "policy.toml"
    policy.write_bytes((golden.repo.path / ".provenance/policy.toml").read_bytes())
    passed = run(golden, *common, "--policy", str(policy), "HEAD")
    assert passed.returncode == 0, passed.stderr
    assert json.loads(vsa.read_bytes())["predicate"]["policy"]["uri"] == str(policy)


def test_production_is_named_and_digested_only_when_loaded(golden: Golden) -> None:
    """THREATS.md G51: no bundle, no TUF fetch, no digest to claim; the source is still named."""
    golden.repo.commit("docs", {"docs/x.md": "x\n"})
    base = golden.repo.git("rev-parse", "HEAD~1")
    result = run(golden, "verify", "--format", "json", f"{base}..HEAD")
    assert result.returncode == 0, result.stderr
    assert result.json()["trusted_root"] == {
        "source": "sigstore production (TUF)", "path": None, "digest": None,
    }  # fmt: skip


@pytest.mark.parametrize("which", ["production", "staging"])
def test_a_loaded_root_has_a_digest(which: str) -> None:
    """Where no file was pinned, the root sigstore loaded is digested (for the report)."""
    from tests.helpers import INTEROP

    path = INTEROP / f"trusted_root.{which}.json"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    digest = root_digest(load_trusted_root(path, None))
    assert digest is not None and digest.startswith("sha256:") and len(digest) == 71

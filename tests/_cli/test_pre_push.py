"""``provenance hooks install --pre-push`` (issue 17, item 3): a push of commits the gate
would refuse is refused locally, before anything leaves the clone; attested commits, and a
push with nothing new, go through. The hook runs in real ``git push`` to a bare remote.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from provenance.app.hooks import PRE_PUSH_HOOK, PRE_PUSH_MARKER, install_hook, uninstall_hook
from tests.conftest import Golden
from tests.helpers import SSO_CALLBACK, GitRepo


def push(golden: Golden, remote: Path, *refs: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")},
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "HOME": str(golden.repo.path),
        "PROVENANCE_TRUST_CONFIG": str(golden.inst.trust_config_path),
    }
    return subprocess.run(
        ["git", "-C", str(golden.repo.path), "push", str(remote), *refs],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_pre_push_refuses_unattested_identity_commits(golden: Golden, tmp_path: Path) -> None:
    """THREATS.md G1: an unattested identity change does not leave the clone unnoticed."""
    remote = GitRepo.init(tmp_path / "remote.git", bare=True).path
    assert push(golden, remote, "HEAD~1:refs/heads/main").returncode == 0  # the policy, by a human
    done = install_hook(golden.repo.path, kind=PRE_PUSH_HOOK)
    assert PRE_PUSH_MARKER in done.path.read_text() and done.path.name == "pre-push"

    attested = push(golden, remote, "main")  # the stamped SSO commit
    assert attested.returncode == 0, attested.stderr
    unattested = golden.repo.commit("more SSO", {"app/auth/sso2.py": SSO_CALLBACK})
    refused = push(golden, remote, "main")
    assert refused.returncode != 0, refused.stderr
    assert f"FAIL {unattested[:12]}" in refused.stderr
    assert "attestation_missing" in refused.stderr
    assert "not pushing refs/heads/main" in refused.stderr
    assert GitRepo(remote).git("rev-parse", "main") == golden.commit  # nothing moved

    golden.stamp()  # attested now: the same push goes through
    again = push(golden, remote, "main")
    assert again.returncode == 0, again.stderr
    assert GitRepo(remote).git("rev-parse", "main") == unattested

    assert uninstall_hook(golden.repo.path, PRE_PUSH_HOOK) == done.path
    assert not done.path.exists()

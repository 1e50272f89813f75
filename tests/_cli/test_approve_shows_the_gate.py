"""``approve`` shows the gate's verdict, not only the stamp's (THREATS.md G57 (variant)).

``stamp`` records a verdict from plain per-parent diffs (no sources, no symlink aliases, no
merge context), so for an early return above an ownership check, which the gate refuses as
``code.guard-flow``, the red-team review's approver read "0 identity-related path(s)" with
``--show-diff`` and signed. Real git, real stamps, the real CLI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.app.stamp import stamp
from provenance.devinstance import DevInstance
from provenance.policy import render_template
from provenance.sign.signing import SigningOptions
from tests.conftest import AGENT_ID, session
from tests.helpers import GitRepo

VIEW = (
    "def show(request, pk):\n"
    "    {early}doc = get_object_or_404(Document, pk=pk, owner=request.user)\n"
    '    return render(request, "doc.html", {{"doc": doc}})\n'
)
EARLY = (
    'if request.GET.get("embed"):\n'
    '        return render(request, "doc.html", {"doc": Document.objects.get(pk=pk)})\n    '
)


def _approve(repo: GitRepo, dev: DevInstance, sha: str, base: str) -> str:
    token = repo.path.parent / "bob.jwt"
    token.write_text(dev.issue_token("bob@example.com"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    proc = subprocess.run(
        [sys.executable, "-m", "provenance", "approve", sha, "--base", base, "--show-diff",
         "--yes", "--identity-token", f"@{token}", "--trust-config",
         str(dev.trust_config_path), "--trusted-root", str(dev.trusted_root_path)],
        cwd=repo.path, env=env, capture_output=True, text=True, check=False,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


@pytest.fixture
def repo(tmp_path: Path, dev: DevInstance) -> GitRepo:
    repo = GitRepo.init(tmp_path / "repo")
    policy = render_template(dev.default_issuer, AGENT_ID)
    repo.commit("policy", {".provenance/policy.toml": policy, "README.md": "app\n"})
    return repo


def _stamped(repo: GitRepo, dev: DevInstance, files: dict[str, str]) -> str:
    sha = repo.commit("agent change", files)
    agent = SigningOptions(
        identity_token=dev.issue_token(AGENT_ID), trust_config=dev.trust_config_path
    )
    stamp(repo.path, sha, session(), agent)
    return sha


def test_an_early_return_above_an_ownership_check_is_shown(repo: GitRepo, dev: DevInstance) -> None:
    """THREATS.md G57 (variant): the reproducer's case, ``code.guard-flow``."""
    base = repo.commit("doc view", {"app/views.py": VIEW.format(early="")})
    sha = _stamped(repo, dev, {"app/views.py": VIEW.format(early=EARLY)})
    screen = _approve(repo, dev, sha, base)
    summary = screen[screen.rindex(f"-- approve {sha[:12]}") :]
    assert "1 identity-related path(s)" in summary, screen
    assert "app/views.py  [code.guard-flow]" in summary
    assert "the stamp recorded 0 identity-related path(s)" in summary
    assert '+    if request.GET.get("embed"):' in screen  # the hunk itself, with --show-diff


def test_an_edit_through_a_symlink_at_base_is_shown(repo: GitRepo, dev: DevInstance) -> None:
    """THREATS.md G57 (variant): ``git.symlink-alias``, which the stamp cannot see."""
    repo.commit("core", {"lib/core/verify.py": "def add(a, b):\n    return a + b\n"})
    (repo.path / "app").mkdir(exist_ok=True)
    (repo.path / "app" / "sso").symlink_to("../lib/core")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "link")
    base = repo.git("rev-parse", "HEAD")
    sha = _stamped(repo, dev, {"lib/core/verify.py": "def verify(token):\n    return True\n"})
    screen = _approve(repo, dev, sha, base)
    summary = screen[screen.rindex(f"-- approve {sha[:12]}") :]
    assert "1 identity-related path(s)" in summary, screen
    assert "git.symlink-alias" in summary and "lib/core/verify.py" in summary
    assert "+def verify(token):" in screen

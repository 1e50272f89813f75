"""What reaches the approver's terminal: escaped fields, the summary last, the base's policy.

Real repositories with hostile path names and messages, stamped and approved against the local
Sigstore instance through the installed CLI (THREATS.md G56, G57, G58).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provenance.app.approve import preview
from provenance.app.options import VerifyOptions
from provenance.app.stamp import stamp
from provenance.audit.models import LogEntry
from provenance.audit.render import render_log
from provenance.devinstance import DevInstance
from provenance.display import shown, shown_path, terminal_safe, warnings
from provenance.errors import ConfigError, UsageError
from provenance.gitio import Git
from provenance.sign.signing import SigningOptions
from tests._cli.test_approve_cli import _policy, run
from tests.conftest import AGENT_ID, session
from tests.helpers import GitRepo

ESC_PATH = "app/auth/\x1b[2K\rok/sso.py"
NEWLINE_PATH = "app/auth/a\nREADME.md | +1 -0/sso.py"
BIDI_PATH = "app/auth/\u202eyp.nigol.py"
HOMOGLYPH_PATH = "app/\u0430uth/sso.py"
HIDDEN = ("\x1b", "\r", "\u202e", "\u200b")


@dataclass
class Hostile:
    repo: GitRepo
    inst: DevInstance
    base: str
    commit: str
    bob: Path


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, dev: DevInstance) -> Hostile:
    root = tmp_path_factory.mktemp("hostile")
    repo = GitRepo.init(root / "repo")
    base = repo.commit("policy", {".provenance/policy.toml": _policy(dev.default_issuer)})
    files = {p: "def login(user):\n    return True\n" for p in (ESC_PATH, NEWLINE_PATH)}
    files |= {BIDI_PATH: "ADMIN = True\n", HOMOGLYPH_PATH: "ADMIN = True\n"}
    commit = repo.commit("agent: SSO\x1b[1A\x1b[2K\rdocs only", files)
    stamp(repo.path, commit, session(), SigningOptions(
        identity_token=dev.issue_token(AGENT_ID), trust_config=dev.trust_config_path))  # fmt: skip
    bob = root / "bob.jwt"
    bob.write_text(dev.issue_token("bob@example.com"))
    return Hostile(repo, dev, base, commit, bob)


@given(st.text())
def test_shown_never_lets_a_hidden_character_through(text: str) -> None:
    """THREATS.md G56: controls, format characters and separators always come out escaped."""
    for out in (shown(text), terminal_safe(text).replace("\n", ""), shown_path(text)):
        assert all(
            unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn") for ch in out
        )


def test_paths_that_could_mislead_are_marked() -> None:
    """THREATS.md G56: bidi, invisible, control and mixed-script names carry a visible mark."""
    assert warnings(BIDI_PATH) == ["bidi"]
    assert warnings("app/auth/sso\u200b.py") == ["invisible"]
    assert warnings(ESC_PATH) == ["control"]
    assert warnings(HOMOGLYPH_PATH) == ["mixed-script"]
    assert warnings("docs/日本語/readme.md") == warnings("app/auth/sso.py") == []
    assert shown("a\\x1b") == "a\\\\x1b" != shown("a\x1b")  # an escape is never ambiguous


def test_log_rows_cannot_be_rewritten_by_a_subject() -> None:
    """THREATS.md G56: a commit subject with ESC and CR stays on its own row."""
    entry = LogEntry(
        "a" * 40, "Eve", "2026-01-01", "x\r\x1b[1AFAKE ROW", "evil\x1b[2K", "m", (), "ok"
    )
    table = render_log([entry], "table")
    assert not any(ch in table for ch in HIDDEN)
    assert len(table.splitlines()) == 2 and "\\x1b[1AFAKE ROW" in table


def test_approve_shows_escaped_fields_and_the_summary_right_above_the_question(
    hostile: Hostile,
) -> None:
    """THREATS.md G56, G57: nothing rewrites the preview; what is approved comes last."""
    proc = run(
        ["approve", hostile.commit, "--yes", "--show-diff", "--base", hostile.base,
         "--identity-token", f"@{hostile.bob}", "--trust-config",
         str(hostile.inst.trust_config_path)],
        hostile.repo.path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr
    assert not any(ch in err for ch in HIDDEN), err
    lines = err.splitlines()
    done = next(i for i, ln in enumerate(lines) if ln.startswith("approved "))
    head = next(i for i, ln in enumerate(lines) if ln.startswith("-- approve "))
    summary = lines[head:done]
    assert "4 identity-related path(s)" in summary[0]
    assert any("\\x1b[2K\\rok/sso.py" in ln and "[!control]" in ln for ln in summary)
    assert any("a\\nREADME.md | +1 -0/sso.py" in ln for ln in summary)
    assert any("\\u202eyp.nigol.py" in ln and "[!bidi]" in ln for ln in summary)
    assert any("[!mixed-script]" in ln for ln in summary)
    assert summary[-1].startswith("  by Dev Human <dev@example.com>")
    assert any(ln.startswith("author     Dev Human") for ln in lines[:head])
    assert any("agent: SSO\\x1b[1A\\x1b[2K\\rdocs only" in ln for ln in lines[:head])
    assert "+ADMIN = True" in lines[:head]  # --show-diff: the identity-related lines


def test_approve_verifies_with_the_bases_policy_never_heads(
    hostile: Hostile, dev: DevInstance
) -> None:
    """THREATS.md G58: the agent's branch naming its own key as signer shows nothing valid."""
    repo = hostile.repo
    repo.git("checkout", "-q", "-b", "agent-branch", hostile.commit)
    own = _policy(dev.default_issuer).replace(AGENT_ID, "mallory@example.com")
    policy_commit = repo.commit("agent: trust myself", {".provenance/policy.toml": own})
    forged = repo.commit("agent: admin", {"app/auth/admin.py": "ADMIN = True\n"})
    stamp(repo.path, forged, session(), SigningOptions(
        identity_token=dev.issue_token("mallory@example.com"),
        trust_config=dev.trust_config_path))  # fmt: skip
    options = VerifyOptions(trusted_root=dev.trusted_root_path, offline=True)
    try:
        with pytest.raises(ConfigError, match="no upstream"):
            preview(repo.path, forged, options)  # HEAD is the agent's branch: never its policy
        with pytest.raises(Exception, match="signer_not_allowed"):
            preview(repo.path, forged, options, base=hostile.base)
        repo.git("branch", "-q", "pushed", forged)  # as after `git push -u` of the branch
        repo.git("branch", "-q", "--set-upstream-to", "pushed")
        with pytest.raises(UsageError, match="already contains"):
            preview(repo.path, forged, options)
        with pytest.raises(UsageError, match="already contains"):
            preview(repo.path, policy_commit, options, base=forged)
    finally:
        repo.git("checkout", "-q", "main")
    assert Git.discover(repo.path).root.exists()

"""The demo's incident step: a skill is found poisoned after a release (decision 0018).

Kept apart from :mod:`provenance.app.demo` so that module stays readable; it narrates the
same way, through the real CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from provenance.reasons import Reason
from provenance.record.change import skill_descriptor


class Demo(Protocol):
    """What this step needs of :class:`provenance.app.demo.Demo` (no import cycle)."""

    @property
    def root(self) -> Path: ...

    def say(self, text: str) -> None: ...

    def git(self, *args: str) -> str: ...

    def cli(self, args: Sequence[str], *, expect: int, why: str) -> str: ...

    def expect_reason(self, out: str, reason: str) -> None: ...


SKILL_MD = "---\nname: auth-helper\nversion: 1.0.0\n---\nHelps write OIDC callbacks.\n"


def make_skill(root: Path) -> Path:
    """The skill package the agent uses in the demo (a directory, digested when stamped)."""
    skill = root / "auth-helper"
    skill.mkdir(parents=True, exist_ok=True)
    (skill / "SKILL.md").write_text(SKILL_MD)
    return skill


def revoke_after_release(d: Demo, sha: str, base: str, common: list[str]) -> None:
    """Revoke the skill's digest on an incident branch: impact, then the refused gate."""
    d.say("\n[10/13] After the release the auth-helper skill is found poisoned: revoke it by cause")
    digest = skill_descriptor(str(make_skill(d.root))).digest["sha256"]
    d.git("switch", "-q", "-c", "incident")
    d.cli(
        ["revoke", "--skill", f"auth-helper@sha256:{digest}", "--reason",
         "auth-helper poisoned upstream", "--reference", "INC-7", "--id", "INC-7"],
        expect=0,
        why="one entry in .provenance/revocations.toml: every change made with that skill",
    )  # fmt: skip
    d.git("add", "-A")
    d.git("commit", "-q", "-m", "Revoke the auth-helper skill (INC-7)")
    d.cli(
        ["impact", "--revocation", "INC-7", *common, f"{base}..main"],
        expect=0,
        why="what passed in the release and what is left without the skill's changes",
    )
    out = d.cli(
        ["verify", *common, "--format", "json", sha],
        expect=1,
        why="with the revocation committed, the SSO commit no longer has valid evidence",
    )
    d.expect_reason(out, Reason.REVOKED)
    d.git("switch", "-q", "main")

"""Change records: prompt commitments, skill digests, agent parsing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from provenance.errors import UsageError
from provenance.record.change import (
    directory_digest,
    parse_agent,
    prompt_from_digest,
    prompt_from_text,
    skill_descriptor,
)


def test_prompt_commitments() -> None:
    plain = prompt_from_text(b"add SSO")
    assert plain.algorithm == "sha256" and plain.digest == hashlib.sha256(b"add SSO").hexdigest()
    salted = prompt_from_text(b"add SSO", salt=b"s" * 32)
    assert salted.algorithm == "hmac-sha256" and salted.digest != plain.digest and salted.salt_id
    assert prompt_from_digest("sha256:" + "a" * 64).digest == "a" * 64
    for bad in ("sha256:" + "A" * 64, "sha256:abc", "md5:" + "a" * 32, "a" * 64):
        with pytest.raises(UsageError):
            prompt_from_digest(bad)


def test_parse_agent() -> None:
    assert parse_agent("claude-code@2.1") == ("claude-code", "2.1")
    assert parse_agent("codex") == ("codex", None)
    with pytest.raises(UsageError):
        parse_agent("@1.0")


def _skill(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_directory_digest_ignores_order_and_timestamps_but_not_content_or_mode(
    tmp_path: Path,
) -> None:
    a = _skill(tmp_path / "a", {"SKILL.md": "x", "lib/run.sh": "echo"})
    b = _skill(tmp_path / "b", {"lib/run.sh": "echo", "SKILL.md": "x"})
    os.utime(b / "SKILL.md", (1, 1))
    assert directory_digest(a) == directory_digest(b)
    (b / "lib" / "run.sh").chmod(0o755)
    assert directory_digest(a) != directory_digest(b)
    (b / "lib" / "run.sh").chmod(0o644)
    (b / "SKILL.md").write_text("y")
    assert directory_digest(a) != directory_digest(b)


def test_skill_descriptor(tmp_path: Path) -> None:
    skill = _skill(tmp_path / "sso-skill", {"SKILL.md": "---\nname: sso\n---\n"})
    desc = skill_descriptor(str(skill))
    assert desc.name == "sso-skill" and desc.digest["sha256"] == directory_digest(skill)
    named = skill_descriptor("okta-sso@1.2.0")
    assert (named.name, named.version) == ("okta-sso", "1.2.0")
    with pytest.raises(UsageError):
        skill_descriptor("no-version-and-not-a-dir")

"""Capture: prompt salts and HMAC, secret scan, SKILL.md front matter, agent config, trailers."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from provenance.app.session import CaptureOptions, build_session
from provenance.errors import ConfigError, UsageError
from provenance.gitio import Git
from provenance.record.capture import (
    PromptSecretError,
    agent_config_at,
    front_matter,
    read_salt,
    repository_salt,
    scan_for_secrets,
    stored_prompt,
)
from provenance.record.change import directory_digest, prompt_from_text, skill_package
from tests.helpers import GitRepo

PROMPT = b"Add an SSO callback that checks the OAuth state parameter.\n"
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit("base", {"README.md": "app\n"})
    return repo


def test_hmac_commitment_differs_from_sha256_and_is_stable_for_one_salt(
    repo: GitRepo, xdg: Path
) -> None:
    prompt_file = repo.path.parent / "prompt.txt"
    prompt_file.write_bytes(PROMPT)
    opts = CaptureOptions(agent="a", model="m", prompter="p", prompt_file=prompt_file, salted=True)
    first = build_session(repo.path, opts).prompt
    second = build_session(repo.path, opts).prompt
    (salt_file,) = (xdg / "provenance" / "salts").iterdir()
    assert salt_file.stat().st_mode & 0o777 == 0o600
    assert (xdg / "provenance" / "salts").stat().st_mode & 0o777 == 0o700
    salt = salt_file.read_bytes()
    assert len(salt) == 32
    assert first == second and first.algorithm == "hmac-sha256" and first.salt_id
    assert first.digest == hmac.new(salt, PROMPT, hashlib.sha256).hexdigest()
    assert first.digest != hashlib.sha256(PROMPT).hexdigest()
    plain = build_session(repo.path, CaptureOptions("a", "m", "p", prompt_file=prompt_file))
    assert plain.prompt.algorithm == "sha256"
    assert plain.prompt.digest == hashlib.sha256(PROMPT).hexdigest()
    # an explicit salt file gives its own, different, stable commitment
    other = repo.path.parent / "salt.bin"
    other.write_bytes(b"s" * 32)
    other.chmod(0o600)
    explicit = CaptureOptions("a", "m", "p", prompt_file=prompt_file, salt_file=other)
    assert build_session(repo.path, explicit).prompt == prompt_from_text(PROMPT, b"s" * 32)
    assert build_session(repo.path, explicit).prompt.digest != first.digest


def test_salts_must_stay_private_and_outside_the_repository(repo: GitRepo, xdg: Path) -> None:
    inside = repo.path / "salt.bin"
    inside.write_bytes(b"x" * 32)
    inside.chmod(0o600)
    with pytest.raises(UsageError, match="inside the repository"):
        read_salt(inside, repo.path)
    prompt = repo.path.parent / "p.txt"
    prompt.write_bytes(PROMPT)
    with pytest.raises(UsageError, match="inside the repository"):
        build_session(
            repo.path, CaptureOptions("a", "m", "p", prompt_file=prompt, salt_file=inside)
        )
    loose = repo.path.parent / "loose.bin"
    loose.write_bytes(b"x" * 32)
    loose.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        read_salt(loose)
    short = repo.path.parent / "short.bin"
    short.write_bytes(b"x" * 8)
    short.chmod(0o600)
    with pytest.raises(UsageError, match="shorter"):
        read_salt(short)
    path, salt = repository_salt("https://github.com/acme/app")
    assert repository_salt("https://github.com/acme/app") == (path, salt)
    assert repository_salt("https://github.com/acme/other")[1] != salt


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f"use the key {AWS_KEY} to call S3\n", "AWS Access Key"),
        ("here is the deploy key:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n", "Private Key"),
        ("the GitHub token is ghp_1234567890abcdefghijklmnopqrstuvwxyz12\n", "GitHub Token"),
        ('set client_secret = "s3cr3t-Value-42"\n', "Credential assignment"),
        ("call it with sk-ant-api03-" + "Ab1_" * 10 + " please\n", "Anthropic API key"),
        ("my token: github_pat_" + "11AB" * 20 + "\n", "GitHub token"),
        ("maps key AIza" + "SyD-" * 8 + "abc in the config\n", "Google API key"),
        ("the signing key is " + "9f" * 32 + "\n", "Long hex secret"),
    ],
)
def test_store_prompt_refuses_secrets(text: str, kind: str) -> None:
    kinds = {f.kind for f in scan_for_secrets(text)}
    assert kind in kinds
    with pytest.raises(PromptSecretError) as err:
        stored_prompt(text.encode())
    assert err.value.exit_code == 2 and "nothing was signed" in str(err.value)
    assert AWS_KEY not in str(err.value)  # findings name the kind and line, never the value


def test_store_prompt_keeps_a_clean_prompt() -> None:
    text = (
        "Fix the token check in app/auth/sso.py: the password reset link must expire after "
        "15 minutes. Commit 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b broke it. Use skill "
        "sha256:" + "ab" * 32 + ".\n"
    )
    kept = stored_prompt(text.encode())
    assert kept.text == text and kept.scanner.startswith("detect-secrets 1.")


def test_skill_front_matter_name_and_version(tmp_path: Path) -> None:
    skill = tmp_path / "sso-helper-dir"
    (skill / "scripts").mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: okta-sso\ndescription: 'Wire Okta SSO: callback, state check'\n"
        'metadata:\n  version: "1.4.2"\n  owner: idp-team\nallowed-tools: [Bash]\n---\n# Body\n'
    )
    (skill / "scripts" / "run.sh").write_text("echo ok\n")
    desc = skill_package(str(skill))
    assert (desc.name, desc.version) == ("okta-sso", "1.4.2")
    assert desc.digest == {"sha256": directory_digest(skill)}
    assert front_matter("name: x\n") == {}  # no fence: not front matter
    assert front_matter("---\nname: x\n") == {}  # no closing fence
    assert front_matter("---\nversion: 2.0 # pinned\nname: y\n---\n") == {
        "version": "2.0",
        "name": "y",
    }
    bare = tmp_path / "bare-skill"
    bare.mkdir()
    (bare / "run.py").write_text("print(1)\n")
    assert (skill_package(str(bare)).name, skill_package(str(bare)).version) == (
        "bare-skill",
        None,
    )


def test_agent_config_files_are_recorded_by_blob_digest(repo: GitRepo) -> None:
    files = {
        "AGENTS.md": "Run the tests before committing.\n",
        ".mcp.json": '{"mcpServers": {"db": {"command": "db-mcp"}}}\n',
        ".cursor/rules/auth.mdc": "Never log tokens.\n",
        ".github/copilot-instructions.md": "Prefer small diffs.\n",
        "docs/AGENTS.md": "nested copies are not recorded\n",
    }
    sha = repo.commit("agent config", files)
    recorded = agent_config_at(Git.discover(repo.path), sha)
    by_name = {d.name: d for d in recorded}
    assert sorted(by_name) == [
        ".cursor/rules/auth.mdc",
        ".github/copilot-instructions.md",
        ".mcp.json",
        "AGENTS.md",
    ]
    for name, desc in by_name.items():
        assert desc.digest["sha256"] == hashlib.sha256(files[name].encode()).hexdigest()
        assert desc.annotations and desc.annotations["gitBlob"] == repo.git(
            "rev-parse", f"{sha}:{name}"
        )
    assert agent_config_at(Git.discover(repo.path), repo.git("rev-parse", "HEAD~1")) == []

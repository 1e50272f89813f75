"""Policy ``[allow]``: which agents, models, skills and agent configs may produce a change.

Each test stores one really signed change attestation on the golden commit (the golden's own,
or its statement re-signed with one predicate field changed) and runs the gate with a policy
outside the repository, asserting the reason codes (docs/decisions/0018).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.errors import PolicyInvalid
from provenance.policy import parse_policy
from provenance.reasons import Reason
from tests.verify._support import (
    Json,
    Lab,
    Mutation,
    agent_policy,
    assert_passed,
    assert_refused,
    policy_file,
)

SKILL = "a" * 64
OTHER = "b" * 64
CONFIG = "c" * 64


def _with(**fields: object) -> Mutation:
    def mutate(statement: Json) -> None:
        predicate = statement["predicate"]
        for key, value in fields.items():
            if key in ("tool", "version", "model"):
                predicate["agent"][key] = value
            else:
                predicate[key] = value

    return mutate


def _skill(name: str, digest: str) -> dict[str, object]:
    return {"name": name, "digest": {"sha256": digest}}


def _policy(lab: Lab, tmp_path: Path, allow: str) -> Path:
    return policy_file(tmp_path / "p", agent_policy(lab.inst, f"[allow]\n{allow}\n"))


def test_agent_in_range_passes_and_outside_is_refused(lab: Lab, tmp_path: Path) -> None:
    """The golden agent is claude-code 2.1.0: inside >=2.0, outside <2.1 and another tool."""
    assert_passed(lab.verify(policy=_policy(lab, tmp_path, 'agents = ["claude-code@>=2.0"]')))
    refused = lab.verify(policy=_policy(lab, tmp_path, 'agents = ["claude-code@<2.1", "codex"]'))
    assert_refused(refused, Reason.AGENT_NOT_ALLOWED)


def test_agent_without_a_readable_version_is_outside_any_range(lab: Lab, tmp_path: Path) -> None:
    """A version that is no PEP 440 version (or none) is never inside a range."""
    line = lab.resign(_with(version="latest"))
    policy = _policy(lab, tmp_path, 'agents = ["claude-*@>=0"]')
    assert_refused(lab.verify(line, policy=policy), Reason.AGENT_NOT_ALLOWED)
    assert_passed(lab.verify(line, policy=_policy(lab, tmp_path, 'agents = ["claude-*"]')))


def test_model_glob(lab: Lab, tmp_path: Path) -> None:
    """claude-opus-4 matches claude-opus-4*; a glob is case-sensitive and anchored."""
    assert_passed(lab.verify(policy=_policy(lab, tmp_path, 'models = ["claude-opus-4*"]')))
    for models in ('["Claude-Opus-4*"]', '["opus*"]', "[]"):
        policy = _policy(lab, tmp_path, f"models = {models}")
        assert_refused(lab.verify(policy=policy), Reason.MODEL_NOT_ALLOWED)


def test_skills_by_name_and_digest_or_digest_alone(lab: Lab, tmp_path: Path) -> None:
    """Every skill must match an entry; the digest always, the name when the entry has one."""
    line = lab.resign(_with(skills=[_skill("auth-helper", SKILL)]))
    for entry in (f"auth-*@sha256:{SKILL}", f"sha256:{SKILL}"):
        assert_passed(lab.verify(line, policy=_policy(lab, tmp_path, f'skills = ["{entry}"]')))
    for entry in (f"other@sha256:{SKILL}", f"auth-helper@sha256:{OTHER}"):
        policy = _policy(lab, tmp_path, f'skills = ["{entry}"]')
        assert_refused(lab.verify(line, policy=policy), Reason.SKILL_NOT_ALLOWED)


def test_one_skill_outside_refuses_and_no_digest_never_matches(lab: Lab, tmp_path: Path) -> None:
    """A second unlisted skill refuses; a skill without a sha256 digest matches no entry."""
    two = lab.resign(_with(skills=[_skill("auth-helper", SKILL), _skill("x", OTHER)]))
    policy = _policy(lab, tmp_path, f'skills = ["sha256:{SKILL}"]')
    assert_refused(lab.verify(two, policy=policy), Reason.SKILL_NOT_ALLOWED)
    bare = lab.resign(_with(skills=[{"name": "auth-helper"}]))
    assert_refused(lab.verify(bare, policy=policy), Reason.SKILL_NOT_ALLOWED)


def test_agent_configs(lab: Lab, tmp_path: Path) -> None:
    """Agent configuration files are pinned like skills (name is the path)."""
    config = [{"name": "CLAUDE.md", "uri": "git:CLAUDE.md", "digest": {"sha256": CONFIG}}]
    line = lab.resign(_with(agent_config=config))
    ok = _policy(lab, tmp_path, f'agent_configs = ["CLAUDE.md@sha256:{CONFIG}"]')
    assert_passed(lab.verify(line, policy=ok))
    bad = _policy(lab, tmp_path, f'agent_configs = ["AGENTS.md@sha256:{CONFIG}"]')
    assert_refused(lab.verify(line, policy=bad), Reason.AGENT_CONFIG_NOT_ALLOWED)


def test_every_kind_outside_at_once_names_each(lab: Lab, tmp_path: Path) -> None:
    """All four lists refuse together, each with its own code."""
    line = lab.resign(_with(skills=[_skill("s", OTHER)], agent_config=[_skill("CLAUDE.md", OTHER)]))
    allow = (
        f'agents = ["codex"]\nmodels = ["gpt-*"]\nskills = ["sha256:{SKILL}"]\n'
        f'agent_configs = ["sha256:{CONFIG}"]'
    )
    assert_refused(
        lab.verify(line, policy=_policy(lab, tmp_path, allow)),
        Reason.AGENT_NOT_ALLOWED,
        Reason.MODEL_NOT_ALLOWED,
        Reason.SKILL_NOT_ALLOWED,
        Reason.AGENT_CONFIG_NOT_ALLOWED,
    )


@pytest.mark.parametrize(
    "allow",
    [
        'agents = ["claude-code@>=>2"]',
        'agents = ["claude-code@"]',
        'agents = ["@>=2"]',
        'models = [""]',
        'models = ["claude opus"]',
        'skills = ["auth-helper"]',
        'skills = ["sha256:ABC"]',
        f'skills = ["@sha256:{SKILL}"]',
        f'agent_configs = ["sha256:{SKILL[:-1]}"]',
        'unknown = ["x"]',
    ],
)
def test_malformed_entry_refuses_the_policy(allow: str) -> None:
    """An entry the gate cannot read invalidates the whole policy (fail closed), with a code."""
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(f"version = 1\n[allow]\n{allow}\n", source="test")
    assert caught.value.reason == Reason.ALLOW_ENTRY_INVALID
    assert caught.value.diagnostics().startswith("allow_entry_invalid: ")

"""AI trailers compared with the verified change attestation (policy ``[trailers]``).

One repository per module: identity-related commits with trailers, some stamped by the agent
wrapper (claude-code 2.1.0, model claude-opus-4), one docs commit. Each test runs the gate on
named commits with a policy outside the repository and asserts the reason codes, the named
trailers and the warnings (decision 0018).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.app.gate import verify
from provenance.app.options import VerifyOptions
from provenance.app.stamp import stamp
from provenance.devinstance import DevInstance
from provenance.gitio.trailers import parse_trailers
from provenance.policy import render_template
from provenance.reasons import Reason
from provenance.sign.signing import SigningOptions
from provenance.verify.report import Report, render_text, report_to_dict
from provenance.verify.trailers import ai_trailers, may_name_an_ai
from tests.conftest import AGENT_ID, session
from tests.gitio.test_trailers import MESSAGES
from tests.helpers import SSO_CALLBACK, GitRepo
from tests.verify._support import network_restored

#: message trailer block -> stamped by the agent?
COMMITS = {
    "mismatch-tool": ("Assisted-by: codex:gpt-5", True),
    "mismatch-model": ("Assisted-by: claude-code:claude-sonnet-4", True),
    "generated-by-other": ("Generated-by: codex", True),
    "coauthor-other": ("Co-authored-by: Cursor Agent <cursoragent@cursor.com>", True),
    "agrees": ("Assisted-by: claude-code:claude-opus-4", True),
    "agrees-family": ("Co-authored-by: Claude <noreply@anthropic.com>", True),
    "agrees-versioned": ("Generated-by: claude-code@2.1.0:claude-opus-4", True),
    "unattested": ("Assisted-by: codex:gpt-5", False),
    "missing": ("", True),
    "human-coauthor": ("Co-authored-by: Bob <bob@example.com>", True),
}


class TrailerRepo:
    def __init__(self, root: Path, inst: DevInstance) -> None:
        self.inst, self.root = inst, root
        self.repo = GitRepo.init(root / "repo")
        self.repo.commit("policy", {".provenance/policy.toml": self.policy_text()})
        signing = SigningOptions(
            identity_token=inst.issue_token(AGENT_ID), trust_config=inst.trust_config_path
        )
        self.sha: dict[str, str] = {}
        for i, (name, (trailer, stamped)) in enumerate(COMMITS.items()):
            message = f"Change {name}\n\nWhy it changed.\n\n{trailer}" if trailer else name
            files = {f"app/auth/sso_{i}.py": SSO_CALLBACK}
            self.sha[name] = self.repo.commit(message, files)
            if stamped:
                stamp(self.repo.path, self.sha[name], session(), signing)
        self.sha["docs"] = self.repo.commit("docs\n\nAssisted-by: codex:gpt-5", {"NOTES.md": "x"})

    def policy_text(self, trailers: str = "") -> str:
        text = render_template(self.inst.default_issuer, AGENT_ID)
        return text + (f"\n[trailers]\n{trailers}\n" if trailers else "")

    def verify(self, name: str, trailers: str = "") -> Report:
        path = self.root / "policies" / f"{abs(hash(trailers))}.toml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(self.policy_text(trailers))
        options = VerifyOptions(policy=path, trusted_root=self.inst.trusted_root_path, offline=True)
        with network_restored():
            return verify(self.repo.path, [self.sha[name]], options)


@pytest.fixture(scope="module")
def trailer_repo(tmp_path_factory: pytest.TempPathFactory, dev: DevInstance) -> TrailerRepo:
    return TrailerRepo(tmp_path_factory.mktemp("trailers"), dev)


@pytest.mark.parametrize(
    ("name", "trailer"),
    [
        ("mismatch-tool", "Assisted-by: codex:gpt-5"),
        ("mismatch-model", "Assisted-by: claude-code:claude-sonnet-4"),
        ("generated-by-other", "Generated-by: codex"),
        ("coauthor-other", "Co-authored-by: Cursor Agent <cursoragent@cursor.com>"),
    ],
)
def test_a_trailer_naming_another_agent_or_model_is_a_mismatch(
    trailer_repo: TrailerRepo, name: str, trailer: str
) -> None:
    """Refused by default; ``warn`` passes with a warning naming it; ``ignore`` says nothing."""
    report = trailer_repo.verify(name)
    (verdict,) = report.commits
    assert (verdict.status, verdict.reasons) == ("refused", (Reason.TRAILER_MISMATCH,))
    assert verdict.trailers == (trailer,)
    assert report_to_dict(report)["commits"][0]["trailers"] == [trailer]
    warned = trailer_repo.verify(name, 'on_mismatch = "warn"')
    assert warned and warned.extra["warnings"] == [
        {"commit": trailer_repo.sha[name], "reason": "trailer_mismatch", "trailers": [trailer]}
    ]
    ignored = trailer_repo.verify(name, 'on_mismatch = "ignore"')
    assert ignored and "warnings" not in ignored.extra


@pytest.mark.parametrize("name", ["agrees", "agrees-family", "agrees-versioned"])
def test_trailers_that_agree_pass_without_warning(trailer_repo: TrailerRepo, name: str) -> None:
    report = trailer_repo.verify(name, 'on_missing = "refuse"')
    assert report and report.commits[0].status == "ok" and not report.warnings


def test_ai_trailer_without_valid_attestation_is_named_in_the_refusal(
    trailer_repo: TrailerRepo,
) -> None:
    """On an identity-related commit; a docs commit with the same trailer is not-required."""
    report = trailer_repo.verify("unattested")
    (verdict,) = report.commits
    assert verdict.reasons == (Reason.ATTESTATION_MISSING, Reason.TRAILER_WITHOUT_ATTESTATION)
    assert verdict.trailers == ("Assisted-by: codex:gpt-5",)
    assert "trailer Assisted-by: codex:gpt-5" in render_text(report)
    warned = trailer_repo.verify("unattested", 'on_unattested = "warn"')
    assert warned.commits[0].reasons == (Reason.ATTESTATION_MISSING,)
    assert warned.warnings[0].reason == Reason.TRAILER_WITHOUT_ATTESTATION
    docs = trailer_repo.verify("docs")
    assert docs and docs.commits[0].status == "not-required" and not docs.warnings


@pytest.mark.parametrize("name", ["missing", "human-coauthor"])
def test_attested_without_ai_trailer_warns_by_default(trailer_repo: TrailerRepo, name: str) -> None:
    """A human co-author is no AI trailer. ``refuse`` refuses, ``ignore`` is silent."""
    report = trailer_repo.verify(name)
    assert report and report.warnings[0].reason == Reason.ATTESTATION_WITHOUT_TRAILER
    assert f"WARN {trailer_repo.sha[name][:12]}  attestation_without_trailer" in render_text(report)
    refused = trailer_repo.verify(name, 'on_missing = "refuse"')
    assert refused.commits[0].reasons == (Reason.ATTESTATION_WITHOUT_TRAILER,)
    assert not trailer_repo.verify(name, 'on_missing = "ignore"').warnings


def test_trailer_modes_are_checked() -> None:
    """A mode outside refuse/warn/ignore is a policy error (unknown keys too)."""
    from provenance.errors import ConfigError
    from provenance.policy import parse_policy

    for bad in ('on_mismatch = "maybe"', 'on_other = "warn"'):
        with pytest.raises(ConfigError):
            parse_policy(f"version = 1\n[trailers]\n{bad}\n", source="t")


@pytest.mark.parametrize(
    "message",
    [
        *MESSAGES,
        "s\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n",
        "s\n\nGENERATED-BY: codex\n",
        "s\n\nReviewed-by: Bob <bob@example.com>\n",
    ],
)
def test_the_cheap_check_never_hides_an_ai_trailer(message: str) -> None:
    """Git is skipped only for messages in which it could find no AI trailer."""
    if ai_trailers(parse_trailers(message.encode())):
        assert may_name_an_ai(message.encode())

"""The prompter is bound by their own signature, not named by the wrapper (THREATS.md G50).

Whoever holds the agent wrapper's credential could write any prompter into the change
predicate and then approve their own agent's change. A prompt attestation, signed by the
prompter (keyless or key) and carried verbatim in the change predicate, binds the prompter;
``[agents] prompter = "signed"`` refuses change attestations without one, and separation of
duties compares the signed identity. Without the switch, reports say "asserted".
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from provenance.app.approve import approve, preview
from provenance.app.gate import verify
from provenance.app.options import VerifyOptions
from provenance.app.prompt import sign_prompt
from provenance.app.stamp import stamp
from provenance.devinstance import DevInstance
from provenance.errors import ConfigError, UsageError
from provenance.policy import parse_policy
from provenance.predicates import PROMPT_PREDICATE_TYPE, PromptAttestationRef
from provenance.record.change import SessionContext
from provenance.sign.signing import SigningOptions
from provenance.verify.certificates import workload_identity
from provenance.verify.report import Report, render_text, report_to_dict
from tests.conftest import AGENT_ID, session
from tests.helpers import INTEROP, SSO_CALLBACK, GitRepo, Result, check_document, interop_cases
from tests.verify._support import network_restored, sign_line

ALICE, BOB, MALLORY = "alice@example.com", "bob@example.com", "mallory@example.com"
GITHUB = "https://token.actions.githubusercontent.com"
WORKFLOW = "https://github.com/acme/app/.github/workflows/agent.yml@refs/heads/main"


@dataclass
class Site:
    """A repository whose commits the wrapper stamps, and policies in both modes."""

    repo: GitRepo
    inst: DevInstance
    key: Path
    policies: Path

    def policy(self, mode: str, *, required: int = 0) -> Path:
        issuer = self.inst.default_issuer
        text = f"""version = 1
repository = "https://example.com/app"
[[signers]]
issuer = "{issuer}"
identity = "{AGENT_ID}"
[approvals]
required = {required}
[[approvers]]
issuer = "{issuer}"
identity = "{ALICE}"
person = "alice"
[[approvers]]
issuer = "{issuer}"
identity = "{BOB}"
person = "bob"
[agents]
prompter = "{mode}"
[[prompters]]
issuer = "{issuer}"
identity = "{ALICE}"
person = "alice"
[[prompters]]
key = "keys/carol.pub.pem"
person = "carol"
"""
        path = self.policies / f"{mode}-{required}.toml"
        path.write_text(text)
        return path

    def keyless(self, identity: str, issuer: str | None = None) -> SigningOptions:
        token = self.inst.issue_token(identity, issuer)
        return SigningOptions(identity_token=token, trust_config=self.inst.trust_config_path)

    def commit(self, name: str) -> str:
        return self.repo.commit(f"SSO {name}", {f"app/auth/{name}.py": SSO_CALLBACK})

    def prompt(self, who: str = ALICE, *, session_id: str | None = "sess-1") -> bytes:
        signing = SigningOptions(key=str(self.key)) if who == "carol-key" else self.keyless(who)
        return sign_prompt(
            self.repo.path, prompter=who, commitment=session().prompt, signing=signing,
            session_id=session_id,
        ).line  # fmt: skip

    def stamp(self, sha: str, line: bytes | None, *, prompter: str = ALICE) -> None:
        s: SessionContext = session(prompter)
        if line is not None:
            digest = hashlib.sha256(_payload(line)).hexdigest()
            ref = PromptAttestationRef(sha256=digest, line=line.decode())
            s = SessionContext(**{**s.__dict__, "prompt_attestation": ref})
        stamp(self.repo.path, sha, s, self.keyless(AGENT_ID))

    def verify(self, sha: str, mode: str, required: int = 0) -> Report:
        options = VerifyOptions(
            policy=self.policy(mode, required=required),
            trusted_root=self.inst.trusted_root_path,
            offline=True,
        )
        with network_restored():
            return verify(self.repo.path, [sha], options)


def _payload(line: bytes) -> bytes:
    doc = json.loads(line)
    envelope = doc.get("dsseEnvelope", doc)
    return base64.b64decode(envelope["payload"])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, dev: DevInstance) -> Site:
    root = tmp_path_factory.mktemp("prompter")
    carol = ec.generate_private_key(ec.SECP256R1())
    key = root / "carol.key.pem"
    key.write_bytes(carol.private_bytes(serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))  # fmt: skip
    key.chmod(0o600)
    policies = root / "policies"
    (policies / "keys").mkdir(parents=True)
    public = carol.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (policies / "keys" / "carol.pub.pem").write_bytes(public)
    repo = GitRepo.init(root / "repo")
    repo.git("remote", "add", "origin", "https://example.com/app")
    repo.commit("init", {"README.md": "app\n"})
    return Site(repo, dev, key, policies)


def change_of(report: Report) -> dict[str, object]:
    (commit,) = check_document("gate-report", report_to_dict(report))["commits"]
    (change,) = [a for a in commit["attestations"] if a["kind"] == "change"]
    return dict(change)


def test_without_the_switch_the_prompter_is_reported_asserted(site: Site) -> None:
    """THREATS.md G50: the report says the name is only the wrapper's word."""
    sha = site.commit("asserted")
    site.stamp(sha, None)
    report = site.verify(sha, "asserted")
    assert report.result == "passed"
    assert change_of(report)["prompter"] == {
        "status": "asserted", "claimed": ALICE, "reasons": ["prompter_unsigned"],
    }  # fmt: skip
    assert f"prompted by {ALICE} (asserted)" in render_text(report)


def test_the_switch_refuses_a_prompter_the_wrapper_only_named(site: Site) -> None:
    """THREATS.md G50: the review's case: the wrapper names a prompter, nobody signed."""
    sha = site.commit("named")
    site.stamp(sha, None, prompter=BOB)
    report = site.verify(sha, "signed")
    assert report.commits[0].reasons == ("prompter_unsigned",)


@pytest.mark.parametrize("who", [ALICE, "carol-key"])
def test_a_prompt_signed_by_an_allowed_prompter_binds_them(site: Site, who: str) -> None:
    """THREATS.md G50: keyless or key, the signed identity is the prompter."""
    sha = site.commit(f"signed-{who[:5]}")
    site.stamp(sha, site.prompt(who))
    report = site.verify(sha, "signed")
    assert report.result == "passed", report
    prompter = change_of(report)["prompter"]
    assert isinstance(prompter, dict) and prompter["status"] == "signed"
    assert prompter["person"] == ("alice" if who == ALICE else "carol")
    expected = ALICE if who == ALICE else "key:"
    assert str(prompter["identity"]).startswith(expected)
    assert "(signed)" in render_text(report)


@pytest.mark.parametrize("who", [MALLORY, AGENT_ID])
def test_a_prompt_signed_by_someone_else_does_not_bind(site: Site, who: str) -> None:
    """THREATS.md G50: not in [[prompters]] (the wrapper's own identity least of all)."""
    sha = site.commit(f"other-{who[:5]}")
    site.stamp(sha, site.prompt(who))
    assert site.verify(sha, "signed").commits[0].reasons == ("prompter_not_allowed",)
    assert site.verify(sha, "asserted").result == "passed"


def _tampered(line: bytes) -> bytes:
    doc = json.loads(line)
    signature = doc["dsseEnvelope"]["signatures"][0]
    raw = bytearray(base64.b64decode(signature["sig"]))
    raw[-1] ^= 1
    signature["sig"] = base64.b64encode(bytes(raw)).decode()
    return json.dumps(doc, separators=(",", ":")).encode()


def _crafted(site: Site, **fields: object) -> bytes:
    """A prompt statement with chosen fields, really signed by alice."""
    now = datetime.now(UTC)
    predicate: dict[str, Any] = {
        "prompter": ALICE, "prompt": session().prompt.model_dump(exclude_none=True),
        "repository": {"uri": "https://example.com/app"}, "session_id": "sess-1",
        "nonce": "ab" * 32, "issued_at": now.isoformat(),
        "expires_at": (now + timedelta(hours=1)).isoformat(),
    }  # fmt: skip
    predicate.update(fields)
    subject = [{"name": "prompt", "digest": {"sha256": session().prompt.digest}}]
    statement: dict[str, Any] = {"_type": "https://in-toto.io/Statement/v1", "subject": subject,
                 "predicateType": PROMPT_PREDICATE_TYPE, "predicate": predicate}  # fmt: skip
    return sign_line(site.inst, rfc8785.dumps(statement), ALICE)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("tampered", "prompter_signature_invalid"),
        ("another-prompt", "prompter_mismatch"),
        ("another-repository", "prompter_mismatch"),
        ("another-session", "prompter_mismatch"),
        ("expired", "prompter_mismatch"),
        ("valid-too-long", "prompter_mismatch"),
    ],
)
def test_a_prompt_attestation_that_does_not_bind_this_change(
    site: Site, case: str, reason: str
) -> None:
    """THREATS.md G50: replayed, edited, expired or foreign prompt attestations never bind."""
    now = datetime.now(UTC)
    line = {
        "tampered": lambda: _tampered(site.prompt()),
        "another-prompt": lambda: _crafted(site, prompt={"algorithm": "sha256", "digest": "1"*64}),
        "another-repository": lambda: _crafted(site, repository={"uri": "https://evil.example"}),
        "another-session": lambda: _crafted(site, session_id="sess-2"),
        "expired": lambda: _crafted(site, issued_at=(now - timedelta(hours=3)).isoformat(),
                                    expires_at=(now - timedelta(hours=1)).isoformat()),
        "valid-too-long": lambda: _crafted(site, expires_at=(now + timedelta(days=30)).isoformat()),
    }[case]()  # fmt: skip
    sha = site.commit(f"bad-{case}")
    site.stamp(sha, line)
    report = site.verify(sha, "signed")
    assert report.commits[0].reasons == (reason,)
    assert change_of(site.verify(sha, "asserted"))["prompter"]["reasons"] == [reason]  # type: ignore[index]


def test_the_signed_prompter_cannot_approve_whatever_name_the_wrapper_wrote(site: Site) -> None:
    """THREATS.md G50 (D19): separation of duties compares the signed identity."""
    sha = site.commit("sod")
    site.stamp(sha, site.prompt(ALICE), prompter="someone-else@example.com")
    options = VerifyOptions(policy=site.policy("signed", required=1),
                            trusted_root=site.inst.trusted_root_path, offline=True)  # fmt: skip
    with network_restored():
        seen = preview(site.repo.path, sha, options)
        approve(site.repo.path, seen, "approve", None, site.keyless(ALICE))
    report = site.verify(sha, "signed", required=1)
    assert report.commits[0].reasons == ("approval_threshold_not_met", "self_approval")
    with network_restored():
        approve(site.repo.path, seen, "approve", None, site.keyless(BOB))
    assert site.verify(sha, "signed", required=1).commits[0].approvers == ("bob",)


def test_policy_refuses_ci_workload_identities_and_the_wrapper_as_prompters() -> None:
    """THREATS.md G50: a CI certificate names the workflow, not the human who triggered it."""
    base = 'version = 1\n[[signers]]\nissuer = "https://i"\nidentity = "bot"\n'
    with pytest.raises(ConfigError, match="workflow"):
        parse_policy(base + f'[[prompters]]\nissuer = "{GITHUB}"\nidentity = "x"\n', source="t")
    with pytest.raises(ConfigError, match="wrapper"):
        parse_policy(base + '[[prompters]]\nissuer = "https://i"\nidentity = "bot"\n', source="t")
    with pytest.raises(ConfigError, match="prompters"):
        parse_policy(base + '[agents]\nprompter = "signed"\n', source="t")


GITLAB_JOB = "https://gitlab.example.com/acme/app//.gitlab-ci.yml@refs/heads/main"


@pytest.mark.parametrize(
    ("issuer", "pattern"),
    [
        ("https://gitlab.com", "^.*gitlab.com/acme/app//[.]gitlab-ci[.]yml@refs/heads/.*$"),
        ("https://token.actions.githubusercontent.com/acme-corp", "^.*/agent[.]yml@.*$"),
        ("https://token.actions.githubusercontent.com/", "^.*$"),
        ("https://gitlab.example.com", "^https://gitlab[.]example[.]com/.*$"),
    ],
    ids=["gitlab.com", "github-enterprise", "github-slash", "uri-identity"],
)
def test_policy_refuses_more_ci_issuers_and_uri_prompters(issuer: str, pattern: str) -> None:
    """THREATS.md G50 (variant): GitLab CI and GHE's per-enterprise issuer passed the list."""
    base = 'version = 1\n[[signers]]\nissuer = "https://i"\nidentity = "bot"\n'
    rule = f'[[prompters]]\nissuer = "{issuer}"\nidentity_pattern = "{pattern}"\n'
    with pytest.raises(ConfigError, match="workflow"):
        parse_policy(base + rule, source="t")


def test_a_workload_certificate_never_binds_a_prompter_whatever_the_policy_lists(
    site: Site,
) -> None:
    """THREATS.md G50 (variant): a self-hosted GitLab's pipeline signed the prompt.

    Its issuer is on no list, and a pattern without ``://`` admits its job URI; the gate
    decides from the certificate (a URI SAN), and refuses it as a prompter.
    """
    sha = site.commit("gitlab-pipeline")
    signing = site.keyless(GITLAB_JOB, "https://gitlab.example.com")
    line = sign_prompt(site.repo.path, prompter="pipeline", commitment=session().prompt,
                       signing=signing, session_id="sess-1").line  # fmt: skip
    site.stamp(sha, line, prompter="pipeline")
    policy = site.policy("signed").read_text() + (
        '[[prompters]]\nissuer = "https://gitlab.example.com"\n'
        'identity_pattern = "^.*/acme/app//[.]gitlab-ci[.]yml@refs/heads/.*$"\nperson = "ci"\n'
    )
    path = site.policies / "gitlab-self-hosted.toml"
    path.write_text(policy)
    options = VerifyOptions(policy=path, trusted_root=site.inst.trusted_root_path, offline=True)
    with network_restored():
        report = verify(site.repo.path, [sha], options)
    assert report.commits[0].reasons == ("prompter_workload_identity",)
    prompter = change_of(report)["prompter"]
    assert isinstance(prompter, dict) and prompter["status"] == "asserted"


@pytest.mark.skipif(not INTEROP.exists(), reason=f"{INTEROP} is absent")
@pytest.mark.parametrize("case", interop_cases(), ids=lambda c: str(c["file"])[:40])
def test_real_fulcio_certificates_of_workflows_are_workloads(case: dict[str, Any]) -> None:
    """THREATS.md G50 (variant): decided by the certificate (GitHub, GHE, GitLab CI, people)."""
    doc = json.loads((INTEROP / "bundles" / case["file"]).read_bytes())
    material = doc["verificationMaterial"]
    raw = material.get("certificate") or material["x509CertificateChain"]["certificates"][0]
    cert = x509.load_der_x509_certificate(base64.b64decode(raw["rawBytes"]))
    person = "@" in case["identity"] and "://" not in case["identity"]
    assert (workload_identity(cert) is None) is person, case["identity"]


def test_prompt_sign_refuses_a_ci_token_and_ambient_credentials(site: Site) -> None:
    """THREATS.md G50: no claim read from a CI token, no ambient detection."""
    with pytest.raises(UsageError, match="workflow"):
        sign_prompt(site.repo.path, prompter=ALICE, commitment=session().prompt,
                    signing=site.keyless(WORKFLOW, GITHUB))  # fmt: skip
    with pytest.raises(UsageError, match="own credential"):
        sign_prompt(site.repo.path, prompter=ALICE, commitment=session().prompt,
                    signing=SigningOptions(trust_config=site.inst.trust_config_path))  # fmt: skip


def _cli(site: Site, *args: str) -> Result:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    proc = subprocess.run([sys.executable, "-m", "provenance", *args], cwd=site.repo.path,
                          env=env, capture_output=True, text=True, check=False)  # fmt: skip
    return Result(proc.returncode, proc.stdout, proc.stderr)


def test_cli_prompt_sign_then_stamp_and_run_with_prompter_sign(site: Site) -> None:
    """THREATS.md G50: `prompt sign` + `stamp --prompt-attestation`; `run --prompter-sign`."""
    root = site.policies.parent
    (root / "task.md").write_text("add SSO login")
    (root / "alice.jwt").write_text(site.inst.issue_token(ALICE))
    (root / "agent.jwt").write_text(site.inst.issue_token(AGENT_ID))
    trust = ["--trust-config", str(site.inst.trust_config_path)]
    signed = _cli(site, "prompt", "sign", "--prompter", ALICE, "--prompt-file",
                  str(root / "task.md"), "--identity-token", f"@{root / 'alice.jwt'}",
                  "--out", str(root / "prompt.json"), *trust)  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    sha = site.commit("cli-stamp")
    capture = ["--agent", "claude-code@2.1.0", "--model", "m", "--prompter", ALICE,
               "--prompt-file", str(root / "task.md")]  # fmt: skip
    stamped = _cli(site, "stamp", sha, *capture, "--prompt-attestation", str(root / "prompt.json"),
                   "--identity-token", f"@{root / 'agent.jwt'}", *trust)  # fmt: skip
    assert stamped.returncode == 0, stamped.stderr
    assert site.verify(sha, "signed").result == "passed"
    agent = "echo x > app/auth/run.py && git add -A && git commit -q -m run"
    ran = _cli(site, "run", *capture, "--prompter-sign", "--prompter-token",
               f"@{root / 'alice.jwt'}", "--identity-token", f"@{root / 'agent.jwt'}", *trust,
               "--", "sh", "-c", agent)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    head = site.repo.git("rev-parse", "HEAD")
    report = site.verify(head, "signed")
    assert report.result == "passed", report
    assert change_of(report)["prompter"]["identity"] == ALICE  # type: ignore[index]
    literal = _cli(site, "stamp", head, *capture, "--prompter-sign", "--prompter-token", "x.y.z")
    assert literal.returncode == 2 and "@FILE" in literal.stderr

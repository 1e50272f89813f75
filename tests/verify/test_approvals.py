"""THREATS.md D19-D22: human approvals and separation of duties, with real signatures.

One repository is shared by the module. Its committed policy trusts the agent wrapper
(``AGENT_ID``) to sign change attestations and lists the approvers: alice (two identities),
bob (two identities and a key) and carol. Each SSO commit is stamped once by the wrapper with
dave as prompter (dave is no approver). Approvals are signed for real by distinct devinstance
identities through :func:`provenance.app.approve.approve`, or by bob's key; a few are crafted
statements, signed for real, where an attacker would not use our client. Each test stores
exactly the lines it needs as the commit's note and asserts the commit's status, reason codes
and counted approvers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from provenance.app.approve import approve as sign_approval
from provenance.app.approve import preview
from provenance.app.gate import verify, verify_range
from provenance.app.options import VerifyOptions
from provenance.app.stamp import stamp
from provenance.devinstance import DevInstance
from provenance.predicates import ApprovalPredicate
from provenance.sign import sign_with_key
from provenance.sign.signing import SigningOptions
from provenance.verify.report import CommitVerdict, Report, report_to_dict
from tests.conftest import AGENT_ID, session
from tests.helpers import SSO_CALLBACK, GitRepo
from tests.verify._support import (
    P256_ORDER,
    Json,
    mutated,
    network_restored,
    payload_of,
    sign_line,
    statement_bytes,
    statement_of,
)

NOTES_REF = "refs/notes/provenance"
ALICE, ALICE_CORP = "alice@example.com", "alice@corp.example"
BOB, BOB_CORP = "bob@example.com", "bob@corp.example"
CAROL = "carol@example.com"
#: Prompts the agent in most tests; not an approver, so nobody is excluded by accident.
DAVE = "dave@example.com"
MALLORY = "mallory@example.com"
OTHER_ISSUER = "https://other-idp.example.com"
#: Stands for "signed with bob's private key" where a signer identity is expected.
BOB_KEY = "key:bob"
MALLORY_KEY = "key:mallory"


@dataclass(frozen=True)
class Approver:
    """One ``[[approvers]]`` entry."""

    person: str
    identity: str | None = None
    pattern: str | None = None
    key: str | None = None
    emails: tuple[str, ...] = ()

    def toml(self, issuer: str) -> str:
        if self.key is not None:
            kind = f'key = "{self.key}"\n'
        else:
            kind = f'issuer = "{issuer}"\n'
            kind += (
                f'identity = "{self.identity}"\n'
                if self.identity is not None
                else f"identity_pattern = '{self.pattern}'\n"
            )
        emails = f"emails = {list(self.emails)!r}\n".replace("'", '"') if self.emails else ""
        return f'[[approvers]]\n{kind}person = "{self.person}"\n{emails}'


APPROVERS = (
    Approver("alice", ALICE),
    Approver("alice", ALICE_CORP),
    Approver("bob", BOB),
    Approver("bob", BOB_CORP),
    Approver("bob", key="keys/bob.pub.pem"),
    Approver("carol", CAROL),
)


def policy_text(issuer: str, required: int, approvers: Sequence[Approver] = APPROVERS) -> str:
    signer = f'[[signers]]\nissuer = "{issuer}"\nidentity = "{AGENT_ID}"\n'
    listed = "".join(a.toml(issuer) for a in approvers)
    return f"version = 1\n\n{signer}\n[approvals]\nrequired = {required}\n\n{listed}"


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _public_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _malleated(line: bytes) -> bytes:
    """The ECDSA twin (r, n - s) of a bundle's DSSE signature: valid maths, never logged."""

    def twin(doc: Json) -> None:
        signature = doc["dsseEnvelope"]["signatures"][0]
        r, s = decode_dss_signature(base64.b64decode(signature["sig"]))
        signature["sig"] = base64.b64encode(encode_dss_signature(r, P256_ORDER - s)).decode()

    return mutated(line, twin)


def _payload(line: bytes) -> bytes:
    """The signed payload of a bundle or of a key-signed envelope."""
    doc = json.loads(line)
    return payload_of(line) if "dsseEnvelope" in doc else base64.b64decode(doc["payload"])


def _digest(line: bytes) -> str:
    """What an approval names: sha256 of the change attestation's signed payload."""
    return hashlib.sha256(_payload(line)).hexdigest()


@dataclass
class World:
    """The shared repository, its stamped commits, and signers for approvals."""

    repo: GitRepo
    inst: DevInstance
    base: str
    keys: dict[str, Path]
    policy_dir: Path
    commits: dict[str, str] = field(default_factory=dict)
    _changes: dict[tuple[str, str], bytes] = field(default_factory=dict)
    _approvals: dict[tuple[object, ...], bytes] = field(default_factory=dict)

    # --- notes and verification -----------------------------------------------------------

    def note(self, sha: str) -> list[bytes]:
        """The commit's stored lines (none when it has no note)."""
        if sha not in self.repo.git("notes", f"--ref={NOTES_REF}", "list"):
            return []
        out = self.repo.git("notes", f"--ref={NOTES_REF}", "show", sha)
        return [line.encode() for line in out.splitlines() if line]

    def store(self, sha: str, lines: Sequence[bytes]) -> None:
        """Make ``lines`` the commit's whole note (as anyone with push access could)."""
        self.repo.git(
            "notes",
            f"--ref={NOTES_REF}",
            "add",
            "-f",
            "-F",
            "-",
            sha,
            input=b"\n".join(lines) + b"\n",
        )

    def policy(self, required: int = 2, approvers: Sequence[Approver] = APPROVERS) -> Path:
        """A policy file outside the repository (``--policy``), beside ``keys/bob.pub.pem``."""
        text = policy_text(self.inst.default_issuer, required, approvers)
        path = self.policy_dir / f"policy-{hashlib.sha256(text.encode()).hexdigest()[:12]}.toml"
        path.write_text(text)
        return path

    def options(self, policy: Path | None = None) -> VerifyOptions:
        return VerifyOptions(policy=policy, trusted_root=self.inst.trusted_root_path, offline=True)

    def verify(self, name: str, *lines: bytes, policy: Path | None = None) -> Report:
        """Store exactly ``lines`` on commit ``name``, then verify it (default: required 2)."""
        sha = self.commits[name]
        self.store(sha, lines)
        with network_restored():
            return verify(self.repo.path, [sha], self.options(policy or self.policy()))

    # --- signing ----------------------------------------------------------------------------

    def signing(self, signer: str, issuer: str | None = None) -> SigningOptions:
        if signer in self.keys:
            return SigningOptions(key=str(self.keys[signer]))
        token = self.inst.issue_token(signer, issuer)
        return SigningOptions(identity_token=token, trust_config=self.inst.trust_config_path)

    def change(self, name: str, prompter: str = DAVE) -> bytes:
        """The wrapper's change attestation of commit ``name`` for a session of ``prompter``."""
        if (name, prompter) not in self._changes:
            sha = self.commits[name]
            before = set(self.note(sha))
            stamp(self.repo.path, sha, session(prompter), self.signing(AGENT_ID))
            (line,) = [ln for ln in self.note(sha) if ln not in before]
            self._changes[name, prompter] = line
        return self._changes[name, prompter]

    def approval(
        self,
        name: str,
        change: bytes,
        signer: str,
        decision: str = "approve",
        *,
        issuer: str | None = None,
        policy: Path | None = None,
        fresh: bool = False,
    ) -> bytes:
        """``provenance approve``: preview ``change`` on ``name``, sign, return the stored line.

        Cached per arguments unless ``fresh`` (a new decision, signed now).
        """
        key = (name, change, signer, decision, issuer, policy)
        if fresh or key not in self._approvals:
            sha = self.commits[name]
            self.store(sha, [change])
            with network_restored():
                seen = preview(self.repo.path, sha, self.options(policy or self.policy()))
            assert seen.change.digest == _digest(change)
            done = sign_approval(
                self.repo.path,
                seen,
                decision,
                f"{decision} by {signer}",
                self.signing(signer, issuer),
            )
            first, line = self.note(sha)
            assert first == change and done.approves == f"sha256:{_digest(change)}"
            self._approvals[key] = line
        return self._approvals[key]

    def crafted_approval(self, approval: bytes, edit: Json, signer: str = BOB) -> bytes:
        """``approval``'s statement with predicate fields replaced, re-signed by ``signer``."""
        statement = json.loads(_payload(approval))
        statement["predicate"].update(edit)
        if signer in self.keys:
            return sign_with_key(statement_bytes(statement), str(self.keys[signer])).line
        return sign_line(self.inst, statement_bytes(statement), signer)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, dev: DevInstance) -> World:
    root = tmp_path_factory.mktemp("approvals")
    bob, mallory = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    keys = {BOB_KEY: root / "bob.key.pem", MALLORY_KEY: root / "mallory.key.pem"}
    keys[BOB_KEY].write_bytes(_private_pem(bob))
    keys[MALLORY_KEY].write_bytes(_private_pem(mallory))
    for path in keys.values():
        path.chmod(0o600)
    policy_dir = root / "policies"
    (policy_dir / "keys").mkdir(parents=True)
    (policy_dir / "keys" / "bob.pub.pem").write_text(_public_pem(bob))
    repo = GitRepo.init(root / "repo")
    base = repo.commit(
        "policy",
        {
            ".provenance/policy.toml": policy_text(dev.default_issuer, 2),
            ".provenance/keys/bob.pub.pem": _public_pem(bob),
            "README.md": "app\n",
        },
    )
    world = World(repo, dev, base, keys, policy_dir)
    world.commits["sso"] = repo.commit("Add SSO callback", {"app/auth/sso.py": SSO_CALLBACK})
    world.commits["by-bob"] = repo.commit(
        "SSO logout", {"app/auth/logout.py": SSO_CALLBACK}, GIT_AUTHOR_EMAIL=BOB_CORP
    )
    world.commits["committed-by-bob"] = repo.commit(
        "SSO refresh", {"app/auth/refresh.py": SSO_CALLBACK}, GIT_COMMITTER_EMAIL="Bob@Example.com"
    )
    world.commits["by-bob-plus"] = repo.commit(
        "SSO state", {"app/auth/state.py": SSO_CALLBACK}, GIT_AUTHOR_EMAIL="bob+laptop@example.com"
    )
    return world


def assert_verdict(
    report: Report, status: str, reasons: Sequence[str], approvers: Sequence[str] = ()
) -> CommitVerdict:
    """The one verified commit has exactly this status, these reasons and these approvers."""
    (verdict,) = report.commits
    expected = (status, tuple(sorted(set(reasons))), tuple(approvers))
    assert (verdict.status, verdict.reasons, verdict.approvers) == expected, verdict
    assert report.result == ("passed" if status == "ok" else "refused")
    assert bool(report) is (status == "ok")
    return verdict


def results_by_signer(verdict: CommitVerdict) -> dict[str | None, tuple[str, ...]]:
    """Reasons of each stored approval line, by signer."""
    return {a.signer: a.reasons for a in verdict.attestations if a.kind == "approval"}


# --- threshold 1 and 2 with real signatures ----------------------------------------------------


def test_no_approval_at_all_is_approval_missing(world: World) -> None:
    change = world.change("sso")
    verdict = assert_verdict(world.verify("sso", change), "refused", ["approval_missing"])
    assert [(a.kind, a.ok) for a in verdict.attestations] == [("change", True)]
    one = world.policy(required=1)
    assert_verdict(world.verify("sso", change, policy=one), "refused", ["approval_missing"])


def test_threshold_one_met_by_one_allowed_human(world: World) -> None:
    change = world.change("sso")
    report = world.verify(
        "sso", change, world.approval("sso", change, BOB), policy=world.policy(required=1)
    )
    verdict = assert_verdict(report, "ok", [], ["bob"])
    (approval,) = [a for a in verdict.attestations if a.kind == "approval"]
    assert (approval.ok, approval.signer, approval.approver) == (True, BOB, "bob")
    assert isinstance(approval.predicate, ApprovalPredicate)  # typed from verification on
    assert approval.predicate.change_attestation == {"sha256": _digest(change)}
    assert approval.predicate.decision == "approve"


def test_threshold_two_met_by_two_distinct_people(world: World) -> None:
    change = world.change("sso")
    report = world.verify(
        "sso", change, world.approval("sso", change, BOB), world.approval("sso", change, CAROL)
    )
    assert_verdict(report, "ok", [], ["bob", "carol"])
    entry = report_to_dict(report)["commits"][0]
    assert entry["approvers"] == ["bob", "carol"]
    assert [a["approver"] for a in entry["attestations"]] == [None, "bob", "carol"]


def test_threshold_two_with_one_approval_is_not_met(world: World) -> None:
    change = world.change("sso")
    report = world.verify("sso", change, world.approval("sso", change, CAROL))
    assert_verdict(report, "refused", ["approval_threshold_not_met"], ["carol"])


# --- D20 distinct approvers count once each ------------------------------------------------------


def test_one_person_through_two_identities_counts_once(world: World) -> None:
    change = world.change("sso")
    report = world.verify(
        "sso",
        change,
        world.approval("sso", change, ALICE),
        world.approval("sso", change, ALICE_CORP),
    )
    verdict = assert_verdict(report, "refused", ["approval_threshold_not_met"], ["alice"])
    assert results_by_signer(verdict) == {ALICE: (), ALICE_CORP: ()}  # both valid, one person


def test_one_person_by_key_and_by_identity_counts_once(world: World) -> None:
    change = world.change("sso")
    report = world.verify(
        "sso", change, world.approval("sso", change, BOB_KEY), world.approval("sso", change, BOB)
    )
    assert_verdict(report, "refused", ["approval_threshold_not_met"], ["bob"])


def test_same_approval_stored_twice_counts_once(world: World) -> None:
    change = world.change("sso")
    bob = world.approval("sso", change, BOB)
    report = world.verify("sso", change, bob, bob, bob)
    verdict = assert_verdict(report, "refused", ["approval_threshold_not_met"], ["bob"])
    assert len(verdict.attestations) == 2  # the reader keeps one copy of a repeated line


def test_same_person_approving_twice_counts_once(world: World) -> None:
    change = world.change("sso")
    first = world.approval("sso", change, BOB)
    again = world.approval("sso", change, BOB, fresh=True)
    assert first != again
    report = world.verify("sso", change, first, again)
    verdict = assert_verdict(report, "refused", ["approval_threshold_not_met"], ["bob"])
    assert [a.ok for a in verdict.attestations] == [True, True, True]


def test_malleated_copy_of_an_approval_is_refused_by_the_log_check(world: World) -> None:
    change = world.change("sso")
    bob = world.approval("sso", change, BOB)
    twin = _malleated(bob)
    assert twin != bob
    report = world.verify("sso", change, bob, twin)
    verdict = assert_verdict(
        report, "refused", ["approval_threshold_not_met", "tlog_mismatch"], ["bob"]
    )
    assert [a.reasons for a in verdict.attestations] == [(), (), ("tlog_mismatch",)]
    # alone it counts for nothing; beside a second person the threshold is met by bob + carol
    report = world.verify("sso", change, twin, policy=world.policy(required=1))
    assert_verdict(report, "refused", ["approval_threshold_not_met", "tlog_mismatch"])
    report = world.verify("sso", change, twin, bob, world.approval("sso", change, CAROL))
    assert_verdict(report, "ok", [], ["bob", "carol"])


def test_key_signed_approver_counts(world: World) -> None:
    change = world.change("sso")
    key_line = world.approval("sso", change, BOB_KEY)
    report = world.verify("sso", change, key_line, world.approval("sso", change, CAROL))
    verdict = assert_verdict(report, "ok", [], ["bob", "carol"])
    (by_key,) = [a for a in verdict.attestations if a.format == "envelope"]
    assert by_key.kind == "approval" and by_key.approver == "bob"
    assert by_key.signer is not None and by_key.signer.startswith("key:")


# --- D19 self-approval ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("approvers", "signer"),
    [
        pytest.param((Approver("wrapper", AGENT_ID),), AGENT_ID, id="wrapper-identity"),
        # the wrapper's identity belongs to carol: carol may not approve its changes
        pytest.param((Approver("carol", AGENT_ID),), CAROL, id="wrapper-is-carol-by-person"),
        pytest.param(
            (Approver("carol", pattern=r"^agent-[a-z]+@example\.com$"),),
            CAROL,
            id="wrapper-is-carol-by-pattern",
        ),
    ],
)
def test_approval_by_the_change_signer_is_self_approval(
    world: World, approvers: tuple[Approver, ...], signer: str
) -> None:
    policy = world.policy(required=1, approvers=(*APPROVERS, *approvers))
    change = world.change("sso")
    mine = world.approval("sso", change, signer, policy=policy)
    report = world.verify("sso", change, mine, policy=policy)
    verdict = assert_verdict(report, "refused", ["approval_threshold_not_met", "self_approval"])
    assert results_by_signer(verdict) == {signer: ()}  # a valid signature, just not countable
    # someone else's approval still counts: only the self-approval was discarded
    report = world.verify("sso", change, mine, world.approval("sso", change, BOB), policy=policy)
    assert_verdict(report, "ok", [], ["bob"])


@pytest.mark.parametrize(
    "prompter",
    [ALICE, "Alice@Corp.Example", "alice"],
    ids=["identity", "other-identity-other-case", "person-name"],
)
@pytest.mark.parametrize("signer", [ALICE, ALICE_CORP])
def test_approval_by_the_prompter_is_self_approval(
    world: World, prompter: str, signer: str
) -> None:
    change = world.change("sso", prompter=prompter)
    mine = world.approval("sso", change, signer)
    one = world.policy(required=1)
    report = world.verify("sso", change, mine, policy=one)
    assert_verdict(report, "refused", ["approval_threshold_not_met", "self_approval"])
    report = world.verify(
        "sso",
        change,
        mine,
        world.approval("sso", change, BOB),
        world.approval("sso", change, CAROL),
    )
    assert_verdict(report, "ok", [], ["bob", "carol"])


def test_prompter_of_any_valid_change_attestation_is_excluded(world: World) -> None:
    """Two valid change attestations of one commit: alice prompted one of them."""
    dave, alice = world.change("sso"), world.change("sso", prompter=ALICE)
    report = world.verify(
        "sso", dave, alice, world.approval("sso", dave, ALICE), policy=world.policy(required=1)
    )
    assert_verdict(report, "refused", ["approval_threshold_not_met", "self_approval"])


@pytest.mark.parametrize("signer", [BOB, BOB_CORP, BOB_KEY], ids=["person", "identity", "key"])
def test_approval_by_the_commit_author_is_self_approval(world: World, signer: str) -> None:
    """The author is bob@corp.example: each of bob's identities and his key are excluded."""
    change = world.change("by-bob")
    mine = world.approval("by-bob", change, signer)
    report = world.verify("by-bob", change, mine, world.approval("by-bob", change, CAROL))
    assert_verdict(report, "refused", ["approval_threshold_not_met", "self_approval"], ["carol"])
    report = world.verify(
        "by-bob",
        change,
        mine,
        world.approval("by-bob", change, CAROL),
        world.approval("by-bob", change, ALICE),
    )
    assert_verdict(report, "ok", [], ["alice", "carol"])


@pytest.mark.parametrize("signer", [BOB, BOB_CORP], ids=["identity-other-case", "person"])
def test_approval_by_the_committer_is_self_approval(world: World, signer: str) -> None:
    """The committer is Bob@Example.com (author is someone else)."""
    change = world.change("committed-by-bob")
    mine = world.approval("committed-by-bob", change, signer)
    report = world.verify("committed-by-bob", change, mine, policy=world.policy(required=1))
    assert_verdict(report, "refused", ["approval_threshold_not_met", "self_approval"])


def test_author_matched_through_an_approver_pattern_is_self_approval(world: World) -> None:
    """bob+laptop@example.com is bob only through his ``identity_pattern``."""
    change = world.change("by-bob-plus")
    plain = world.policy(required=1)
    patterned = world.policy(
        required=1, approvers=(*APPROVERS, Approver("bob", pattern=r"^bob\+[a-z]+@example\.com$"))
    )
    bob = world.approval("by-bob-plus", change, BOB)
    # control: without the pattern nothing ties the author to bob, so bob's approval counts
    assert_verdict(world.verify("by-bob-plus", change, bob, policy=plain), "ok", [], ["bob"])
    report = world.verify("by-bob-plus", change, bob, policy=patterned)
    assert_verdict(report, "refused", ["approval_threshold_not_met", "self_approval"])


# --- approvers the policy does not list ----------------------------------------------------------


@pytest.mark.parametrize(
    ("signer", "issuer", "reason"),
    [
        pytest.param(MALLORY, None, "approver_not_allowed", id="unlisted-identity"),
        pytest.param(ALICE, OTHER_ISSUER, "approver_not_allowed", id="listed-name-other-issuer"),
        pytest.param(AGENT_ID, None, "approver_not_allowed", id="change-signer-not-an-approver"),
        pytest.param(MALLORY_KEY, None, "key_unknown", id="unlisted-key"),
    ],
)
def test_approval_by_someone_not_allowed_is_refused(
    world: World, signer: str, issuer: str | None, reason: str
) -> None:
    change = world.change("sso")
    theirs = world.approval("sso", change, signer, issuer=issuer)
    report = world.verify("sso", change, theirs, policy=world.policy(required=1))
    verdict = assert_verdict(report, "refused", ["approval_threshold_not_met", reason])
    (approval,) = [a for a in verdict.attestations if a.kind == "approval"]
    assert (approval.reasons, approval.approver) == ((reason,), None)


# --- D21 an approval claimed inside the change predicate ------------------------------------------


def test_approval_claimed_in_the_change_predicate_is_no_approval(world: World) -> None:
    change = world.change("sso")

    def claim(statement: Json) -> None:
        statement["predicate"]["approved_by"] = "alice"
        statement["predicate"]["approvals"] = [
            {"person": person, "decision": "approve"} for person in ("bob", "carol")
        ]

    statement = statement_of(change)
    claim(statement)
    claimed = sign_line(world.inst, statement_bytes(statement))  # the wrapper, for real
    for policy in (world.policy(required=1), world.policy(required=2)):
        report = world.verify("sso", claimed, policy=policy)
        verdict = assert_verdict(report, "refused", ["approval_missing"])
        (only,) = verdict.attestations
        assert (only.kind, only.ok, only.signer) == ("change", True, AGENT_ID)
        extra = only.predicate.model_extra if only.predicate is not None else None
        assert extra is not None and extra["approved_by"] == "alice"  # kept, never counted


# --- B10 / D approvals of another change attestation or another commit ---------------------------


def test_approval_of_a_replaced_change_attestation_does_not_count(world: World) -> None:
    """Approve A, then the note holds only a re-stamped A' (other prompter) and that approval."""
    first, second = world.change("sso"), world.change("sso", prompter=MALLORY)
    assert _digest(first) != _digest(second)
    bob = world.approval("sso", first, BOB)
    report = world.verify("sso", second, bob, policy=world.policy(required=1))
    assert_verdict(
        report, "refused", ["approval_for_other_attestation", "approval_threshold_not_met"]
    )
    # with the approved attestation back, the very same approval counts
    report = world.verify("sso", second, first, bob, policy=world.policy(required=1))
    assert_verdict(report, "ok", [], ["bob"])


def test_approval_naming_an_invalid_change_attestation_does_not_count(world: World) -> None:
    change = world.change("sso")
    forged = statement_of(change)
    forged["predicate"]["prompter"] = MALLORY
    untrusted = sign_line(world.inst, statement_bytes(forged), MALLORY)  # not an allowed signer
    bob = world.crafted_approval(
        world.approval("sso", change, BOB), {"change_attestation": {"sha256": _digest(untrusted)}}
    )
    report = world.verify("sso", change, untrusted, bob, policy=world.policy(required=1))
    verdict = assert_verdict(
        report, "refused", ["approval_for_other_attestation", "approval_threshold_not_met"]
    )
    assert [(a.kind, a.reasons) for a in verdict.attestations] == [
        ("change", ()),
        ("change", ("signer_not_allowed",)),
        ("approval", ()),
    ]


def test_approval_naming_no_attestation_at_all_does_not_count(world: World) -> None:
    change = world.change("sso")
    bob = world.crafted_approval(
        world.approval("sso", change, BOB), {"change_attestation": {"sha256": "f" * 64}}
    )
    report = world.verify("sso", change, bob, policy=world.policy(required=1))
    assert_verdict(
        report, "refused", ["approval_for_other_attestation", "approval_threshold_not_met"]
    )


def test_approval_copied_from_another_commit_does_not_count(world: World) -> None:
    other = world.change("by-bob")
    copied = world.approval("by-bob", other, CAROL)
    change = world.change("sso")
    report = world.verify("sso", change, world.approval("sso", change, BOB), copied)
    verdict = assert_verdict(
        report, "refused", ["approval_threshold_not_met", "subject_mismatch"], ["bob"]
    )
    assert results_by_signer(verdict) == {BOB: (), CAROL: ("subject_mismatch",)}


def test_approval_whose_predicate_names_another_commit_does_not_count(world: World) -> None:
    """Right subject, but the signed predicate is about another commit."""
    change = world.change("sso")
    other = world.commits["by-bob"]
    parent = world.repo.git("rev-parse", f"{other}~1")
    tree = world.repo.git("rev-parse", f"{other}^{{tree}}")
    carol = world.crafted_approval(
        world.approval("sso", change, CAROL),
        {"commit": {"sha": other, "tree": tree, "parents": [parent]}},
        signer=CAROL,
    )
    report = world.verify("sso", change, world.approval("sso", change, BOB), carol)
    verdict = assert_verdict(
        report, "refused", ["approval_threshold_not_met", "predicate_commit_mismatch"], ["bob"]
    )
    assert results_by_signer(verdict)[CAROL] == ("predicate_commit_mismatch",)


# --- decisions: the latest of each person wins ---------------------------------------------------


@pytest.mark.parametrize("stored", ["in-order", "reversed"])
def test_reject_then_later_approve_by_the_same_person_passes(world: World, stored: str) -> None:
    change = world.change("sso")
    no = world.approval("sso", change, BOB, "reject", fresh=True)
    yes = world.approval("sso", change, BOB, fresh=True)
    decisions = [no, yes] if stored == "in-order" else [yes, no]  # e.g. after a sorted union
    report = world.verify("sso", change, *decisions, world.approval("sso", change, CAROL))
    assert_verdict(report, "ok", [], ["bob", "carol"])


@pytest.mark.parametrize("stored", ["in-order", "reversed"])
def test_approve_then_later_reject_blocks(world: World, stored: str) -> None:
    change = world.change("sso")
    yes = world.approval("sso", change, BOB, fresh=True)
    no = world.approval("sso", change, BOB, "reject", fresh=True)
    decisions = [yes, no] if stored == "in-order" else [no, yes]
    report = world.verify("sso", change, *decisions, world.approval("sso", change, CAROL))
    assert_verdict(report, "refused", ["approval_rejected"], ["carol"])


def test_reject_through_another_identity_of_the_same_person_blocks(world: World) -> None:
    change = world.change("sso")
    yes = world.approval("sso", change, BOB, fresh=True)
    no = world.approval("sso", change, BOB_CORP, "reject", fresh=True)
    report = world.verify("sso", change, yes, no, world.approval("sso", change, CAROL))
    assert_verdict(report, "refused", ["approval_rejected"], ["carol"])


def test_reject_by_a_non_approver_is_ignored(world: World) -> None:
    change = world.change("sso")
    no = world.approval("sso", change, MALLORY, "reject")
    report = world.verify(
        "sso", change, no, world.approval("sso", change, BOB), world.approval("sso", change, CAROL)
    )
    verdict = assert_verdict(report, "ok", [], ["bob", "carol"])
    assert results_by_signer(verdict)[MALLORY] == ("approver_not_allowed",)


def test_decision_time_without_timezone_never_crashes_the_count(world: World) -> None:
    """A key-signed decision (no log time) whose ``decided_at`` carries no timezone."""
    change = world.change("sso")
    naive = world.crafted_approval(
        world.approval("sso", change, BOB_KEY), {"decided_at": "2020-01-01T00:00:00"}, BOB_KEY
    )
    report = world.verify(
        "sso",
        change,
        naive,
        world.approval("sso", change, BOB),
        world.approval("sso", change, CAROL),
    )
    assert_verdict(report, "ok", [], ["bob", "carol"])


# --- D22 the approver list in force comes from the base of the range -----------------------------


#: The candidate's approver list: bob removed, mallory added.
WEAKENED = (*(a for a in APPROVERS if a.person != "bob"), Approver("mallory", MALLORY))


@dataclass
class Edited:
    """A range whose first commit edits the approver list; the second is an SSO change."""

    policy_edit: str
    change: str
    lines: dict[str, list[bytes]]

    def gate(self, world: World, *more: bytes) -> Report:
        """Store the fixture's lines (plus ``more`` on the SSO change), then run the gate."""
        for name, lines in self.lines.items():
            world.store(world.commits[name], [*lines, *(more if name == "saml" else ())])
        with network_restored():
            return verify_range(world.repo.path, f"{world.base}..{self.change}", world.options())


@pytest.fixture(scope="module")
def edited(world: World) -> Edited:
    """Candidate policy: bob removed, mallory added, one approval enough. BASE requires two."""
    repo = world.repo
    repo.git("checkout", "-q", "-b", "edit-approvers", world.base)
    edit = repo.commit(
        "approvers",
        {".provenance/policy.toml": policy_text(world.inst.default_issuer, 1, WEAKENED)},
    )
    change = repo.commit("SAML login", {"app/auth/saml.py": SSO_CALLBACK})
    repo.git("checkout", "-q", "main")
    world.commits["policy-edit"], world.commits["saml"] = edit, change
    a_edit, a_change = world.change("policy-edit"), world.change("saml")
    lines = {
        "policy-edit": [
            a_edit,
            world.approval("policy-edit", a_edit, ALICE),
            world.approval("policy-edit", a_edit, CAROL),
        ],
        "saml": [
            a_change,
            world.approval("saml", a_change, MALLORY),
            world.approval("saml", a_change, BOB),
        ],
    }
    return Edited(edit, change, lines)


def test_candidate_policy_edits_do_not_change_who_may_approve(world: World, edited: Edited) -> None:
    report = edited.gate(world)
    assert report.policy_source.startswith(world.base[:12])
    first, second = report.commits
    assert first.commit == edited.policy_edit and second.commit == edited.change
    # the policy edit is itself identity-related and was approved under BASE's list
    assert (first.status, first.reasons, first.approvers) == ("ok", (), ("alice", "carol"))
    assert "meta.provenance" in first.rules
    # mallory (added by the candidate) is refused; bob (removed by it) still counts; BASE's
    # threshold of 2 applies, not the candidate's 1
    assert (second.status, second.reasons, second.approvers) == (
        "refused",
        ("approval_threshold_not_met", "approver_not_allowed"),
        ("bob",),
    )
    assert results_by_signer(second) == {MALLORY: ("approver_not_allowed",), BOB: ()}
    assert report.result == "refused"
    # control: had the candidate's own policy been in force, mallory alone would have passed it
    candidate = world.policy(1, WEAKENED)
    with network_restored():
        spec = f"{world.base}..{edited.change}"
        weakened = verify_range(world.repo.path, spec, world.options(candidate))
    assert [(c.status, c.approvers) for c in weakened.commits] == [
        ("ok", ("alice", "carol")),
        ("ok", ("mallory",)),
    ]


def test_range_passes_once_base_approvers_suffice(world: World, edited: Edited) -> None:
    report = edited.gate(world, world.approval("saml", edited.lines["saml"][0], CAROL))
    assert report.result == "passed"
    assert [(c.status, c.approvers) for c in report.commits] == [
        ("ok", ("alice", "carol")),
        ("ok", ("bob", "carol")),
    ]


# --- review findings: how a person is recognised, and what one approval is bound to ---------


def _refused_for(report: Report, reason: str) -> None:
    (verdict,) = report.commits
    assert verdict.status == "refused" and reason in verdict.reasons, verdict


def _public_pem_of(world: World, who: str) -> str:
    key = load_pem_private_key(world.keys[who].read_bytes(), None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.mark.parametrize("emails", [(), ("mallory@example.com",)])
def test_a_key_approver_who_prompted_the_change_is_not_counted(
    world: World, emails: tuple[str, ...]
) -> None:
    # A key approver has no identity: the prompter's address is matched by its local part,
    # or by the addresses the policy lists for the person.
    (world.policy_dir / "keys" / "mallory.pub.pem").write_text(_public_pem_of(world, MALLORY_KEY))
    mallory = Approver("Mallory", key="keys/mallory.pub.pem", emails=emails)
    policy = world.policy(required=1, approvers=(*APPROVERS, mallory))
    change = world.change("sso", prompter=MALLORY)
    mine = world.approval("sso", change, MALLORY_KEY, policy=policy)
    _refused_for(world.verify("sso", change, mine, policy=policy), "self_approval")


def test_person_names_differing_in_case_are_one_person(world: World) -> None:
    approvers = tuple(a if a.key is None else replace(a, person="Bob") for a in APPROVERS)
    policy = world.policy(required=2, approvers=approvers)
    change = world.change("sso")
    by_key = world.approval("sso", change, BOB_KEY, policy=policy)
    by_identity = world.approval("sso", change, BOB, policy=policy)
    report = world.verify("sso", change, by_key, by_identity, policy=policy)
    _refused_for(report, "approval_threshold_not_met")
    assert report.commits[0].approvers == ("bob",)


@pytest.mark.parametrize(
    "who",
    ["Bob <bob@example.com>", "bob@laptop.local"],
    ids=["prompter-in-git-format", "prompter-by-local-part"],
)
def test_the_prompter_written_another_way_is_still_the_prompter(world: World, who: str) -> None:
    change = world.change("sso", prompter=who)
    report = world.verify("sso", change, world.approval("sso", change, BOB))
    _refused_for(report, "self_approval")


def test_the_author_by_name_cannot_approve(world: World) -> None:
    identity = {"GIT_AUTHOR_NAME": "bob", "GIT_AUTHOR_EMAIL": "bob@laptop.local"}
    world.commits["bobs"] = world.repo.commit(
        "SSO by bob", {"app/auth/b.py": SSO_CALLBACK}, **identity
    )
    change = world.change("bobs")
    report = world.verify("bobs", change, world.approval("bobs", change, BOB))
    _refused_for(report, "self_approval")


def test_approvals_of_two_different_change_attestations_do_not_add_up(world: World) -> None:
    first = world.change("sso")
    second = world.change("sso", prompter="erin@example.com")
    policy = world.policy(required=2)
    report = world.verify(
        "sso",
        first,
        second,
        world.approval("sso", first, BOB, policy=policy),
        world.approval("sso", second, CAROL, policy=policy),
        policy=policy,
    )
    _refused_for(report, "approval_threshold_not_met")
    both = world.approval("sso", first, CAROL, policy=policy)
    report = world.verify(
        "sso", first, second, world.approval("sso", first, BOB, policy=policy), both, policy=policy
    )
    assert report.commits[0].status == "ok" and report.commits[0].approvers == ("bob", "carol")


def test_a_key_approval_dated_in_the_future_does_not_undo_a_logged_reject(world: World) -> None:
    change = world.change("sso")
    no = world.approval("sso", change, BOB, "reject", fresh=True)
    future = world.crafted_approval(
        world.approval("sso", change, BOB_KEY), {"decided_at": "2099-01-01T00:00:00Z"}, BOB_KEY
    )
    report = world.verify("sso", change, future, no, world.approval("sso", change, CAROL))
    _refused_for(report, "approval_rejected")


def test_a_reject_blocks_even_when_no_approval_is_required(world: World) -> None:
    change = world.change("sso")
    no = world.approval("sso", change, BOB, "reject", fresh=True)
    report = world.verify("sso", change, no, policy=world.policy(required=0))
    _refused_for(report, "approval_rejected")


# --- G44: a re-dated copy of an old approval -----------------------------------------------------


def _redated(old: bytes, later: bytes, spelling: str) -> bytes:
    """``old`` with its SET renamed to ``spelling`` and ``later``'s TSA token in place of its own.

    The token was issued for another signature, so sigstore never verified it; the SET (which
    sigstore reads under either spelling) still gives the old, genuine time.
    """

    def edit(doc: Json) -> None:
        material = doc["verificationMaterial"]
        entry = material["tlogEntries"][0]
        entry[spelling] = entry.pop("inclusionPromise")
        material["timestampVerificationData"] = json.loads(later)["verificationMaterial"][
            "timestampVerificationData"
        ]

    return mutated(old, edit)


@pytest.mark.parametrize("spelling", ["inclusion_promise", "inclusionPromise"])
def test_a_re_dated_copy_of_an_old_approval_does_not_undo_a_later_reject(
    world: World, spelling: str
) -> None:
    """THREATS.md G44: the SET hidden behind snake_case made an unverified token the time."""
    change = world.change("sso")
    yes = world.approval("sso", change, BOB, fresh=True)
    no = world.approval("sso", change, BOB, "reject", fresh=True)
    time.sleep(1.1)  # signed times have one-second resolution
    later = world.approval("sso", change, CAROL, fresh=True)  # timestamped after the reject
    copy = _redated(yes, later, spelling)
    report = world.verify("sso", change, yes, no, copy, later)
    verdict = assert_verdict(report, "refused", ["approval_rejected"], ["carol"])
    copied = next(a for a in verdict.attestations if a.index == 3)
    if spelling == "inclusion_promise":
        assert copied.reasons == ("bundle_noncanonical",)
    else:  # canonical spelling: it verifies, with the SET's time, never the token's
        genuine = next(a for a in verdict.attestations if a.index == 1)
        assert copied.ok and copied.signed_time == genuine.signed_time


def test_the_index_never_shows_a_non_canonical_bundle_as_verified(
    world: World, tmp_path: Path
) -> None:
    """THREATS.md G44: ``index`` runs the same verification, so the copy is a refused line."""
    from provenance.app.audit import build_index

    change = world.change("sso")
    yes = world.approval("sso", change, BOB, fresh=True)
    copy = _redated(yes, world.approval("sso", change, CAROL, fresh=True), "inclusion_promise")
    world.store(world.commits["sso"], [change, copy])
    db = tmp_path / "index.sqlite"
    with network_restored():
        build_index(world.repo.path, world.options(world.policy()), db=db)
    sso = world.commits["sso"]
    with sqlite3.connect(db) as conn:
        lines = conn.execute("SELECT ok, reasons FROM lines WHERE commit_sha = ?", (sso,))
        rows = conn.execute("SELECT kind FROM attestations WHERE commit_sha = ?", (sso,))
        assert sorted(lines) == [(0, "bundle_noncanonical"), (1, "")]
        assert [k for (k,) in rows] == ["change"]

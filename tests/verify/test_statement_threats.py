"""THREATS.md B: statements signed for real by the trusted signer, with one property wrong."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pytest

from provenance.gitio import Git, read_commit
from provenance.predicates import APPROVAL_PREDICATE_TYPE, CHANGE_PREDICATE_TYPE
from tests.conftest import Golden
from tests.helpers import SSO_CALLBACK
from tests.verify._support import (
    Json,
    Lab,
    agent_policy,
    assert_passed,
    assert_refused,
    check,
    policy_file,
    sign_unchecked,
)

Signing = Literal["client", "unchecked"]


def _sign(lab: Lab, mutation: Callable[[Json], object], signing: Signing) -> bytes:
    """``client``: the statement passes sigstore-python's own model; ``unchecked``: it does not."""
    return lab.resign(mutation) if signing == "client" else lab.resign_unchecked(mutation)


def _pop(*path: str) -> Callable[[Json], None]:
    def edit(statement: Json) -> None:
        node = statement["predicate"]
        for key in path[:-1]:
            node = node[key]
        node.pop(path[-1])

    return edit


def _set(value: object, *path: str | int) -> Callable[[Json], None]:
    def edit(statement: Json) -> None:
        node: Any = statement
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


def _digest(value: object) -> Callable[[Json], None]:
    return _set(value, "subject", 0, "digest")


def test_resigned_golden_statement_passes(lab: Lab) -> None:
    """Control: re-signing the untouched statement through the test helper passes."""
    assert_passed(lab.verify(lab.resign(lambda _: None)))


def test_unchecked_signing_path_passes_on_a_good_statement(lab: Lab) -> None:
    """Control for the helper that skips the client's statement model."""
    assert_passed(lab.verify(lab.resign_unchecked(lambda _: None)))


# --- B7 statement type, predicate type, predicate schema ----------------------------------------


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(_set("https://in-toto.io/Statement/v0.1", "_type"), id="v0.1"),
        pytest.param(_set("https://in-toto.io/Statement/v1/", "_type"), id="trailing-slash"),
        pytest.param(_set("https://in-toto.io/Statement/V1", "_type"), id="case"),
        pytest.param(_set("", "_type"), id="empty"),
        pytest.param(lambda st: st.pop("_type"), id="missing"),
    ],
)
def test_statement_type_not_v1_is_refused(lab: Lab, edit: Callable[[Json], object]) -> None:
    # sigstore-python's client refuses to sign these; an attacker's client would not.
    assert_refused(lab.verify(lab.resign_unchecked(edit)), "statement_type_invalid")


def _extra_subject(subject: Json) -> Callable[[Json], None]:
    def edit(statement: Json) -> None:
        statement["subject"].append(subject)

    return edit


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(_extra_subject({"name": "other", "digest": {}}), id="subject-without-digest"),
        pytest.param(_extra_subject({"digest": {"sha512": 7}}), id="digest-not-a-string"),
        pytest.param(_extra_subject({"name": 5, "digest": {"sha1": "ab"}}), id="name-not-a-string"),
        pytest.param(_set(["x"], "subject", 0, "annotations"), id="annotations-not-an-object"),
    ],
)
def test_statement_in_toto_refuses_is_refused(lab: Lab, edit: Callable[[Json], object]) -> None:
    """THREATS.md B7: what in-toto's own Statement v1 bindings refuse is never accepted.

    Each statement names the commit's digest correctly and carries a valid predicate, so the
    project's own checks pass it; in_toto_attestation's validation refuses it.
    """
    assert_refused(lab.verify(lab.resign_unchecked(edit)), "statement_malformed")


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"\xff\xfe not utf-8", id="not-utf8"),
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b'["https://in-toto.io/Statement/v1"]', id="array"),
        pytest.param(b'{"_type":"https://in-toto.io/Statement/v1","x":NaN}', id="nan"),
        pytest.param(b'{"_type":"https://in-toto.io/Statement/v1","x":1' + b"0" * 5000 + b"}",
                     id="huge-integer"),
    ],
)  # fmt: skip
def test_signed_payload_that_is_no_json_object_is_refused(lab: Lab, payload: bytes) -> None:
    assert_refused(lab.verify(sign_unchecked(lab.inst, payload)), "statement_malformed")


@pytest.mark.parametrize(
    ("predicate_type", "signing"),
    [
        ("https://slsa.dev/provenance/v1", "client"),
        (CHANGE_PREDICATE_TYPE + "/", "client"),
        (CHANGE_PREDICATE_TYPE.replace("/v1", "/v2"), "client"),
        (CHANGE_PREDICATE_TYPE.upper(), "client"),
        (None, "unchecked"),
    ],
)
def test_other_predicate_type_is_refused(
    lab: Lab, predicate_type: str | None, signing: Signing
) -> None:
    def edit(statement: Json) -> None:
        if predicate_type is None:
            statement.pop("predicateType")
        else:
            statement["predicateType"] = predicate_type

    assert_refused(lab.verify(_sign(lab, edit, signing)), "predicate_type_unknown")


def test_change_body_under_approval_type_is_refused(lab: Lab) -> None:
    signed = lab.resign(_set(APPROVAL_PREDICATE_TYPE, "predicateType"))
    assert_refused(lab.verify(signed), "predicate_invalid")


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(_pop("prompter"), id="no-prompter"),
        pytest.param(_pop("agent"), id="no-agent"),
        pytest.param(_pop("agent", "model"), id="no-model"),
        pytest.param(_pop("commit"), id="no-commit"),
        pytest.param(_pop("commit", "tree"), id="no-tree"),
        pytest.param(_pop("repository", "uri"), id="no-repository-uri"),
        pytest.param(_pop("changes"), id="no-changes"),
        pytest.param(_pop("stamped_at"), id="no-time"),
        pytest.param(_pop("prompt", "digest"), id="no-prompt-digest"),
        pytest.param(_set("yesterday", "predicate", "stamped_at"), id="bad-time"),
        pytest.param(_set("abc123", "predicate", "commit", "sha"), id="short-sha"),
        pytest.param(_set("md5", "predicate", "prompt", "algorithm"), id="bad-algorithm"),
        pytest.param(_set("", "predicate", "prompter"), id="empty-prompter"),
        pytest.param(_set(None, "predicate"), id="null-predicate"),
    ],
)
def test_predicate_failing_schema_is_refused(lab: Lab, edit: Callable[[Json], object]) -> None:
    assert_refused(lab.verify(lab.resign(edit)), "predicate_invalid")


def test_predicate_not_an_object_is_refused(lab: Lab) -> None:
    # The client's model wants an object predicate; an attacker's client does not care.
    signed = lab.resign_unchecked(_set(["not", "an", "object"], "predicate"))
    assert_refused(lab.verify(signed), "predicate_invalid")


# --- B8 subject shape ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "signing", "reason"),
    [
        pytest.param(_set([], "subject"), "unchecked", "subject_missing", id="empty-list"),
        pytest.param(lambda st: st.pop("subject"), "unchecked", "subject_missing", id="missing"),
        pytest.param(
            lambda st: st["subject"][0].pop("digest"), "unchecked", "subject_missing",
            id="no-digest",
        ),
        pytest.param(_digest("ab" * 32), "unchecked", "subject_missing", id="digest-not-object"),
        pytest.param(
            lambda st: st["subject"][0]["digest"].update(sha512="ab" * 64)
            or st["subject"][0]["digest"].pop("sha256"),
            "client", "subject_digest_unsupported", id="sha512-only",
        ),
        pytest.param(
            lambda st: st["subject"][0].__setitem__(
                "digest", {"gitCommit": st["predicate"]["commit"]["sha"]}
            ),
            "unchecked", "subject_digest_unsupported", id="gitCommit-only",
        ),
        pytest.param(_digest({}), "client", "subject_digest_unsupported", id="empty-digest"),
        pytest.param(
            lambda st: st["subject"][0]["digest"].update(
                sha256=st["subject"][0]["digest"]["sha256"].upper()
            ),
            "client", "subject_digest_malformed", id="uppercase-hex",
        ),
        pytest.param(
            lambda st: st["subject"][0]["digest"].update(
                sha256=st["subject"][0]["digest"]["sha256"][:12]
            ),
            "client", "subject_digest_malformed", id="abbreviated-hex",
        ),
        pytest.param(
            lambda st: st["subject"][0]["digest"].update(
                sha256="sha256:" + st["subject"][0]["digest"]["sha256"]
            ),
            "client", "subject_digest_malformed", id="prefixed-hex",
        ),
        pytest.param(
            lambda st: st["subject"][0]["digest"].update(sha256=123),
            "unchecked", "subject_digest_malformed", id="number",
        ),
    ],
)  # fmt: skip
def test_malformed_subject_is_refused(
    lab: Lab, edit: Callable[[Json], object], signing: Signing, reason: str
) -> None:
    assert_refused(lab.verify(_sign(lab, edit, signing)), reason)


# --- B9 subject bound to something else ---------------------------------------------------------


def _framed(kind: bytes, raw: bytes) -> str:
    return hashlib.sha256(b"%s %d\x00" % (kind, len(raw)) + raw).hexdigest()


def _tree_digest(golden: Golden) -> str:
    git = Git.discover(golden.repo.path)
    commit = read_commit(git, golden.commit)
    return _framed(b"tree", git.out("cat-file", "tree", commit.tree))


def _parent_digest(golden: Golden) -> str:
    git = Git.discover(golden.repo.path)
    (parent,) = read_commit(git, golden.commit).parents
    return read_commit(git, parent).digest


def _other_commit_digest(golden: Golden) -> str:
    """A sibling commit object (same tree and parent), made without moving HEAD."""
    git = Git.discover(golden.repo.path)
    commit = read_commit(git, golden.commit)
    other = golden.repo.git(
        "commit-tree", commit.tree, "-p", commit.parents[0], "-m", "Add SSO callback (sibling)"
    )
    assert other != golden.commit
    return read_commit(git, other).digest


def _unframed_digest(golden: Golden) -> str:
    """sha256 of the raw commit bytes without git's ``commit <len>\\0`` header."""
    return hashlib.sha256(
        read_commit(Git.discover(golden.repo.path), golden.commit).raw
    ).hexdigest()


@pytest.mark.parametrize(
    "wrong_digest",
    [
        pytest.param(_tree_digest, id="tree"),
        pytest.param(_parent_digest, id="parent"),
        pytest.param(_other_commit_digest, id="another-commit"),
        pytest.param(_unframed_digest, id="unframed-commit"),
        pytest.param(lambda _: "0" * 64, id="zeros"),
    ],
)
def test_subject_digest_of_something_else_is_refused(
    lab: Lab, wrong_digest: Callable[[Golden], str]
) -> None:
    digest = wrong_digest(lab.golden)
    statement = lab.statement
    subject = statement["subject"][0]
    # Name and annotations still name the right commit: only the digest is wrong.
    assert subject["name"] == f"git-commit:{lab.golden.commit}"
    assert subject["annotations"]["gitCommit"] == lab.golden.commit
    assert digest != subject["digest"]["sha256"]
    signed = lab.resign(lambda st: st["subject"][0]["digest"].update(sha256=digest))
    assert_refused(lab.verify(signed), "subject_mismatch")


# --- B10 attestation moved to another commit, repository or predicate ---------------------------


def _copy_note(golden: Golden, to: str) -> None:
    golden.replace_notes(golden.notes(golden.commit), to)


def test_attestation_copied_onto_another_commit_is_refused(golden: Golden) -> None:
    other = golden.repo.commit("Tweak SSO", {"app/auth/sso.py": SSO_CALLBACK + "TTL = 60\n"})
    _copy_note(golden, other)
    assert_refused(check(golden, other), "subject_mismatch")
    assert_passed(check(golden, golden.commit))


@pytest.mark.parametrize("carry_note", [True, False], ids=["note-copied", "note-not-carried"])
def test_amended_commit_without_new_attestation_is_refused(
    golden: Golden, carry_note: bool
) -> None:
    golden.repo.git("commit", "--amend", "-q", "-m", "Add SSO callback (amended)")
    amended = golden.repo.git("rev-parse", "HEAD")
    assert amended != golden.commit
    if carry_note:
        _copy_note(golden, amended)
        assert_refused(check(golden, amended), "subject_mismatch")
    else:
        assert_refused(check(golden, amended), "attestation_missing")


def test_cherry_picked_commit_with_copied_note_is_refused(golden: Golden) -> None:
    golden.repo.git("checkout", "-q", "-b", "release", f"{golden.commit}~1")
    golden.repo.commit("Unrelated", {"README.md": "release\n"})
    golden.repo.git("cherry-pick", golden.commit)
    picked = golden.repo.git("rev-parse", "HEAD")
    _copy_note(golden, picked)
    assert_refused(check(golden, picked), "subject_mismatch")


def _pinned_policy(tmp_path: Path, lab: Lab, repository: str) -> Path:
    return policy_file(tmp_path, agent_policy(lab.inst, f'repository = "{repository}"'))


def test_repository_pinned_by_policy_accepts_the_stamped_uri(lab: Lab, tmp_path: Path) -> None:
    uri = lab.statement["predicate"]["repository"]["uri"]
    assert_passed(lab.verify(policy=_pinned_policy(tmp_path, lab, uri)))


def test_attestation_from_another_repository_is_refused(lab: Lab, tmp_path: Path) -> None:
    """The golden was stamped in its own clone; the policy pins the canonical repository."""
    policy = _pinned_policy(tmp_path, lab, "https://github.com/example/app")
    assert_refused(lab.verify(policy=policy), "repository_mismatch")


def test_attestation_claiming_a_fork_uri_is_refused(lab: Lab, tmp_path: Path) -> None:
    uri = lab.statement["predicate"]["repository"]["uri"]
    fork = lab.resign(_set("https://github.com/mallory/app", "predicate", "repository", "uri"))
    assert_refused(lab.verify(fork, policy=_pinned_policy(tmp_path, lab, uri)),
                   "repository_mismatch")  # fmt: skip


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda st: st["predicate"]["commit"].update(sha="1" * 40), id="sha"),
        pytest.param(lambda st: st["predicate"]["commit"].update(tree="2" * 40), id="tree"),
        pytest.param(lambda st: st["predicate"]["commit"].update(parents=[]), id="parents"),
    ],
)
def test_predicate_commit_disagreeing_with_subject_is_refused(
    lab: Lab, edit: Callable[[Json], object]
) -> None:
    assert_refused(lab.verify(lab.resign(edit)), "predicate_commit_mismatch")


# --- B11 unknown fields never change the decision -----------------------------------------------


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda st: st["predicate"].update(approved_by="alice@example.com"),
                     id="predicate"),
        pytest.param(lambda st: st["predicate"]["agent"].update(trusted=True), id="agent"),
        pytest.param(lambda st: st["predicate"]["commit"].update(signed=True), id="commit"),
        pytest.param(lambda st: st["predicate"]["changes"][0].update(reviewed=True), id="change"),
        pytest.param(lambda st: st["predicate"]["classifier"].update(override="skip"),
                     id="classifier"),
        pytest.param(lambda st: st.update(comment="unknown statement field"), id="statement"),
        pytest.param(lambda st: st["subject"][0]["annotations"].update(repository="https://x"),
                     id="subject-annotation"),
    ],
)  # fmt: skip
def test_unknown_extra_fields_do_not_change_a_pass(
    lab: Lab, edit: Callable[[Json], object]
) -> None:
    assert_passed(lab.verify(lab.resign(edit)))


def test_unknown_extra_fields_do_not_rescue_a_refusal(lab: Lab) -> None:
    def edit(statement: Json) -> None:
        statement["predicate"].update(approved_by="alice@example.com", verified=True)
        statement["predicate"]["commit"].update(sha="1" * 40)

    assert_refused(lab.verify(lab.resign(edit)), "predicate_commit_mismatch")

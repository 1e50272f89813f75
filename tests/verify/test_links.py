"""Rewrite links: provenance survives squash, rebase, cherry-pick and amend (issue 15).

Every case runs real git and real keyless signing on the dev instance; the gate recomputes
each link from git objects and never trusts it (THREATS.md F35: a commit passes only on
evidence the verifier checks itself).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.app.gate import verify, verify_range
from provenance.app.link import auto_link, link
from provenance.app.options import VerifyOptions
from provenance.devinstance import DevInstance
from provenance.errors import Refusal
from provenance.policy import render_template
from provenance.reasons import Reason
from tests.conftest import AGENT_ID, Golden
from tests.helpers import SSO_CALLBACK, GitRepo

AUTH_LINE = "\n\ndef check_token(token):\n    return verify_jwt(token, key=SECRET_KEY)\n"


def _lab(tmp_path: Path, dev: DevInstance) -> Golden:
    """main with a policy; a feature branch with two stamped identity commits."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit(
        "policy",
        {".provenance/policy.toml": render_template(dev.default_issuer, AGENT_ID),
         "README.md": "app\n"},
    )  # fmt: skip
    repo.git("checkout", "-q", "-b", "feature")
    first = repo.commit("Add SSO callback", {"app/auth/sso.py": SSO_CALLBACK})
    lab = Golden(repo=repo, inst=dev, commit=first, stamped=None)  # type: ignore[arg-type]
    lab.stamped = lab.stamp(first)
    lab.stamp(repo.commit("More SSO", {"app/auth/sso.py": SSO_CALLBACK + AUTH_LINE}))
    repo.git("checkout", "-q", "main")
    return lab


def _options(lab: Golden) -> VerifyOptions:
    return VerifyOptions(trusted_root=lab.inst.trusted_root_path, offline=True)


def _squash_merge(repo: GitRepo, branch: str = "feature") -> str:
    repo.git("merge", "--squash", "-q", branch)
    return repo.commit(f"Squashed {branch}")


def _status(lab: Golden, rev: str = "HEAD") -> tuple[str, tuple[Reason, ...], str | None]:
    (v,) = verify(lab.repo.path, [rev], _options(lab)).commits
    return v.status, v.reasons, v.via


@pytest.fixture
def lab(tmp_path: Path, dev: DevInstance) -> Golden:
    return _lab(tmp_path, dev)


def test_squash_merge_with_main_moved_passes_through_link(lab: Golden) -> None:
    """THREATS.md F35: the squash is refused alone, passes once linked to the stamped range."""
    repo = lab.repo
    base = repo.git("rev-parse", "HEAD")
    repo.commit("docs moved on", {"docs/guide.md": "guide\n"})  # main moved meanwhile
    squash = _squash_merge(repo)
    assert _status(lab) == ("refused", (Reason.ATTESTATION_MISSING,), None)
    link(repo.path, squash, [f"{base}..feature"])
    status, reasons, via = _status(lab)
    assert (status, reasons) == ("ok", ())
    tip = repo.git("rev-parse", "feature")
    assert via == f"squash of {base[:8]}..{tip[:8]}"
    ranged = verify_range(repo.path, f"{base}..HEAD", _options(lab))
    assert ranged.result == "passed"
    assert repo.git("rev-parse", f"refs/provenance/sources/{tip}") == tip


def test_squash_with_identity_line_added_while_squashing_is_refused(lab: Golden) -> None:
    """A line of auth code added in the squash itself needs evidence of its own."""
    repo = lab.repo
    base = repo.git("rev-parse", "HEAD")
    repo.git("merge", "--squash", "-q", "feature")
    repo.write("app/auth/sso.py", (repo.path / "app/auth/sso.py").read_text() + AUTH_LINE)
    squash = repo.commit("Squashed feature, plus a line")
    with pytest.raises(Refusal) as refused:
        link(repo.path, squash, [f"{base}..feature"])
    assert refused.value.reason == Reason.LINK_NOT_EQUIVALENT


def test_rebase_merge_links_each_commit(lab: Golden) -> None:
    """Rebase-merge: each rebased commit linked 1:1 (found by --auto's patch ids) passes."""
    repo = lab.repo
    base = repo.git("rev-parse", "HEAD")
    repo.commit("docs moved on", {"docs/guide.md": "guide\n"})
    moved = repo.git("rev-parse", "HEAD")
    repo.git("checkout", "-q", "-b", "rebased", "feature")
    repo.git("rebase", "-q", moved)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "rebased")
    repo.git("branch", "-q", "-D", "rebased")
    assert verify_range(repo.path, f"{base}..HEAD", _options(lab)).result == "refused"
    found = auto_link(repo.path, f"{base}..HEAD")
    assert [x.link.describe().split(" of ")[0] for x in found] == ["rewrite", "rewrite"]
    report = verify_range(repo.path, f"{base}..HEAD", _options(lab))
    assert [c.status for c in report.commits] == ["not-required", "ok", "ok"]


def test_amend_of_message_only_passes_and_amend_adding_auth_line_is_refused(lab: Golden) -> None:
    repo = lab.repo
    repo.git("checkout", "-q", "feature")
    old = repo.git("rev-parse", "HEAD")
    repo.git("commit", "-q", "--amend", "-m", "More SSO, reworded")
    link(repo.path, "HEAD", [old])
    assert _status(lab)[:2] == ("ok", ())
    reworded = repo.git("rev-parse", "HEAD")
    repo.write("app/auth/sso.py", (repo.path / "app/auth/sso.py").read_text() + "ADMIN = 1\n")
    repo.git("commit", "-q", "-a", "--amend", "-m", "More SSO, with admin")
    with pytest.raises(Refusal) as refused:
        link(repo.path, "HEAD", [reworded])
    assert refused.value.reason == Reason.LINK_NOT_EQUIVALENT


def test_cherry_pick_x_to_release_branch_is_linked_by_auto(lab: Golden) -> None:
    repo = lab.repo
    repo.git("checkout", "-q", "-b", "release", "main")
    base = repo.git("rev-parse", "HEAD")
    repo.commit("release notes", {"docs/release.md": "1.0\n"})
    repo.git("cherry-pick", "-x", lab.commit)
    assert _status(lab)[1] == (Reason.ATTESTATION_MISSING,)
    (found,) = auto_link(repo.path, f"{base}..HEAD", ["refs/heads/main"])
    assert found.link.sources[0].head == lab.commit
    assert _status(lab)[:2] == ("ok", ())


def test_link_auto_after_forge_squash(lab: Golden) -> None:
    """A forge squash-merges the PR; the post-merge job links it from refs/pull/*/head."""
    repo = lab.repo
    base = repo.git("rev-parse", "HEAD")
    repo.git("update-ref", "refs/pull/7/head", "feature")
    repo.git("branch", "-q", "-D", "feature")
    _squash_merge(repo, "refs/pull/7/head")
    (found,) = auto_link(repo.path, f"{base}..HEAD")
    assert found.link.describe().startswith("squash of ")
    assert verify_range(repo.path, f"{base}..HEAD", _options(lab)).result == "passed"


def test_conflict_resolved_with_new_identity_code_is_refused(lab: Golden) -> None:
    repo = lab.repo
    base = repo.git("rev-parse", "HEAD")
    repo.commit("main's own sso", {"app/auth/sso.py": "MAIN = True\n"})
    proc_failed = False
    try:
        repo.git("merge", "--squash", "-q", "feature")
    except AssertionError:
        proc_failed = True
    assert proc_failed  # a conflict on the identity file
    repo.write("app/auth/sso.py", SSO_CALLBACK + "\ndef bypass(user):\n    return is_admin(user)\n")
    repo.git("add", "-A")
    squash = repo.commit("Squashed feature, conflict resolved")
    with pytest.raises(Refusal) as refused:
        link(repo.path, squash, [f"{base}..feature"])
    assert refused.value.reason == Reason.LINK_NOT_EQUIVALENT


def test_link_to_unrelated_attested_commit_is_refused(lab: Golden) -> None:
    repo = lab.repo
    repo.commit("Other auth", {"app/auth/other.py": SSO_CALLBACK.replace("sso", "other")})
    with pytest.raises(Refusal) as refused:
        link(repo.path, "HEAD", [lab.commit])
    assert refused.value.reason == Reason.LINK_NOT_EQUIVALENT


def test_forged_link_line_to_refused_source_is_refused(lab: Golden) -> None:
    """A link written by hand to an unstamped source: equivalent, but the source is refused."""
    repo = lab.repo
    repo.git("checkout", "-q", "-b", "other", "main")
    unstamped = repo.commit("Unstamped SSO", {"app/auth/sso.py": SSO_CALLBACK})
    repo.git("checkout", "-q", "main")
    repo.commit("Same SSO, elsewhere", {"app/auth/sso.py": SSO_CALLBACK})
    link(repo.path, "HEAD", [unstamped])  # link checks only what git objects show
    assert _status(lab)[:2] == ("refused", (Reason.LINK_SOURCE_REFUSED,))


def test_clone_without_provenance_refs_refuses_then_passes_after_fetch(
    lab: Golden, tmp_path: Path
) -> None:
    repo = lab.repo
    base = repo.git("rev-parse", "HEAD")
    squash = _squash_merge(repo)
    link(repo.path, squash, [f"{base}..feature"])
    clone = GitRepo(tmp_path / "clone")
    GitRepo(tmp_path).git("clone", "-q", "--single-branch", "-b", "main",
                          f"file://{repo.path}", str(clone.path))  # fmt: skip
    clone.git("fetch", "-q", "origin", "refs/notes/provenance:refs/notes/provenance")
    other = Golden(repo=clone, inst=lab.inst, commit=squash, stamped=lab.stamped)
    assert _status(other)[:2] == ("refused", (Reason.LINK_SOURCE_MISSING,))
    clone.git("fetch", "-q", "origin", "+refs/provenance/*:refs/provenance/*")
    assert _status(other)[:2] == ("ok", ())


def test_two_links_in_a_chain_rebase_then_squash(lab: Golden) -> None:
    repo = lab.repo
    base = repo.git("rev-parse", "HEAD")
    repo.commit("docs moved on", {"docs/guide.md": "guide\n"})
    moved = repo.git("rev-parse", "HEAD")
    repo.git("checkout", "-q", "-b", "rebased", "feature")
    repo.git("rebase", "-q", moved)
    rebased = repo.git("rev-parse", "HEAD")
    assert len(auto_link(repo.path, f"{moved}..rebased", ["refs/heads/feature"])) == 2
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-q", "-D", "feature")
    squash = _squash_merge(repo, "rebased")
    link(repo.path, squash, [f"{moved}..{rebased}"])
    status, reasons, via = _status(lab)
    assert (status, reasons) == ("ok", ()) and via is not None and via.startswith("squash of")
    assert verify_range(repo.path, f"{base}..HEAD", _options(lab)).result == "passed"


@pytest.mark.parametrize("fold", ["fixup", "squash"])
def test_rebase_i_fixup_and_squash_with_the_hook(lab: Golden, fold: str) -> None:
    """post-rewrite links the folded commit to both stamped commits it replaces."""
    from provenance.app.hooks import install_hook

    repo = lab.repo
    install_hook(repo.path)
    assert (repo.path / ".git/hooks/post-rewrite").exists()
    repo.git("checkout", "-q", "feature")
    editor = f"sed -i -e '2s/^pick/{fold}/'"
    env = {"GIT_SEQUENCE_EDITOR": editor, "GIT_EDITOR": "true"}
    repo.git("rebase", "-q", "-i", "main", env=env)
    assert repo.git("rev-list", "--count", "main..HEAD") == "1"
    status, reasons, via = _status(lab)
    assert (status, reasons) == ("ok", ()) and via is not None and via.count("rewrite of") == 2
    old = repo.git("rev-parse", "HEAD")
    repo.git("commit", "-q", "--amend", "-m", "SSO, squashed and reworded")
    assert _status(lab)[:2] == ("ok", ())
    assert repo.git("rev-parse", "HEAD") != old


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provenance", *args],
        cwd=cwd, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_cli_link_refusal_names_reason_and_hint_and_report_says_how(
    lab: Golden, tmp_path: Path
) -> None:
    """`link` exits 1 with the reason code and the next step; `verify` says how a commit passed."""
    repo = lab.repo
    base = repo.git("rev-parse", "HEAD")
    tip = repo.git("rev-parse", "feature")
    squash = _squash_merge(repo)
    linked = _cli(["link", squash, "--from", f"{base}..feature", "--format", "json"], repo.path)
    assert linked.returncode == 0, linked.stderr
    assert json.loads(linked.stdout)["links"][0]["via"] == f"squash of {base[:8]}..{tip[:8]}"
    root = str(lab.inst.trusted_root_path)
    ok = _cli(["verify", "--offline", "--trusted-root", root, f"{base}..HEAD"], repo.path)
    assert ok.returncode == 0, ok.stderr
    assert f"{squash[:12]} (squash of {base[:8]}..{tip[:8]})" in ok.stdout
    clone = GitRepo(tmp_path / "clone")
    GitRepo(tmp_path).git("clone", "-q", "--single-branch", "-b", "main",
                          f"file://{repo.path}", str(clone.path))  # fmt: skip
    clone.git("fetch", "-q", "origin", "refs/notes/provenance:refs/notes/provenance")
    gone = _cli(["verify", "--offline", "--trusted-root", root, "--format", "json", squash],
                clone.path)  # fmt: skip
    assert gone.returncode == 1
    assert json.loads(gone.stdout)["commits"][0]["reasons"] == ["link_source_missing"]
    again = _cli(["link", squash, "--from", f"{base}..{tip}"], clone.path)
    assert again.returncode == 1
    assert "link_source_missing" in again.stderr
    assert "refs/provenance/*" in again.stderr


def test_signed_link_names_who_linked_and_is_still_recomputed(lab: Golden) -> None:
    """A signed link carries the linker's statement; the gate recomputes it all the same."""
    import base64

    from provenance.predicates import LINK_PREDICATE_TYPE
    from provenance.store.links import LINK_PREFIX

    repo = lab.repo
    base = repo.git("rev-parse", "HEAD")
    squash = _squash_merge(repo)
    link(repo.path, squash, [f"{base}..feature"], signing=lab.keyless("linker@example.com"))
    (line,) = [x for x in lab.notes(squash) if x.startswith(LINK_PREFIX)]
    doc = json.loads(line[len(LINK_PREFIX) :])
    envelope = doc["signature"]["dsseEnvelope"]
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["predicateType"] == LINK_PREDICATE_TYPE
    assert statement["predicate"]["sources"] == doc["sources"]
    assert _status(lab)[:2] == ("ok", ())
    # the signature proves nothing to the gate: the same claim about a changed commit fails
    repo.write("app/auth/sso.py", (repo.path / "app/auth/sso.py").read_text() + AUTH_LINE)
    repo.git("commit", "-q", "-a", "--amend", "-m", "Squashed, plus a line")
    amended = repo.git("rev-parse", "HEAD")
    lab.replace_notes([line.replace(squash.encode(), amended.encode())], amended)
    assert _status(lab)[:2] == ("refused", (Reason.LINK_NOT_EQUIVALENT,))


def test_blame_and_log_of_a_squashed_line_name_the_source_agent(
    lab: Golden, tmp_path: Path
) -> None:
    """Auditors follow links as the gate does: recomputed, sources ok in the index."""
    from provenance.app.audit import blame, build_index, log

    repo = lab.repo
    base = repo.git("rev-parse", "HEAD")
    squash = _squash_merge(repo)
    db = tmp_path / "index.sqlite"
    build_index(repo.path, _options(lab), db=db)
    (before,) = [e for e in log(repo.path, None, db=db).items if e.commit == squash]
    assert before.agent == "-"
    link(repo.path, squash, [f"{base}..feature"])
    build_index(repo.path, _options(lab), db=db)
    (entry,) = [e for e in log(repo.path, None, db=db).items if e.commit == squash]
    assert (entry.agent, entry.model) == ("claude-code@2.1.0", "claude-opus-4")
    assert entry.status.startswith("ok (squash of ")
    lines = blame(repo.path, "app/auth/sso.py", db=db).items
    assert {(b.commit, b.agent) for b in lines} == {(squash, "claude-code@2.1.0")}


def test_approvals_of_sources_count_and_duties_are_judged_on_sources(
    tmp_path: Path, dev: DevInstance
) -> None:
    """THREATS.md D: bob's approval of the sources counts for the squash; the prompter's own
    approval of a source does not (self_approval there: link_source_refused here)."""
    from provenance.app.approve import approve, preview

    repo = GitRepo.init(tmp_path / "repo")
    policy = render_template(dev.default_issuer, AGENT_ID).replace("required = 0", "required = 1")
    for ident, person in (("bob@example.com", "bob"), ("alice@example.com", "alice")):
        policy += f'\n[[approvers]]\nissuer = "{dev.default_issuer}"\nidentity = "{ident}"\n'
        policy += f'person = "{person}"\n'
    repo.commit("policy", {".provenance/policy.toml": policy})
    base = repo.git("rev-parse", "HEAD")
    repo.git("checkout", "-q", "-b", "feature")
    first = repo.commit("Add SSO callback", {"app/auth/sso.py": SSO_CALLBACK})
    lab = Golden(repo=repo, inst=dev, commit=first, stamped=None)  # type: ignore[arg-type]
    lab.stamped = lab.stamp(first)
    options = _options(lab)

    def approve_as(who: str) -> None:
        seen = preview(repo.path, first, options, base=base)
        approve(repo.path, seen, "approve", None, lab.keyless(who))

    repo.git("checkout", "-q", "main")
    squash = _squash_merge(repo)
    link(repo.path, squash, [f"{base}..feature"])
    approve_as("alice@example.com")  # she prompted the change (tests.conftest.session)
    assert _status(lab, squash)[:2] == ("refused", (Reason.LINK_SOURCE_REFUSED,))
    approve_as("bob@example.com")
    (v,) = verify_range(repo.path, f"{base}..HEAD", options).commits
    assert (v.status, v.approvers, v.sources) == ("ok", ("bob",), (first,))


def test_cherry_pick_x_is_linked_by_the_post_commit_hook(lab: Golden) -> None:
    from provenance.app.hooks import install_hook

    repo = lab.repo
    install_hook(repo.path)
    repo.git("checkout", "-q", "-b", "release", "main")
    repo.commit("release notes", {"docs/release.md": "1.0\n"})
    repo.git("cherry-pick", "-x", lab.commit)
    status, reasons, via = _status(lab)
    assert (status, reasons, via) == ("ok", (), f"rewrite of {lab.commit[:8]}")
    repo.git("checkout", "-q", "-b", "other", "main")
    plain = repo.commit("unstamped docs", {"docs/other.md": "x\n"})
    repo.git("checkout", "-q", "release")
    repo.git("cherry-pick", "-x", plain)
    assert not _has_note(lab)  # nothing stored on the picked commit: no link is written


def _has_note(lab: Golden) -> bool:
    listed = lab.repo.git("notes", "--ref=refs/notes/provenance", "list")
    return lab.repo.git("rev-parse", "HEAD") in listed

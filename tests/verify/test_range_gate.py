"""The release gate over ``BASE..HEAD`` against THREATS.md E23-E31, F32-F33 and G37-G41.

Every case is a real gate run (``verify_range``) over real git history, with attestations signed
keylessly by the local Sigstore instance. One golden repository is shared by the module: each
test starts a branch at its base and asserts statuses and reason codes, never exit codes alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from provenance.app.gate import Classified, classify_range, verify_range
from provenance.app.options import VerifyOptions
from provenance.app.policy_source import load_policy_at
from provenance.app.vsa import write_vsa
from provenance.classify.configured import classification_for
from provenance.devinstance import DevInstance
from provenance.errors import GitError
from provenance.gitio import Git, read_commit
from provenance.gitio.walk import RangeError
from provenance.models import FileChange
from provenance.verify.report import CommitVerdict, Report, report_to_dict
from tests.conftest import AGENT_ID, Golden, make_golden
from tests.helpers import GitRepo

NOTES_REF = "refs/notes/provenance"
EVIL_SIGNER = "evil-bot@example.com"
#: Lines no content rule fires on, enough of them for rename detection after an edit.
NEUTRAL = "".join(f"def add_{i}(a, b):\n    return a + b + {i}\n" for i in range(8))
VIEWS = "def index(request):\n    return render(request, 'index.html')\n"
AUTH_CHECK = "    if not request.user.is_superuser:\n        raise PermissionDenied\n"
SSO = "def callback(request):\n    token = exchange(request)\n    return token\n"
FIX = "    verify_signature(token)\n"
PASSWORD = "import bcrypt\n\n\ndef store(pw):\n    return bcrypt.hashpw(pw, bcrypt.gensalt())\n"


@dataclass
class Lab:
    """The module's golden repository and the base every test branches from."""

    golden: Golden
    base: str

    @property
    def repo(self) -> GitRepo:
        return self.golden.repo

    @property
    def inst(self) -> DevInstance:
        return self.golden.inst

    def branch(self, name: str, start: str | None = None) -> None:
        self.repo.git("checkout", "-q", "-f", "-B", name, start or self.base)
        self.repo.git("clean", "-q", "-f", "-d", "-x")

    def commit(self, message: str, files: dict[str, str] | None = None) -> str:
        return self.repo.commit(message, files)

    def commit_index(self, message: str) -> str:
        self.repo.git("commit", "-q", "--allow-empty", "-m", message)
        return self.repo.git("rev-parse", "HEAD")

    def stamp(self, rev: str, identity: str = AGENT_ID) -> None:
        self.golden.stamp(rev, identity)

    def options(self, policy: Path | None = None) -> VerifyOptions:
        return VerifyOptions(policy=policy, trusted_root=self.inst.trusted_root_path, offline=True)

    def gate(self, head: str, base: str | None = None, policy: Path | None = None) -> Report:
        spec = f"{base or self.base}..{head}"
        return verify_range(self.repo.path, spec, self.options(policy))

    def classify(self, head: str, base: str | None = None) -> Classified:
        return classify_range(self.repo.path, f"{base or self.base}..{head}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, dev: DevInstance) -> Lab:
    golden = make_golden(tmp_path_factory.mktemp("range-gate"), dev)
    base = golden.repo.commit(
        "base",
        {
            "app/views.py": VIEWS,
            "app/auth/sso_callback.py": SSO,
            "app/auth/mathutil.py": NEUTRAL,
            "lib/util.py": NEUTRAL,
            "docs/guide.md": "# Guide\n",
        },
    )
    return Lab(golden, base)


def by_commit(report: Report) -> dict[str, CommitVerdict]:
    return {c.commit: c for c in report.commits}


def assert_refused_for(report: Report, sha: str, *reasons: str) -> CommitVerdict:
    """``sha`` is identity-related, refused for exactly ``reasons``; the report is refused."""
    verdict = by_commit(report)[sha]
    assert (verdict.status, verdict.reasons) == ("refused", tuple(sorted(reasons))), verdict
    assert verdict.identity_related is True and verdict.rules
    assert report.result == "refused" and not report
    return verdict


def assert_not_required(report: Report, *shas: str) -> None:
    for sha in shas:
        verdict = by_commit(report)[sha]
        assert (verdict.status, verdict.identity_related, verdict.rules) == (
            "not-required", False, (),
        ), verdict  # fmt: skip
        assert verdict.reasons == () and verdict.attestations == ()


# --- G40 / G41: a passing range and what it reports ---------------------------------------------


@dataclass
class Passing:
    report: Report
    docs: str
    auth: str
    head: str


@pytest.fixture(scope="module")
def passing(lab: Lab) -> Passing:
    lab.branch("passing")
    docs = lab.commit("docs", {"docs/guide.md": "# Guide\n\nMore.\n"})
    auth = lab.commit("sso fix", {"app/auth/sso_callback.py": SSO + FIX})
    lab.stamp(auth)
    head = lab.commit("readme", {"README.md": "app\nmore\n"})
    return Passing(lab.gate(head), docs, auth, head)


def test_passing_range_statuses(passing: Passing) -> None:
    report = passing.report
    assert report.result == "passed" and report
    assert [c.commit for c in report.commits] == [passing.docs, passing.auth, passing.head]
    assert_not_required(report, passing.docs, passing.head)
    ok = by_commit(report)[passing.auth]
    assert (ok.status, ok.reasons, ok.identity_related) == ("ok", (), True)
    assert "path.authn" in ok.rules and "code.signing" in ok.rules
    assert [(a.kind, a.ok, a.signer) for a in ok.attestations] == [("change", True, AGENT_ID)]


def test_report_states_exact_head_commit_and_tree(lab: Lab, passing: Passing) -> None:
    """G41: the build can assert it builds exactly what was verified."""
    tree = lab.repo.git("rev-parse", f"{passing.head}^{{tree}}")
    expected = {"base": lab.base, "head": passing.head, "head_tree": tree}
    assert passing.report.extra["range"] == expected
    data = report_to_dict(passing.report)
    assert data["range"] == expected and data["result"] == "passed"
    entries = {e["commit"]: e for e in data["commits"]}
    assert entries[passing.docs]["identity_related"] is False
    assert (
        entries[passing.docs]["rules"] == [] and entries[passing.docs]["status"] == "not-required"
    )
    assert entries[passing.auth]["rules"] == list(by_commit(passing.report)[passing.auth].rules)
    assert data["policy"]["source"].startswith(lab.base[:12])


def test_vsa_names_the_verified_head_and_tree(lab: Lab, passing: Passing, tmp_path: Path) -> None:
    path = tmp_path / "vsa.json"
    write_vsa(passing.report, path, lab.repo.path, None)
    statement = json.loads(path.read_text())
    (subject,) = statement["subject"]
    tree = lab.repo.git("rev-parse", f"{passing.head}^{{tree}}")
    assert subject["annotations"] == {"gitCommit": passing.head, "gitTree": tree, "base": lab.base}
    git = Git.discover(lab.repo.path)
    assert subject["digest"] == {"sha256": read_commit(git, passing.head).digest}
    predicate = statement["predicate"]
    assert predicate["verificationResult"] == "PASSED"
    assert predicate["verifiedLevels"] == ["PROVENANCE_IDENTITY_CHANGES_ATTESTED_V1"]
    (used,) = predicate["inputAttestations"]
    (att,) = by_commit(passing.report)[passing.auth].attestations
    assert used["digest"] == {"sha256": att.digest} and passing.auth in used["uri"]


def test_decision_uses_the_signed_time_from_the_bundle(lab: Lab, passing: Passing) -> None:
    """G40: the time the gate reports is the transparency log's, not the host clock's."""
    (line,) = lab.golden.notes(passing.auth)
    (entry,) = json.loads(line)["verificationMaterial"]["tlogEntries"]
    assert entry["inclusionPromise"]
    logged = datetime.fromtimestamp(int(entry["integratedTime"]), tz=UTC)
    (att,) = by_commit(passing.report)[passing.auth].attestations
    assert att.signed_time == logged
    exported = report_to_dict(passing.report)["commits"][1]["attestations"][0]["signed_time"]
    assert exported == logged.isoformat()


# --- E23: renames ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "dest"),
    [("app/auth/mathutil.py", "lib/mathutil.py"), ("lib/util.py", "app/auth/util.py")],
    ids=["out-of-identity-path", "into-identity-path"],
)
def test_rename_with_edits_counts_both_paths(lab: Lab, source: str, dest: str) -> None:
    lab.branch(f"rename-{dest}")
    (lab.repo.path / dest).parent.mkdir(parents=True, exist_ok=True)
    lab.repo.git("mv", source, dest)
    sha = lab.commit("move", {dest: NEUTRAL + "EXTRA = 1\n"})
    verdict = assert_refused_for(lab.gate(sha), sha, "attestation_missing")
    assert verdict.rules == ("path.authn",)
    (path,) = lab.classify(sha).commits[0].paths
    assert (path.path, path.old_path, path.rules) == (dest, source, ("path.authn",))


# --- E24: merges -------------------------------------------------------------------------------


def test_evil_merge_adding_an_auth_check_needs_its_own_attestation(lab: Lab) -> None:
    lab.branch("evil-side")
    side = lab.commit("side", {"docs/guide.md": "# Guide\n\nside\n"})
    lab.branch("evil")
    main = lab.commit("main", {"README.md": "app\nmain\n"})
    lab.repo.git("merge", "-q", "--no-ff", "--no-commit", "evil-side")
    lab.repo.write("app/views.py", VIEWS + AUTH_CHECK)
    merge = lab.commit("Merge branch 'evil-side'")
    report = lab.gate(merge)
    assert_not_required(report, side, main)
    verdict = assert_refused_for(report, merge, "attestation_missing")
    assert "code.authz-check" in verdict.rules
    lab.stamp(merge)  # attested, the same merge passes
    report = lab.gate(merge)
    assert report.result == "passed" and by_commit(report)[merge].status == "ok"


def test_merge_silently_dropping_an_attested_fix_is_refused(lab: Lab) -> None:
    lab.branch("fix")
    fix = lab.commit("fix token check", {"app/auth/sso_callback.py": SSO + FIX})
    lab.stamp(fix)
    lab.branch("drop")
    other = lab.commit("unrelated", {"README.md": "app\nunrelated\n"})
    lab.repo.git("merge", "-q", "--no-ff", "--no-commit", "fix")
    lab.repo.write("app/auth/sso_callback.py", SSO)  # the merge keeps the unfixed file
    merge = lab.commit("Merge branch 'fix'")
    assert lab.repo.git("show", f"{merge}:app/auth/sso_callback.py") + "\n" == SSO
    report = lab.gate(merge)
    assert by_commit(report)[fix].status == "ok"
    assert_not_required(report, other)
    verdict = assert_refused_for(report, merge, "attestation_missing")
    assert {"path.authn", "code.signing"} <= set(verdict.rules)


# --- E25: spelling tricks in paths ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "app/a\u0301uth/handler.py",  # NFD: a + combining acute
        "app/\u00e1uth/handler.py",  # precomposed non-ASCII
        "app/\u0430uth/handler.py",  # Cyrillic a
        "app/a\u03c5th/handler.py",  # Greek upsilon
        "app/au\u200bth/handler.py",  # zero-width space
        "app/au\u200dth/handler.py",  # zero-width joiner
        "app/auth\u202e/handler.py",  # right-to-left override
        "app/\uff41\uff55\uff54\uff48/handler.py",  # fullwidth
        "app/au\nth/handler.py",  # newline
        "app/au\tth/handler.py",  # tab
        "APP/AUTH/handler.py",  # case collision with app/auth on case-insensitive systems
        "app/l\u03bfgin.py",  # Greek omicron
        "app/l\u1d0fgin.py",  # Latin letter small capital o
        "app/a\u1d1cth/handler.py",  # Latin letter small capital u
    ],
)
def test_path_spelling_tricks_are_identity_related(lab: Lab, path: str) -> None:
    lab.branch("odd-path")
    sha = lab.commit("odd path", {path: NEUTRAL})
    assert [c.path for c in lab.classify(sha).commits[0].paths] == [path]
    report = lab.gate(sha)
    verdict = by_commit(report)[sha]
    assert verdict.status == "refused", f"{path!r} was not classified identity-related"
    assert_refused_for(report, sha, "attestation_missing")


# --- E26: symlinks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "target"),
    [("app/auth/sso_callback.py", "../../lib/util.py"), ("docs/current", "../app/auth")],
    ids=["swapped-into-identity-path", "elsewhere-pointing-into-one"],
)
def test_symlinks(lab: Lab, link: str, target: str) -> None:
    lab.branch("symlink")
    path = lab.repo.path / link
    if path.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    sha = lab.commit("link")
    verdict = assert_refused_for(lab.gate(sha), sha, "attestation_missing")
    assert "git.symlink" in verdict.rules


# --- E27: submodules and modes -----------------------------------------------------------------


def test_gitlink_bump_and_gitmodules_url_change(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    """The work tree's .gitmodules says ``ignore = all``: the bump must still be seen."""
    lab.branch("gitlink")
    modules = '[submodule "vendor"]\n\tpath = app/auth/vendor\n\turl = {}\n\tignore = all\n'
    lab.repo.write(".gitmodules", modules.format("https://git.example.com/idp.git"))
    lab.repo.git("add", ".gitmodules")
    lab.repo.git("update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},app/auth/vendor")
    added = lab.commit_index("add idp submodule")
    lab.stamp(added)
    lab.repo.git("update-index", "--cacheinfo", f"160000,{'2' * 40},app/auth/vendor")
    bump = lab.commit_index("bump idp")
    lab.repo.write(".gitmodules", modules.format("https://evil.example.net/idp.git"))
    lab.repo.git("add", ".gitmodules")
    moved = lab.commit_index("move idp")
    lab.repo.git("config", "submodule.vendor.ignore", "all")
    lab.repo.git("config", "diff.ignoreSubmodules", "all")
    monkeypatch.chdir(lab.repo.path)  # git takes the working directory as the work tree
    try:
        report = lab.gate(moved, base=added)
    finally:
        lab.repo.git("config", "--unset", "submodule.vendor.ignore")
        lab.repo.git("config", "--unset", "diff.ignoreSubmodules")
    assert [c.commit for c in report.commits] == [bump, moved]
    bumped = assert_refused_for(report, bump, "attestation_missing")
    assert {"git.gitlink", "path.authn"} <= set(bumped.rules)
    assert "git.gitmodules" in assert_refused_for(report, moved, "attestation_missing").rules


def test_mode_only_change_on_an_identity_file(lab: Lab) -> None:
    lab.branch("mode")
    (lab.repo.path / "app/auth/sso_callback.py").chmod(0o755)
    sha = lab.commit("chmod")
    verdict = assert_refused_for(lab.gate(sha), sha, "attestation_missing")
    assert "path.authn" in verdict.rules


# --- E28: .gitattributes -----------------------------------------------------------------------


def test_gitattributes_cannot_hide_content_and_is_itself_flagged(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab.branch("attributes")
    attrs = lab.commit(
        "attributes",
        {".gitattributes": "*.py -diff binary\nlib/** filter=lfs diff=lfs merge=lfs -text\n"},
    )
    code = lab.commit("store passwords", {"lib/util.py": NEUTRAL + PASSWORD})
    monkeypatch.chdir(lab.repo.path)  # the attributes are in the work tree too
    report = lab.gate(code)
    assert assert_refused_for(report, attrs, "attestation_missing").rules == ("git.gitattributes",)
    assert "code.password-hashing" in assert_refused_for(report, code, "attestation_missing").rules


_FILLER = "".join(f"ROW_{i} = {i}\n" for i in range(20_000))
_ADMIN_PS1 = (
    "$cred = Get-Credential\n"
    "Set-ADAccountPassword -Identity $user -NewPassword $pw\n"
    'Add-ADGroupMember -Identity "Domain Admins" -Members $user\n'
)


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("lib/util.py", (NEUTRAL + PASSWORD).encode()),  # control: the same code, plainly
        pytest.param(
            "lib/data.py",
            (_FILLER + PASSWORD).encode(),
            id="after-20000-lines",
        ),
        pytest.param(
            "lib/min.py",
            ("x = 1;" + " " * 4_000 + PASSWORD.replace("\n", "; ") + "\n").encode(),
            id="after-column-4000",
        ),
        pytest.param(
            "scripts/deploy.ps1",
            ("\ufeff" + _ADMIN_PS1).encode("utf-16-le"),
            id="utf-16-blob",
        ),
    ],
)
def test_identity_code_the_classifier_must_still_see(lab: Lab, path: str, content: bytes) -> None:
    """THREATS.md A6 bounds and E28 encodings must not turn into a silent skip."""
    lab.branch("unseen")
    target = lab.repo.path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    sha = lab.commit("data")
    report = lab.gate(sha)
    assert by_commit(report)[sha].status == "refused", by_commit(report)[sha]
    verdict = assert_refused_for(report, sha, "attestation_missing")
    if path != "lib/util.py" and not path.endswith(".ps1"):
        assert "diff.truncated" in verdict.rules  # fail closed: the cut-off file counts


# --- E29: repositories that could disguise history ---------------------------------------------


def test_replace_refs_are_refused(lab: Lab) -> None:
    lab.branch("replace")
    first = lab.commit("one", {"app/auth/backdoor.py": NEUTRAL})
    second = lab.commit("two", {"README.md": "app\ntwo\n"})
    lab.repo.git("replace", first, lab.base)  # history now shows base where first is
    try:
        with pytest.raises(GitError, match="refs/replace") as info:
            lab.gate(second)
    finally:
        lab.repo.git("replace", "-d", first)
    assert info.value.exit_code == 3


def test_shallow_clone_is_refused(lab: Lab, tmp_path: Path) -> None:
    lab.branch("shallow")
    lab.commit("one", {"README.md": "app\nshallow\n"})
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth=2", "--branch", "shallow",
         f"file://{lab.repo.path}", str(clone)],
        check=True,
    )  # fmt: skip
    with pytest.raises(GitError, match="shallow") as info:
        verify_range(clone, "HEAD~1..HEAD", lab.options())
    assert info.value.exit_code == 3


def test_malformed_commit_with_duplicate_headers_is_never_a_pass(lab: Lab) -> None:
    """git reads the first ``tree``; another parser may read the second (the evil one)."""
    lab.branch("malformed")
    evil = lab.commit("evil tree", {"app/auth/backdoor.py": NEUTRAL})
    harmless = lab.repo.git("rev-parse", f"{lab.base}^{{tree}}")
    ident = "Dev Human <dev@example.com> 1700000000 +0000"
    raw = (
        f"tree {harmless}\nparent {lab.base}\ntree {lab.repo.git('rev-parse', evil + '^{tree}')}\n"
        f"author {ident}\ncommitter {ident}\n\nharmless\n"
    ).encode()
    malformed = lab.repo.git(
        "hash-object", "-t", "commit", "-w", "--literally", "--stdin", input=raw
    )
    head = lab.repo.git("commit-tree", harmless, "-p", malformed, "-m", "on top")
    with pytest.raises(GitError, match="duplicate tree") as info:
        lab.gate(head)
    assert info.value.exit_code == 3


def test_grafts_hiding_an_unattested_commit_are_refused(lab: Lab) -> None:
    """``.git/info/grafts`` (like refs/replace) can splice a commit out of the walked history."""
    lab.branch("grafts")
    hidden = lab.commit("backdoor", {"app/auth/backdoor.py": NEUTRAL})
    top = lab.commit("sso", {"app/auth/sso_callback.py": SSO + FIX})
    lab.stamp(top)  # the visible commit is attested; the hidden one is not
    grafts = lab.repo.path / ".git" / "info" / "grafts"
    grafts.parent.mkdir(exist_ok=True)
    grafts.write_text(f"{top} {lab.base}\n")
    try:
        with pytest.raises(GitError, match="grafts") as info:
            lab.gate(top)
    finally:
        grafts.unlink()
    assert info.value.exit_code == 3
    assert_refused_for(lab.gate(top), hidden, "attestation_missing")


# --- E30: the candidate weakens the policy -----------------------------------------------------


def test_policy_weakened_inside_the_range_does_not_apply(lab: Lab) -> None:
    lab.branch("weaken")
    policy_path = lab.repo.path / ".provenance/policy.toml"
    weakened = policy_path.read_text().replace(
        'rulesets = ["builtin:identity"]', 'rulesets = []\nexclude = ["**"]'
    )
    weakened += f'\n[[signers]]\nissuer = "{lab.inst.default_issuer}"\nidentity = "{EVIL_SIGNER}"\n'
    assert weakened != policy_path.read_text()
    edit = lab.commit("relax policy", {".provenance/policy.toml": weakened})
    code = lab.commit("backdoor", {"app/auth/backdoor.py": NEUTRAL})
    lab.stamp(code, identity=EVIL_SIGNER)
    report = lab.gate(code)
    assert report.policy_source.startswith(lab.base[:12])
    assert "meta.provenance" in assert_refused_for(report, edit, "attestation_missing").rules
    verdict = assert_refused_for(report, code, "signer_not_allowed")
    assert verdict.rules == ("path.authn",)
    assert [a.signer for a in verdict.attestations] == [EVIL_SIGNER]


# --- E31: path normalisation and glob dialects ---------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "./app/auth/handler.py",
        "app//auth/handler.py",
        "app/./auth/handler.py",
        "lib/../app/auth/handler.py",
        "lib/x/../../app/auth/handler.py",
        "app\\auth\\handler.py",
        "/app/auth/handler.py",
    ],
)
def test_path_normalisation_tricks(lab: Lab, path: str) -> None:
    """Git never stores these spellings; the classifier must still read them as the real path."""
    loaded = load_policy_at(Git.discover(lab.repo.path), lab.base)
    assert loaded is not None
    classify = classification_for(loaded.policy.identity).classify
    change = FileChange(path, path, "A", "000000", "100644", ("x = 1",))
    assert "path.authn" in classify(change)


def test_policy_glob_matches_every_spelling(lab: Lab, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'version = 1\n[[signers]]\nissuer = "{lab.inst.default_issuer}"\n'
        f'identity = "{AGENT_ID}"\n[identity]\npaths = ["reports/ledger/**"]\n'
    )
    lab.branch("globs")
    shas = [
        lab.commit("deep", {"reports/ledger/q1/pro.py": NEUTRAL}),
        lab.commit("case", {"Reports/Ledger/free.py": NEUTRAL}),
    ]
    report = lab.gate(shas[-1], policy=policy)
    for sha in shas:
        verdict = assert_refused_for(report, sha, "attestation_missing")
        assert verdict.rules == ("policy:path:reports/ledger/**",)


# --- F32 / F33: attestations that are not there ------------------------------------------------


def test_missing_notes_ref_is_attestations_unavailable(lab: Lab) -> None:
    lab.branch("no-notes")
    docs = lab.commit("docs", {"docs/guide.md": "# Guide\n\nno notes\n"})
    sha = lab.commit("auth", {"app/auth/sso_callback.py": SSO + FIX})
    lab.stamp(sha)
    tip = lab.repo.git("rev-parse", NOTES_REF)
    lab.repo.git("update-ref", "-d", NOTES_REF)
    try:
        report = lab.gate(sha)
    finally:
        lab.repo.git("update-ref", NOTES_REF, tip)
    assert_refused_for(report, sha, "attestations_unavailable")
    assert_not_required(report, docs)
    assert lab.gate(sha).result == "passed"  # the same range with the notes fetched


def test_attestation_deleted_by_a_force_push_refuses_that_commit(lab: Lab, tmp_path: Path) -> None:
    lab.branch("force-pushed")
    kept = lab.commit("kept", {"app/auth/sso_callback.py": SSO + FIX})
    lab.stamp(kept)
    before = lab.repo.git("rev-parse", NOTES_REF)
    lost = lab.commit("lost", {"app/auth/mathutil.py": NEUTRAL + "Y = 2\n"})
    lab.stamp(lost)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(lab.repo.path), str(remote)], check=True)
    # the attacker force-pushes the notes ref back to before the second attestation
    subprocess.run(["git", "-C", str(remote), "update-ref", NOTES_REF, before], check=True)
    ci = tmp_path / "ci"
    clone = ["git", "clone", "-q", "--branch", "force-pushed", str(remote), str(ci)]
    subprocess.run(clone, check=True)
    subprocess.run(
        ["git", "-C", str(ci), "fetch", "-q", "origin", f"+{NOTES_REF}:{NOTES_REF}"], check=True
    )
    report = verify_range(ci, f"{lab.base}..{lost}", lab.options())
    assert by_commit(report)[kept].status == "ok"
    assert_refused_for(report, lost, "attestation_missing")


# --- G37: ranges that prove nothing ------------------------------------------------------------


def test_empty_unrelated_and_non_ancestor_ranges_are_refused(lab: Lab) -> None:
    lab.branch("g37")
    ahead = lab.commit("ahead", {"README.md": "app\nahead\n"})
    lab.repo.git("checkout", "-q", "-f", "--orphan", "g37-orphan")
    lab.repo.git("rm", "-q", "-r", "-f", ".")
    orphan = lab.commit("orphan", {"x.txt": "x\n"})
    cases = {
        f"{lab.base}..{lab.base}": "range_empty",
        f"{ahead}..{lab.base}": "base_not_ancestor",
        f"{lab.base}..{orphan}": "unrelated_histories",
        f"{lab.base}...{ahead}": "range_invalid",
    }
    for spec, reason in cases.items():
        with pytest.raises(RangeError) as info:
            verify_range(lab.repo.path, spec, lab.options())
        assert (info.value.reason, info.value.exit_code) == (reason, 1), spec
        with pytest.raises(RangeError) as info:
            classify_range(lab.repo.path, spec)
        assert info.value.reason == reason, spec


# --- G38: hostile repository configuration ------------------------------------------------------

_HOSTILE_KEYS = (
    "core.fsmonitor",
    "core.pager",
    "core.sshCommand",
    "core.askPass",
    "core.editor",
    "core.alternateRefsCommand",
    "diff.external",
    "diff.evil.textconv",
    "diff.evil.command",
    "filter.evil.clean",
    "filter.evil.smudge",
    "filter.evil.process",
    "merge.evil.driver",
    "gpg.program",
    "credential.helper",
    "sequence.editor",
)
_HOOKS = (
    "reference-transaction", "post-checkout", "post-merge", "pre-commit", "post-commit",
    "pre-auto-gc", "post-index-change", "post-rewrite", "fsmonitor-watchman",
)  # fmt: skip


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PROVENANCE_IDENTITY_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "provenance", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_hostile_repository_config_runs_nothing(
    tmp_path: Path, dev: DevInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    golden = make_golden(tmp_path / "golden", dev)
    repo = golden.repo
    base = golden.commit
    conf = "".join(f"setting_{i} = {i}\n" for i in range(8))
    attrs = repo.commit("attributes", {".gitattributes": "* diff=evil merge=evil filter=evil\n"})
    golden.stamp(attrs)
    repo.commit("conf", {"conf.txt": conf})
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("side", {"conf.txt": conf.replace("setting_0 = 0", "setting_0 = zero")})
    repo.git("checkout", "-q", "main")
    repo.commit("main", {"conf.txt": conf.replace("setting_7 = 7", "setting_7 = seven")})
    repo.git("merge", "-q", "--no-edit", "side")  # a real content merge: drivers would run
    head = repo.git("rev-parse", "HEAD")
    sentinel = tmp_path / "sentinel"
    evil = tmp_path / "evil.sh"
    evil.write_text(f'#!/bin/sh\necho "$0 $*" >> {sentinel}\nexit 0\n')
    evil.chmod(0o755)
    for key in _HOSTILE_KEYS:
        repo.git("config", key, f"{evil} %O %A %B" if key == "merge.evil.driver" else str(evil))
    repo.git("config", "log.showSignature", "true")
    repo.git("config", "core.hooksPath", str(tmp_path / "hooks"))
    for hooks in (tmp_path / "hooks", repo.path / ".git" / "hooks"):
        hooks.mkdir(exist_ok=True)
        for hook in _HOOKS:
            (hooks / hook).write_text(evil.read_text())
            (hooks / hook).chmod(0o755)
    (repo.path / ".git" / "info").mkdir(exist_ok=True)
    (repo.path / ".git" / "info" / "attributes").write_text("* diff=evil merge=evil\n")
    sentinel.unlink(missing_ok=True)

    spec = f"{base}..{head}"
    trust = ["--offline", "--trusted-root", str(dev.trusted_root_path)]
    classified = _cli(["classify", "--format", "json", spec], repo.path)
    verified = _cli(["verify", *trust, "--format", "json", spec], repo.path)
    monkeypatch.chdir(repo.path)
    report = verify_range(repo.path, spec, VerifyOptions(trusted_root=dev.trusted_root_path))
    ran = sentinel.read_text() if sentinel.exists() else ""
    assert ran == "", f"commands from the repository ran:\n{ran}"
    assert classified.returncode == 0, classified.stderr
    assert verified.returncode == 0, verified.stderr
    data = json.loads(verified.stdout)
    assert data["result"] == "passed" and data["range"]["head"] == head
    statuses = {c["commit"]: c["status"] for c in data["commits"]}
    assert statuses[attrs] == "ok" and statuses[head] == "not-required"
    assert report.result == "passed" and by_commit(report)[head].status == "not-required"


# --- review findings: octopus merges, code in i18n folders, grafts, re-encoding --------------


def test_an_octopus_merge_that_drops_an_attested_fix_is_refused(lab: Lab) -> None:
    # The diff dropping the fix is against the second parent; the first parent's diff of the
    # same file must not hide it.
    lab.branch("oct-fix")
    fix = lab.commit("authz check", {"lib/util.py": NEUTRAL + "def gate(request):\n" + AUTH_CHECK})
    lab.stamp(fix)
    lab.branch("oct-3")
    third = lab.commit("readme", {"README.md": "three\n"})
    lab.branch("oct-1")
    first = lab.commit("tweak", {"lib/util.py": "# tidy\n" + NEUTRAL})
    lab.repo.write("lib/util.py", NEUTRAL)
    lab.repo.write("README.md", "three\n")
    lab.repo.git("add", "-A")
    tree = lab.repo.git("write-tree")
    merge = lab.repo.git("commit-tree", tree, "-p", first, "-p", fix, "-p", third, "-m", "octopus")
    report = lab.gate(merge)
    assert by_commit(report)[fix].status == "ok"
    assert_refused_for(report, merge, "attestation_missing")


@pytest.mark.parametrize(
    "path",
    ["app/i18n/auth.py", "src/locale/permissions.go", "web/lang/login.ts", "app/l10n/rbac.rb"],
)
def test_code_in_translation_folders_is_still_read(lab: Lab, path: str) -> None:
    lab.branch(f"i18n-{path.replace('/', '-')}")
    sha = lab.commit("add", {path: "def check(request):\n" + AUTH_CHECK})
    assert_refused_for(lab.gate(sha), sha, "attestation_missing")


def test_grafts_cannot_hide_a_commit_behind_base(lab: Lab) -> None:
    base_parent = lab.repo.git("rev-parse", f"{lab.base}^")
    lab.branch("graft-side", base_parent)
    hidden = lab.commit("backdoor", {"app/auth/backdoor.py": "def ok(u):\n    return True\n"})
    lab.branch("graft-main")
    lab.repo.git("merge", "-q", "--no-ff", "-m", "merge", "graft-side")
    top = lab.repo.git("rev-parse", "HEAD")
    grafts = lab.repo.path / ".git" / "info" / "grafts"
    grafts.parent.mkdir(exist_ok=True)
    grafts.write_text(f"{lab.base} {base_parent} {hidden}\n")
    try:
        with pytest.raises(GitError, match="grafts"):
            lab.gate(top)
    finally:
        grafts.unlink()
    assert_refused_for(lab.gate(top), hidden, "attestation_missing")


def test_a_file_re_encoded_to_utf16_is_read_on_both_sides(lab: Lab) -> None:
    old = (
        "namespace App {\n  public class Util {\n"
        "    public int Add(int a, int b) => a + b;\n  }\n}\n"
    )
    new = (
        "namespace App {\n  [AllowAnonymous]\n  public class Util {\n"
        '    public int Add(int a, int b) { if (!User.IsInRole("Admin")) return 0; return a; }\n'
        "  }\n}\n"
    )
    lab.branch("utf16-convert")
    lab.commit("util", {"lib/Util.cs": old})
    (lab.repo.path / "lib" / "Util.cs").write_bytes(b"\xff\xfe" + new.encode("utf-16-le"))
    lab.repo.git("add", "-A")
    sha = lab.commit_index("re-encode as UTF-16")
    assert_refused_for(lab.gate(sha), sha, "attestation_missing")

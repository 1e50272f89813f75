"""What the classifier sees beyond one path's changed lines (issue 12, THREATS.md G45-G49)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest

from provenance.classify import Classifier
from provenance.models import FileChange

CLF = Classifier.build()
ZERO = "0" * 40


def added_file(path: str, text: str) -> FileChange:
    """A file added with ``text``, its blob read as the gate reads wanted sources."""
    lines = tuple(text.splitlines())
    return FileChange(
        path, path, "A", "000000", "100644", lines, (), old_oid=ZERO, new_oid="1" * 40,
        new_source=text,
    )  # fmt: skip


def edited_file(path: str, old: str, new: str) -> FileChange:
    """A modification rewriting the file, whose whole old and new blobs are known."""
    return FileChange(
        path, path, "M", "100644", "100644", tuple(new.splitlines()), tuple(old.splitlines()),
        old_oid="1" * 40, new_oid="2" * 40, old_source=old, new_source=new,
    )  # fmt: skip


# --- G46: configuration in translation and snapshot folders --------------------------------

CLUSTER_ADMIN = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: agent-admin
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- kind: ServiceAccount
  name: agent
  namespace: default
"""
IAM_JSON = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        "AssumeRolePolicyDocument": {"Principal": {"AWS": "*"}},
        "role": "admin",
    },
    indent=2,
)
ENV = "SECRET_KEY=change-me\nADMIN_PASSWORD=hunter2\n"
TERRAFORM = 'resource "aws_iam_role_policy" "agent" {\n  role = aws_iam_role.agent.id\n}\n'


@pytest.mark.parametrize("folder", ["locale", "locales", "i18n", "l10n", "translations", "lang"])
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("crb.yaml", CLUSTER_ADMIN),
        ("en.yml", CLUSTER_ADMIN),  # named like a catalogue, but it is a manifest
        ("policy.json", IAM_JSON),
        ("en.json", IAM_JSON),
        (".env", ENV),
        ("main.tf", TERRAFORM),
    ],
)
def test_config_in_translation_folders_is_read(folder: str, name: str, text: str) -> None:
    """THREATS.md G46: YAML, JSON, .env and Terraform there are classified as anywhere else."""
    path = f"deploy/{folder}/{name}"
    assert CLF.classify(added_file(path, text)), path
    # without its blob the gate cannot show it is a catalogue: never inert
    bare = FileChange(path, path, "A", "000000", "100644", tuple(text.splitlines()))
    assert CLF.classify(bare), path


def test_config_in_snapshot_folders_is_read() -> None:
    """THREATS.md G46: only snapshot files are inert in ``__snapshots__/``."""
    assert CLF.classify(added_file("src/__snapshots__/rbac.yaml", CLUSTER_ADMIN))
    assert CLF.classify(added_file("src/__snapshots__/.env", ENV))


RAILS_LOCALE = """\
# Devise translations
en:
  devise:
    failure:
      invalid: "Invalid %{authentication_keys} or password."
      locked: "Your account is locked."
    sessions:
      signed_in: "Signed in successfully."
"""
I18NEXT = '{\n  "login": "Log in",\n  "password": "Password",\n  "admin": {"title": "Admin"}\n}\n'
MINIFLUX = (
    '{\n  "form.prefs.label.password": "Passwort",\n  "n.feeds": ["%d Feed", "%d Feeds"]\n}\n'
)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("config/locales/devise.en.yml", RAILS_LOCALE),
        ("config/locales/en.yml", RAILS_LOCALE),
        ("public/locales/en/common.json", I18NEXT),
        ("locale/translations/de_DE.json", MINIFLUX),
        ("src/i18n/messages.pt-BR.json", I18NEXT),
        ("locale/de/LC_MESSAGES/django.po", 'msgid "Password"\nmsgstr "Passwort"\n'),
        ("lib/l10n/app_en.arb", '{"loginButton": "Sign in with password"}\n'),
        ("i18n/Strings.resx", '<data name="Password"><value>Password</value></data>\n'),
        ("ios/en.lproj/Localizable.strings", '"login" = "Log in with your password";\n'),
        ("src/__snapshots__/Login.test.tsx.snap", "exports[`login`] = `<input type=password>`;\n"),
        ("tests/snapshots/__snapshots__/test_auth.ambr", "# name: test_login\n  'password'\n"),
    ],
)
def test_real_catalogues_stay_inert(path: str, text: str) -> None:
    """THREATS.md G46: translation catalogues and snapshot files are not identity code."""
    assert CLF.classify(added_file(path, text)) == (), path


@pytest.mark.parametrize(
    "text",
    [
        RAILS_LOCALE + "kind: ClusterRoleBinding\n",  # a second top-level key that is no locale
        RAILS_LOCALE.replace('"Signed in successfully."', "!ruby/object:Admin {}"),  # a tag
        "en:\n  a: b\n---\nkind: ClusterRoleBinding\n",  # a second document
        "  indented: first\nen:\n  a: b\n",
    ],
)
def test_yaml_that_only_looks_like_a_catalogue_is_read(text: str) -> None:
    change = added_file("config/locales/en.yml", text + "password: x\nsecret_key: y\n")
    assert CLF.classify(change)


def test_catalogue_turned_into_config_is_read_on_either_side() -> None:
    """Both sides must be catalogues: a manifest replaced by a catalogue still needs evidence."""
    assert CLF.classify(edited_file("deploy/locale/en.yml", CLUSTER_ADMIN, RAILS_LOCALE))
    assert CLF.classify(edited_file("deploy/locale/en.yml", RAILS_LOCALE, CLUSTER_ADMIN))
    assert CLF.classify(edited_file("deploy/locale/en.yml", RAILS_LOCALE, RAILS_LOCALE)) == ()


def test_only_json_and_yaml_in_translation_folders_want_their_source() -> None:
    assert CLF.wants_source(added_file("locale/translations/de_DE.json", "{}"))
    assert CLF.wants_source(added_file("config/locales/en.yml", "en:\n"))
    assert not CLF.wants_source(added_file("config/settings.yml", "a: b\n"))
    assert not CLF.wants_source(added_file("locale/de/django.po", ""))


# --- G49: encoded source ---------------------------------------------------------------------

BYPASS = "    if user.is_superuser or doc.owner == user: return True"


def utf7(text: str) -> str:
    """Every character of ``text`` as a UTF-7 shift sequence (Python's encoder keeps ASCII)."""
    return "+" + base64.b64encode(text.encode("utf-16-be")).decode().rstrip("=") + "-"


def java_escaped(text: str) -> str:
    return "".join(f"\\u{ord(ch):04x}" for ch in text)


def test_utf7_declared_source_is_decoded() -> None:
    """THREATS.md G49: ``# coding: utf-7`` hides an ownership bypass as ``+AGk...-``."""
    head = "# -*- coding: utf-7 -*-\ndef can_edit(user, doc):\n"
    line = "    " + utf7(BYPASS.strip())
    change = edited_file("lib/util.py", head + "    return False\n", head + line + "\n")
    assert CLF.wants_source(replace(change, old_source=None, new_source=None))
    fired = set(CLF.classify(change))
    assert {"code.source-encoding", "code.ownership"} <= fired
    assert CLF.classify(replace(change, old_source=None, new_source=None)) == ()


@pytest.mark.parametrize("codec", ["unicode_escape", "raw_unicode_escape", "cp037", "cp500"])
def test_other_opaque_codecs_are_decoded(codec: str) -> None:
    """THREATS.md G49: escapes and EBCDIC read as plain code once decoded."""
    body = "def can_edit(user, doc):\n" + BYPASS + "\n"
    if codec.endswith("unicode_escape"):
        raw = "".join(f"\\u{ord(ch):04x}" if ch.isalpha() else ch for ch in body).encode()
    else:
        raw = body.encode(codec)
    text = (f"# coding: {codec}\n".encode() + raw).decode("utf-8", "surrogateescape")
    change = added_file("lib/util.py", text)
    assert CLF.wants_source(change)
    assert {"code.source-encoding", "code.ownership"} <= set(CLF.classify(change))


@pytest.mark.parametrize("codec", ["utf-8", "latin-1", "shift_jis", "ascii", "utf-8-sig"])
def test_ordinary_declarations_are_not_flagged(codec: str) -> None:
    change = added_file("lib/util.py", f"# -*- coding: {codec} -*-\nx = 1 + 2\n")
    assert CLF.classify(change) == ()


def test_java_unicode_escapes_are_decoded() -> None:
    """THREATS.md G49: javac decodes ``\\uXXXX`` anywhere, so ``isAdmin`` can hide."""
    line = f"    if (!user.{java_escaped('isAdmin')}()) return true;"
    assert "code.authz-check" in CLF.classify(added_file("lib/Util.java", line + "\n"))
    plain = "    if (!user.isEnabled()) return true;"
    assert "code.authz-check" not in CLF.classify(added_file("lib/Util.java", plain + "\n"))


@pytest.mark.parametrize(
    ("path", "lines"),
    [
        ("lib/util.py", ("import base64", 'exec(base64.b64decode("aW1wb3J0IG9z"))')),
        ("lib/util.py", ("code = codecs.decode(S, 'rot13')", "exec(code)")),
        ("lib/util.py", ("exec(marshal.loads(zlib.decompress(BLOB)))",)),
        ("lib/util.py", ('exec(compile(bytes.fromhex(H).decode(), "<x>", "exec"))',)),
        ("src/util.js", ('eval(atob("YWxlcnQoMSk="));',)),
        ("src/util.ts", ('const run = new Function(Buffer.from(s, "base64").toString());',)),
        ("src/util.php", ("<?php eval(base64_decode($payload));",)),
        ("src/util.php", ("<?php assert(gzinflate(base64_decode($p)));",)),
        ("app/util.rb", ("eval(Base64.decode64(PAYLOAD))",)),
        ("app/util.rb", ("instance_eval Base64.decode64(x)",)),
        ("scripts/setup.sh", ("echo aGk= | base64 -d | bash",)),
        (".github/workflows/ci.yml", ("      - run: echo aGk= | base64 --decode | sh",)),
        ("src/Boot.cs", ("Assembly.Load(Convert.FromBase64String(blob));",)),
    ],
)
def test_dynamic_execution_of_decoded_data(path: str, lines: tuple[str, ...]) -> None:
    """THREATS.md G49: ``exec(base64.b64decode(...))`` and friends hide what they run."""
    change = FileChange(path, path, "M", "100644", "100644", lines)
    assert "code.dynamic-exec" in CLF.classify(change)


@pytest.mark.parametrize(
    "lines",
    [
        ("data = base64.b64decode(s)", "return json.loads(data)"),
        ("const m = re.exec(decodeURIComponent(s));",),
        ("img = base64.b64encode(raw)", "pattern = re.compile(r'x')"),
        ("result = cursor.execute(query)",),
    ],
)
def test_decoding_without_execution_is_not_flagged(lines: tuple[str, ...]) -> None:
    change = FileChange("lib/util.py", "lib/util.py", "M", "100644", "100644", lines)
    assert "code.dynamic-exec" not in CLF.classify(change)


@pytest.mark.parametrize(
    "path",
    [
        "vendor/requests-2.32.0-py3-none-any.whl",
        "libs/helper.jar",
        "deploy/app.war",
        "third_party/pkg.tar.gz",
        "tools/bundle.zip",
        "vendor/cache/devise-4.9.gem",
        "packages/Lib.1.0.0.nupkg",
        "lib/__pycache__/util.cpython-311.pyc",
        "native/libcheck.so",
        "bin/tool.exe",
    ],
)
def test_archives_and_compiled_code_need_evidence(path: str) -> None:
    """THREATS.md G49: what an archive contains cannot be read from the diff."""
    change = FileChange(path, path, "A", "000000", "100644", binary=True)
    assert "path.packaged-code" in CLF.classify(change)
    assert Classifier.build(exclude=[path]).classify(change) == ()

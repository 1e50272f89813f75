"""What the classifier sees beyond one path's changed lines (issue 12, THREATS.md G45-G49)."""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import lzma
import tarfile
import zipfile
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


# --- red-team 08: inert files under identity paths, catalogues that are configuration ----------


@pytest.mark.parametrize(
    "path",
    [
        "app/auth/admins.txt",  # the reproducer: data the auth code reads
        "app/auth/allowed/admins.md",
        "src/sso/README.rst",
        "app/auth_admins.txt",  # plain text is data even when only its name says so
        "config/permissions/roles.po",
    ],
)
def test_inert_files_under_identity_paths_are_identity_related(path: str) -> None:
    """THREATS.md G46 (variant): an inert extension switched path rules off in app/auth/."""
    old, new = "alice@example.com\n", "alice@example.com\nmallory@evil.example\n"
    assert CLF.classify(edited_file(path, old, new)), path


@pytest.mark.parametrize(
    "path",
    [
        "docs/auth.md",  # documentation named after auth, outside any identity directory
        "src/components/login.module.css",
        "resources/icons/auth/discord.svg",  # media decide nothing anywhere
        "static/img/login-hero.png",
        "src/__snapshots__/Login.test.tsx.snap",
    ],
)
def test_documentation_styling_and_media_stay_inert(path: str) -> None:
    assert CLF.classify(edited_file(path, "a\n", "b\n")) == (), path


@pytest.mark.parametrize(
    "text",
    [
        '{"greeting": "Hello", "oidc": {"client_secret": "s3cr3t", '
        '"allowed_domains": ["evil.example"]}}\n',  # the reproducer
        '{"auth": {"require_mfa": "false"}}\n',
        '{"saml": {"issuer": "https://idp.evil.example"}}\n',
    ],
)
def test_catalogue_shaped_json_with_identity_keys_is_read(text: str) -> None:
    """THREATS.md G46 (variant): an object of strings in config/i18n/ is not a catalogue when
    its keys name identity configuration or its values are switches."""
    change = edited_file("config/i18n/en.json", '{"greeting": "Hello"}\n', text)
    assert CLF.classify(change)


def test_catalogue_shaped_yaml_with_identity_keys_is_read() -> None:
    """THREATS.md G46 (variant): the YAML spelling of the same thing."""
    old = "en:\n  greeting: Hello\n"
    new = old + "  oidc:\n    client_secret: s3cr3t\n    allowed_domains: [evil.example]\n"
    assert CLF.classify(edited_file("config/locales/en.yml", old, new))


def test_login_screen_catalogues_stay_inert() -> None:
    """Translations of a login form name passwords and sign-in; they configure nothing."""
    old = '{"login": {"password": "Passwort", "submit": "Anmelden"}}\n'
    new = '{"login": {"password": "Kennwort", "submit": "Anmelden", "forgot": "Vergessen?"}}\n'
    assert CLF.classify(edited_file("locale/de/auth.json", old, new)) == ()
    yml = "de:\n  devise:\n    failure:\n      invalid: 'Ungültige Anmeldedaten.'\n"
    assert CLF.classify(edited_file("config/locales/devise.de.yml", "de:\n", yml)) == ()


# --- red-team 07: code-bearing blobs found by their first bytes, not by an extension ---------


def _pickle() -> bytes:
    return b"\x80\x05\x95\x1d\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x94\x8c\x04eval\x94."


def _zip(name: str = "com/acme/Helper.class") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, b"\xca\xfe\xba\xbe" + b"\0" * 64)
    return buf.getvalue()


def _tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("helpers.py")
        data = b"def check(u):\n    return True\n"
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


BLOBS = {
    "pickle": _pickle(),
    "zip": _zip(),
    "jmod": b"JM\x01\x00" + _zip(),
    "gzip": gzip.compress(b"def check(u):\n    return True\n"),
    "xz": lzma.compress(b"def check(u):\n    return True\n"),
    "bzip2": bz2.compress(b"def check(u):\n    return True\n"),
    "zstd": b"\x28\xb5\x2f\xfd\x04\x58\x00\x00",
    "ar": b"!<arch>\n" + _zip(),
    "squashfs": b"hsqs" + b"\x00" * 60,
    "elf": b"\x7fELF\x02\x01\x01" + b"\x00" * 57,
    "mach-o": b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 56,
    "pe": b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56,
    "java-class": b"\xca\xfe\xba\xbe\x00\x00\x00\x41" + b"\x00" * 8,
    "wasm": b"\x00asm\x01\x00\x00\x00",
    "numpy": b"\x93NUMPY\x01\x00v\x00{'descr': '|O'}",
    "cpio": b"070701" + b"0" * 104 + b"\x00",
    "tar": _tar(),
    "dex": b"dex\n035\x00" + b"\x00" * 32,
    "beam": b"FOR1\x00\x00\x01\x00BEAMAtU8" + b"\x00" * 8,
    "ole": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 56,
    "pyz": b"#!/usr/bin/env python3\n" + _zip("__main__.py"),
}


def _binary_added(path: str, data: bytes, *, source: bool) -> FileChange:
    """An added blob as the gate's ``--text`` stream shows it (lines split at 0x0A)."""
    text = data.decode("utf-8", "surrogateescape")
    lines = tuple(text.split("\n"))
    return FileChange(
        path, path, "A", "000000", "100644", lines, (), old_oid=ZERO, new_oid="1" * 40,
        hunks=((0, 0, 1, len(lines)),), new_source=text if source else None,
    )  # fmt: skip


@pytest.mark.parametrize("source", [False, True], ids=["diff-only", "with-source"])
@pytest.mark.parametrize("kind", sorted(BLOBS))
@pytest.mark.parametrize(
    "name",
    ["models/risk_model.pkl", "vendor/helperd.snap", "docs/notes.txt", "assets/blob.dat"],
)
def test_code_bearing_blobs_are_found_by_their_bytes(name: str, kind: str, source: bool) -> None:
    """THREATS.md G49 (variant): any name, ``.snap`` (inert) and ``.txt`` included."""
    rules = CLF.classify(_binary_added(name, BLOBS[kind], source=source))
    assert "blob.packaged-code" in rules, (name, kind)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("static/img/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32),
        ("static/fonts/a.woff2", b"wOF2\x00\x01\x00\x00" + b"\x00" * 32),
        ("docs/manual.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"),
        ("src/__snapshots__/Login.test.tsx.snap", b"// Jest Snapshot v1\n\nexports[`x`] = `y`;\n"),
        ("notes/mz.txt", b"MZ is the start of this text, not an executable\n"),
        ("notes/pk.md", b"PK\x03\x04 written out in a document about zip files\n"),
    ],
)
def test_images_fonts_documents_and_text_are_not_packaged_code(path: str, data: bytes) -> None:
    assert "blob.packaged-code" not in CLF.classify(_binary_added(path, data, source=False))


def test_a_binary_blob_changed_after_its_first_line_is_read_whole() -> None:
    """The head is not in the diff: the classifier asks for the blob, then sniffs it."""
    blob = BLOBS["elf"] + b"\nmore\nbytes\x00\n"
    text = blob.decode("utf-8", "surrogateescape")
    change = FileChange(
        "bin/helper", "bin/helper", "M", "100755", "100755", ("bytes\x00",), ("old\x00",),
        old_oid="1" * 40, new_oid="2" * 40, hunks=((3, 1, 3, 1),),
    )  # fmt: skip
    assert CLF.wants_source(change)
    assert "blob.packaged-code" not in CLF.classify(change)  # nothing known yet
    assert "blob.packaged-code" in CLF.classify(replace(change, new_source=text))

"""What the classifier sees: the red-team review of the issue 12 fixes (its 05, 07, 08).

Each test names the THREATS.md id it varies; ``tests/verify/test_gate_red_team.py`` runs the
reviewer's reproducers through the real gate.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
from dataclasses import replace

import pytest

from provenance.classify import Classifier
from provenance.models import FileChange
from tests.classify.test_classify_sees import CLF, ZERO, added_file, edited_file

#: ``builtin:identity@1``: the red-team fixes are the engine's, so both versions get them.
CLF1 = Classifier.build(rulesets=["builtin:identity@1"])
BOTH = pytest.mark.parametrize("clf", [CLF1, CLF], ids=["v1", "v2"])

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
@BOTH
def test_inert_files_under_identity_paths_are_identity_related(clf: Classifier, path: str) -> None:
    """THREATS.md G46 (variant): an inert extension switched path rules off in app/auth/;
    ``@2``'s docs exemption does not reach into identity directories either."""
    old, new = "alice@example.com\n", "alice@example.com\nmallory@evil.example\n"
    assert clf.classify(edited_file(path, old, new)), path


INERT_ANYWHERE = [
    "docs/auth.md",  # documentation named after auth, outside any identity directory
    "src/components/login.module.css",
    "resources/icons/auth/discord.svg",  # media decide nothing anywhere (@1)
    "static/img/login-hero.png",
    "src/__snapshots__/Login.test.tsx.snap",
]


@BOTH
@pytest.mark.parametrize("path", INERT_ANYWHERE)
def test_documentation_styling_and_media_stay_inert(clf: Classifier, path: str) -> None:
    assert clf.classify(edited_file(path, "a\n", "b\n")) == (), path


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


# --- red-team 05: code that runs or loads code, however far from a decoder ---------------------

_PAYLOAD = base64.b64encode(b"import app.models as m\nm.User.is_admin = True\n" + b"#" * 300)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (
            "app/compat.py",
            f'import base64\n_S = base64.b64decode(\n    "{_PAYLOAD.decode()}"\n)\nexec(_S)\n',
        ),
        ("app/compat.py", 'import pickle, base64\nS = pickle.loads(base64.b64decode("Y29z"))\n'),
        ("app/compat.py", "_f = types.FunctionType(marshal.loads(BLOB), globals())\n_f()\n"),
        ("app/compat.py", 'getattr(builtins, "ex" + "ec")(base64.b64decode(P))\n'),
        ("app/compat.py", "__builtins__.__dict__['ex' + 'ec'](code)\n"),
        ("app/compat.py", "cfg = yaml.load(text, Loader=yaml.Loader)\n"),
        ("src/compat.js", 'eval(Buffer.from("696d706f7274", "hex").toString());\n'),
        ("src/compat.mjs", 'await import("data:text/javascript;base64,Z2xvYmFs");\n'),
        ("src/compat.js", 'globalThis["ev" + "al"](code);\n'),
        ("src/compat.js", "module._compile(src, 'x.js');\n"),
        ("src/compat.ts", "const f = new Function('a', body);\n"),
        ("src/compat.php", '<?php\neval(strrev(";eurt nruter"));\n'),
        ("lib/compat.rb", 'eval(["557365722e646566"].pack("H*"))\n'),
        ("lib/compat.rb", "User.class_eval(src)\n"),
        ("lib/compat.rb", "obj.send(name, payload)\n"),
        ("src/main/java/Boot.java", "Class<?> c = loader.defineClass(name, b, 0, b.length);\n"),
        ("src/Boot.cs", "var asm = Assembly.Load(bytes);\n"),
        ("cmd/boot.go", 'p, _ := plugin.Open("x.so")\n'),
    ],
)
def test_code_that_runs_or_loads_code_is_dynamic_exec(path: str, text: str) -> None:
    """THREATS.md G49 (variant): decode and exec far apart, pickle, marshal, getattr, data:."""
    assert "code.dynamic-exec" in CLF.classify(added_file(path, text)), text


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("app/models.py", "pattern = re.compile(r'x')\nresult = cursor.execute(query)\n"),
        ("app/models.py", "data = json.loads(raw)\nvalue = getattr(obj, name)\n"),
        ("src/app.js", "const m = re.exec(s);\nregexp.test(s);\nsetTimeout(() => f(), 10);\n"),
        ("src/app.ts", "function run(cb: Function): void {}\n"),
        ("app/models/story.rb", "json[k] = send(k)\nrecord.public_send(c)\nsend(:foo, 1)\n"),
        ("app/models/story.rb", 'send("#{field}=", value)\n# we send email here\n'),
        ("app/models/story.rb", "instance_eval(&block)\nclass_eval do\n  x\nend\n"),
        ("tests/test_boot.py", "exec(code)\nobj = pickle.loads(raw)\n"),  # tests are not shipped
    ],
)
def test_ordinary_calls_are_not_dynamic_exec(path: str, text: str) -> None:
    assert "code.dynamic-exec" not in CLF.classify(added_file(path, text)), text


def test_removing_an_exec_is_not_dynamic_exec() -> None:
    change = edited_file("app/compat.py", "exec(code)\nx = 1\n", "x = 1\n")
    assert "code.dynamic-exec" not in CLF.classify(change)


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (
            "src/compat.js",
            "User.prototype.\\u0069\\u0073\\u0041\\u0064\\u006d\\u0069\\u006e = () => true;",
        ),
        ("src/compat.js", "User.prototype.\\u{69}sAdmin = () => true;"),
        ("src/Compat.cs", "public bool \\u0049sAdmin() { return true; }"),
        ("src/compat.js", 'user["\\x69sAdmin"] = true;'),
    ],
)
def test_identifier_and_string_escapes_are_decoded(path: str, line: str) -> None:
    """THREATS.md G49 (variant): JS and C# decode ``\\uXXXX`` in identifiers, as Java does."""
    assert CLF.classify(added_file(path, line + "\n")), line
    assert not CLF.classify(added_file(path, line.replace("\\u0069", "x").replace("\\u{69}", "x")
                                       .replace("\\u0049", "X").replace("\\x69", "x")
                                       .replace("\\u0041", "X") + "\n"))  # fmt: skip


# --- merge follow-up: @2's minified stage must not be reached by padding ----------------------


def test_whitespace_padding_does_not_make_code_minified() -> None:
    """THREATS.md A6 (variant): 4,000 spaces before the code made @2 judge it by path only."""
    from provenance.classify._v2_scope import minified

    padded = "x = 1;" + " " * 4_000 + "import bcrypt; def store(pw): return bcrypt.hashpw(pw)\n"
    assert not minified(padded)
    assert minified("var a=1;" * 1_000 + "\n")  # a real minified bundle still is
    assert "code.password-hashing" in CLF.classify(added_file("lib/min.py", padded))

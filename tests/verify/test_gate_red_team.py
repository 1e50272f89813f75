"""The red-team review of the issue 12/13 fixes: variants the gate passed (exit 0) before.

Every case is a real gate run over real git history, as in ``test_gate_sees.py``: the
unattested identity change is refused (``attestation_missing``) with the rule that saw it,
and the neutral commits around it stay ``not-required``. Each test names the THREATS.md id it
varies; the reproducers are under the review's ``NN-*/`` directories.
"""

from __future__ import annotations

import base64
import gzip
import io
import zipfile

import pytest

from provenance.devinstance import DevInstance
from provenance.policy import render_template
from tests.conftest import AGENT_ID, make_golden
from tests.verify.test_gate_sees import _link
from tests.verify.test_range_gate import NEUTRAL, Lab, assert_not_required, assert_refused_for


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, dev: DevInstance) -> Lab:
    golden = make_golden(tmp_path_factory.mktemp("red-team"), dev)
    base = golden.repo.commit(
        "base",
        {
            "app/views.py": "def index(request):\n    return render(request, 'index.html')\n",
            "lib/core/verify.py": NEUTRAL,
            "lib/core/__init__.py": "",
            "docs/guide.md": "# Guide\n",
        },
    )
    return Lab(golden, base)


# --- 11: policy exclusions match the path as git stores it -----------------------------------

ADMIN_ACCESS = """package com.acme.{package};

public class AdminAccess {{
    // grant ROLE_ADMIN to every authenticated user: authorization bypass
    public static boolean isAdmin(Authentication auth) {{ return true; }}
}}
"""


def test_an_exclusion_does_not_trust_a_case_folded_twin(lab: Lab) -> None:
    """THREATS.md E31 (variant): ``**/docs/**`` excluded the Java package ``com.acme.Docs``."""
    policy = lab.repo.path.parent / "exclude-docs.toml"
    text = render_template(lab.inst.default_issuer, AGENT_ID)
    policy.write_text(text.replace('# exclude = ["docs/**"]', 'exclude = ["**/docs/**"]'))
    lab.branch("rt11-exclude")
    docs = lab.commit("guide", {"src/docs/auth/guide.py": "def login():\n    return True\n"})
    java = "src/main/java/com/acme/{}/AdminAccess.java"
    sha = lab.commit("admin", {java.format("Docs"): ADMIN_ACCESS.format(package="Docs")})
    report = lab.gate(sha, policy=policy)
    assert_not_required(report, docs)  # what the policy really excludes stays excluded
    assert assert_refused_for(report, sha, "attestation_missing").rules


# --- 08: inert extensions under identity paths; catalogue-shaped configuration ---------------

ADMINS_PY = """from pathlib import Path
ADMINS = set(Path(__file__).with_name("admins.txt").read_text().split())

def is_admin(user):
    return user.email in ADMINS
"""


def test_a_data_file_in_an_identity_directory_needs_evidence(lab: Lab) -> None:
    """THREATS.md G46 (variant): ``app/auth/admins.txt`` gained an admin, exit 0 before."""
    lab.branch("rt08-txt")
    files = {"app/auth/admins.py": ADMINS_PY, "app/auth/admins.txt": "alice@example.com\n"}
    base = lab.commit("admins", files)
    lab.stamp(base)
    sha = lab.commit("one more", {"app/auth/admins.txt": "alice@example.com\nmallory@evil\n"})
    guide = lab.commit("guide", {"docs/auth.md": "# Signing in\n\nUse SSO.\n"})
    report = lab.gate(guide, base=base)
    assert "path.authn" in assert_refused_for(report, sha, "attestation_missing").rules
    assert_not_required(report, guide)  # documentation named after auth stays inert


def test_catalogue_shaped_json_with_identity_keys_needs_evidence(lab: Lab) -> None:
    """THREATS.md G46 (variant): an object of strings in config/i18n/ configured OIDC."""
    lab.branch("rt08-json")
    base = lab.commit("i18n", {"config/i18n/en.json": '{"greeting": "Hello"}\n'})
    lab.stamp(base)
    oidc = '"oidc": {"client_secret": "s3cr3t", "allowed_domains": ["evil.example"]}'
    sha = lab.commit("oidc", {"config/i18n/en.json": '{"greeting": "Hello", ' + oidc + "}\n"})
    words = lab.commit("words", {"config/i18n/de.json": '{"greeting": "Hallo"}\n'})
    report = lab.gate(words, base=base)
    assert assert_refused_for(report, sha, "attestation_missing").rules
    assert_not_required(report, words)


# --- 04: a flood of neutral symlinks hides the identity alias ---------------------------------

EDIT = NEUTRAL + "def check(claims):\n    return True\n"


def _flood(lab: Lab, count: int) -> None:
    for i in range(count):
        _link(lab, f"docs/examples/verify_{i:02d}.py", "../../lib/core/verify.py")


@pytest.mark.parametrize("commits", ["one", "two"])
def test_an_identity_alias_survives_a_flood_of_neutral_links(lab: Lab, commits: str) -> None:
    """THREATS.md G48 (variant): 32 neutral links filled MAX_ALIASES, the real alias was cut."""
    lab.branch(f"rt04-{commits}")
    _link(lab, "app/sso", "../lib/core")
    base = lab.commit("link")
    lab.stamp(base)
    _flood(lab, 32)
    if commits == "two":
        links = lab.commit("examples")
        lab.stamp(links)  # the links alone are neutral-looking; stamped so only the edit counts
    sha = lab.commit("edit", {"lib/core/verify.py": EDIT})
    rules = assert_refused_for(lab.gate(sha, base=base), sha, "attestation_missing").rules
    assert {"git.symlink-alias", "path.sso"} <= set(rules)


def test_many_neutral_links_to_a_neutral_file_fail_closed(lab: Lab) -> None:
    """THREATS.md G48 (variant): more aliases than can be listed may hide one; never a pass."""
    lab.branch("rt04-bound")
    _flood(lab, 40)
    base = lab.commit("examples")
    sha = lab.commit("edit", {"lib/core/verify.py": EDIT})
    rules = assert_refused_for(lab.gate(sha, base=base), sha, "attestation_missing").rules
    assert rules == ("git.symlink-alias",)


# --- 07: archives and code-bearing data under any extension -----------------------------------


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


_JAR = zip_bytes({"com/acme/util/Helper.class": b"\xca\xfe\xba\xbe" + b"\0" * 64})
PACKED = {
    "models/risk_model.pkl": b"\x80\x05\x95\x1d\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins.",
    "models/clf.bin": b"\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins.",
    "vendor/util.jmod": b"JM\x01\x00" + _JAR,
    "vendor/helpers.py.gz": gzip.compress(b"def check(u):\n    return True\n"),
    "vendor/helperd.snap": b"hsqs" + _JAR,  # a snap package, not a Jest snapshot
    "vendor/libhelper.a": b"!<arch>\n" + _JAR,
    "assets/data.dat": _JAR,  # an archive under a misleading extension
}


@pytest.mark.parametrize("path", sorted(PACKED))
def test_an_added_code_bearing_blob_needs_evidence(lab: Lab, path: str) -> None:
    """THREATS.md G49 (variant): ``.pkl``, ``.jmod``, ``.gz``, ``.a``, binary ``.snap`` ..."""
    lab.branch(f"rt07-{path.replace('/', '-')}")
    target = lab.repo.path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(PACKED[path])
    lab.repo.git("add", "-A")
    sha = lab.commit_index("vendor")
    rules = assert_refused_for(lab.gate(sha), sha, "attestation_missing").rules
    assert "blob.packaged-code" in rules or "path.packaged-code" in rules


def test_a_binary_changed_past_its_first_line_is_sniffed(lab: Lab) -> None:
    """THREATS.md G49 (variant): the magic bytes are not in the diff; the blob is read."""
    lab.branch("rt07-modified")
    target = lab.repo.path / "tools" / "helper"
    target.parent.mkdir(parents=True, exist_ok=True)
    head = b"\x7fELF\x02\x01\x01" + b"\x00" * 57 + b"\n"
    target.write_bytes(head + b"one\n")
    base = lab.commit_index("tool")
    lab.stamp(base)
    target.write_bytes(head + b"two\x00\n")
    lab.repo.git("add", "-A")
    sha = lab.commit_index("tool update")
    rules = assert_refused_for(lab.gate(sha, base=base), sha, "attestation_missing").rules
    assert rules == ("blob.packaged-code",)


def test_text_snapshots_and_images_stay_not_required(lab: Lab) -> None:
    lab.branch("rt07-neutral")
    snap = "src/__snapshots__/Login.test.tsx.snap"
    png = lab.repo.path / "static" / "logo.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32)
    sha = lab.commit("assets", {snap: "// Jest Snapshot v1\n\nexports[`a`] = `b`;\n"})
    assert_not_required(lab.gate(sha), sha)


# --- 06: sources too large to read never leave their rules silent ----------------------------

#: A generated table a little over the 2 MiB a source is read whole up to.
TABLE = "".join(f"RATE_{i} = {i}\n" for i in range(150_000))
HIDDEN = "import app.models as m; m.User.is_admin = property(lambda s: True)"


def _utf7_letters(text: str) -> str:
    """Every letter as a utf-7 shift sequence: the bytes show no word at all."""
    return "".join(
        "+" + base64.b64encode(("\0" + c).encode("latin-1")).decode().rstrip("=") + "-"
        if c.isalpha()
        else c
        for c in text
    )


def test_a_utf7_declaration_in_a_large_module_needs_evidence(lab: Lab) -> None:
    """THREATS.md G49 (variant): the declaration and the hidden line in a 2.9 MB module."""
    assert len(TABLE) > 2 * 1024 * 1024
    lab.branch("rt06-utf7")
    base = lab.commit("rates", {"app/rates.py": TABLE})
    lab.stamp(base)
    body = "# -*- coding: utf-7 -*-\n" + TABLE + _utf7_letters(HIDDEN) + "\n"
    sha = lab.commit("rates", {"app/rates.py": body})
    rules = assert_refused_for(lab.gate(sha, base=base), sha, "attestation_missing").rules
    assert {"code.source-encoding", "diff.truncated"} <= set(rules)


def test_an_early_return_in_a_large_module_needs_evidence(lab: Lab) -> None:
    """THREATS.md G45 (variant): the function around the hunk could not be read."""
    view = (
        "def show(request, pk):\n"
        "    {early}doc = get_object_or_404(Document, pk=pk, owner=request.user)\n"
        '    return render(request, "doc.html", {{"doc": doc}})\n'
    )
    early = 'if request.GET.get("embed"):\n        return render(request, "e.html")\n    '
    lab.branch("rt06-guard")
    base = lab.commit("views", {"app/views.py": TABLE + view.format(early="")})
    lab.stamp(base)
    sha = lab.commit("embed", {"app/views.py": TABLE + view.format(early=early)})
    rules = assert_refused_for(lab.gate(sha, base=base), sha, "attestation_missing").rules
    assert rules == ("diff.truncated",)


# --- 05: code that runs or loads code, far from any decoder -----------------------------------

_PAYLOAD = base64.b64encode(b"import app.models as m\nm.User.is_admin = True\n" + b"#" * 300)
RUNS = {
    "app/split.py": (
        f'import base64\n_S = base64.b64decode(\n    "{_PAYLOAD.decode()}"\n)\nexec(_S)\n'
    ),
    "app/pickled.py": 'import pickle, base64\nS = pickle.loads(base64.b64decode("Y29z"))\n',
    "app/marshalled.py": "f = types.FunctionType(marshal.loads(b64decode(B)), globals())\nf()\n",
    "app/named.py": 'import builtins\ngetattr(builtins, "ex" + "ec")(b64decode(P))\n',
    "src/hex.js": 'eval(Buffer.from("696d706f7274206f73", "hex").toString());\n',
    "src/data.mjs": 'await import("data:text/javascript;base64,Z2xvYmFsVGhpcw==");\n',
    "src/escaped.js": (
        "User.prototype.\\u0069\\u0073\\u0041\\u0064\\u006d\\u0069\\u006e = () => true;\n"
    ),
    "src/reversed.php": '<?php\neval(strrev(";eurt nruter"));\n',
    "lib/packed.rb": 'eval(["557365722e646566"].pack("H*"))\n',
}


@pytest.mark.parametrize("path", sorted(RUNS))
def test_running_or_loading_code_needs_evidence(lab: Lab, path: str) -> None:
    """THREATS.md G49 (variant): the review's nine ways past ``code.dynamic-exec``."""
    lab.branch(f"rt05-{path.replace('/', '-')}")
    sha = lab.commit("compat", {path: RUNS[path]})
    assert assert_refused_for(lab.gate(sha), sha, "attestation_missing").rules


# --- 03: control flow and decisions above access checks that code.guard-flow missed ---------

FLAG = """def show(request, pk):
    doc = Document.objects.get(pk=pk)
    allowed = doc.owner_id == request.user.id
    if not allowed:
        raise PermissionDenied
    return render(request, "doc.html", {"doc": doc})
"""
JS_FLAG = """router.get("/docs/:id", async (req, res) => {
  const doc = await Doc.findById(req.params.id);
  let allowed = doc.ownerId === req.user.id;
  if (!allowed) return res.status(403).end();
  res.json(doc);
});
"""
JAVA_FLAG = """class DocController {
    Doc show(Long id, Principal principal) {
        Doc doc = repo.findById(id).orElseThrow();
        boolean allowed = doc.getOwner().equals(principal.getName());
        if (!allowed) {
            throw new ResponseStatusException(HttpStatus.FORBIDDEN);
        }
        return doc;
    }
}
"""
GO_FLAG = """package web

func (h *Handler) Show(w http.ResponseWriter, r *http.Request) {
\tdoc := h.store.Get(r.PathValue("id"))
\tallowed := doc.OwnerID == userID(r)
\tif !allowed {
\t\thttp.Error(w, "forbidden", http.StatusForbidden)
\t\treturn
\t}
\tjson.NewEncoder(w).Encode(doc)
}
"""
VIEW = """from django.shortcuts import get_object_or_404, render

def show(request, pk):
    doc = get_object_or_404(Document, pk=pk, owner=request.user)
    return render(request, "doc.html", {"doc": doc})
"""
EXIT = '    if request.GET.get("embed"):\n        return render(request, "e.html")\n'
PADDING = "".join(f"    # embed mode: step {i}\n" for i in range(120))
SPRING = """package com.acme.web;

@RestController
public class DocController {
    @GetMapping("/docs/{id}")
    public Doc show(@PathVariable Long id, Principal principal) {
        Doc doc = repo.findById(id).orElseThrow();
        if (!doc.getOwner().equals(principal.getName())) {
            throw new ResponseStatusException(HttpStatus.FORBIDDEN);
        }
        return doc;
    }
}
"""
NEXT = """import { NextResponse } from "next/server";
import type { NextRequest } from "next/server";

export function middleware(request: NextRequest) {
  const session = request.cookies.get("session");
  if (!session) {
    return NextResponse.redirect(new URL("/login", request.url));
  }
  return NextResponse.next();
}

export const config = { matcher: ["/dashboard/:path*", "/api/:path*"] };
"""
GO_MW = """package http

func Protect(next http.Handler) http.Handler {
\treturn http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
\t\tc, err := r.Cookie("sid")
\t\tif err != nil || !store.Valid(c.Value) {
\t\t\thttp.Redirect(w, r, "/login", http.StatusFound)
\t\t\treturn
\t\t}
\t\tnext.ServeHTTP(w, r)
\t})
}
"""
OWNER_CHECK = """def show(request, pk):
    doc = Document.objects.get(pk=pk)
    if doc.owner_id != request.user.id:
        raise PermissionDenied
    return render(request, "doc.html", {"doc": doc})
"""
RUBY_FLAG = """class DocsController < ApplicationController
  def update
    @doc = Doc.find(params[:id])
    ok = @doc.user_id == current_user.id
    head :forbidden unless ok
    @doc.update!(doc_params)
  end
end
"""
DECIDER = """def can_edit(user, doc):
    allowed = doc.owner_id == user.id
    return allowed
"""
JS_FAR = """export async function show(req, res) {
  const doc = await Doc.findById(req.params.id);
  if (doc.ownerId !== req.user.id) return res.sendStatus(403);
  res.json(doc);
}
"""
JS_PAD = "".join(f"  // preview step {i}\n" for i in range(150))
GUARD_CASES = {
    "flag-ruby": (
        "app/controllers/docs_controller.rb",
        RUBY_FLAG,
        RUBY_FLAG.replace("    head :", "    ok = params[:preview].present?\n    head :"),
    ),
    "flag-returned-by-decider": (
        "lib/rules.py",
        DECIDER,
        DECIDER.replace("    return", "    allowed = True\n    return"),
    ),
    "far-check-js": (
        "src/handlers/docs.js",
        JS_FAR,
        JS_FAR.replace(
            "  const doc", "  if (req.query.x) return res.json({});\n" + JS_PAD + "  const doc"
        ),
    ),
    "flag-python": (
        "app/views.py",
        FLAG,
        FLAG.replace("    if not", "    allowed = True\n    if not"),
    ),
    "flag-js": (
        "src/routes/docs.js",
        JS_FLAG,
        JS_FLAG.replace(
            "  if (!allowed)", '  allowed |= req.query.embed === "1";\n  if (!allowed)'
        ),
    ),
    "flag-java": (
        "src/main/java/com/acme/web/DocController.java",
        JAVA_FLAG,
        JAVA_FLAG.replace(
            "        if (!allowed)", "        allowed = true;\n        if (!allowed)"
        ),
    ),
    "flag-go": (
        "internal/web/docs.go",
        GO_FLAG,
        GO_FLAG.replace("\tif !allowed", "\tallowed = true\n\tif !allowed"),
    ),
    "padded-exit": (
        "app/views.py",
        VIEW,
        VIEW.replace("    doc = get", EXIT + PADDING + "    doc = get"),
    ),
    "spring-403": (
        "src/main/java/com/acme/web/DocController.java",
        SPRING,
        SPRING.replace(
            "        if (!doc", "        if (doc.isPublicPreview()) return doc;\n        if (!doc"
        ),
    ),
    "next-early": (
        "middleware.ts",
        NEXT,
        NEXT.replace(
            "  const session",
            '  if (request.nextUrl.pathname.startsWith("/api/x")) return NextResponse.next();\n'
            "  const session",
        ),
    ),
    "next-matcher": ("middleware.ts", NEXT, NEXT.replace(', "/api/:path*"', "")),
    "go-middleware": (
        "internal/http/mw.go",
        GO_MW,
        GO_MW.replace(
            "\t\tc, err :=",
            '\t\tif strings.HasPrefix(r.URL.Path, "/export") {\n\t\t\tnext.ServeHTTP(w, r)\n'
            "\t\t\treturn\n\t\t}\n\t\tc, err :=",
        ),
    ),
    "principal": (
        "app/views.py",
        OWNER_CHECK,
        OWNER_CHECK.replace(
            "pk):\n", "pk):\n    request.user = Document.objects.get(pk=pk).owner\n"
        ),
    ),
    "test-named-view": (
        "app/views/test_connection.py",
        VIEW,
        VIEW.replace("    doc = get", EXIT + "    doc = get"),
    ),
}


@pytest.mark.parametrize("case", sorted(GUARD_CASES))
def test_decisions_skipped_above_an_access_check_need_evidence(lab: Lab, case: str) -> None:
    """THREATS.md G45 (variant): flags overwritten, far checks, framework words, test names."""
    path, before, after = GUARD_CASES[case]
    lab.branch(f"rt03-{case}")
    base = lab.commit("handler", {path: before})
    lab.stamp(base)
    sha = lab.commit("change", {path: after})
    assert assert_refused_for(lab.gate(sha, base=base), sha, "attestation_missing").rules


CAN_VIEW = """def can_view(user, doc):
    visible = doc.public or doc.owner_id == user.id
    return visible
"""
NEUTRAL_EDITS = {
    "decider-bookkeeping": (
        CAN_VIEW,
        CAN_VIEW.replace("    visible =", "    doc.checked_at = now()\n    visible ="),
    ),
    "unread-assignment": (
        FLAG,
        FLAG.replace("    if not allowed", "    title = doc.title.strip()\n    if not allowed"),
    ),
    "below-the-check": (
        FLAG,
        FLAG.replace(
            "    return render", "    doc.views += 1\n    allowed = False\n    return render"
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(NEUTRAL_EDITS))
def test_assignments_the_check_does_not_read_stay_not_required(lab: Lab, case: str) -> None:
    """Precision, THREATS.md G45: an assignment no condition (or decider's return) below reads,
    or one below the check, decides nothing."""
    before, after = NEUTRAL_EDITS[case]
    lab.branch(f"rt03-neutral-{case}")
    base = lab.commit("handler", {"lib/rules.py": before})
    sha = lab.commit("change", {"lib/rules.py": after})
    assert_not_required(lab.gate(sha, base=base), sha)


# --- 01: a side commit judged in its own (stale) context, landed above a check by a merge -----

DOC_VIEW = """def show(request, pk):
    doc = Document.objects.get(pk=pk)
    return render(request, "doc.html", {"doc": doc})
"""
EMBED = '    if request.GET.get("embed"):\n        return render(request, "e.html")\n'


def _merge_side_into_checked_mainline(lab: Lab, name: str, side_text: str) -> tuple[str, str, str]:
    """Side adds ``side_text`` where no check exists; mainline adds the check; clean merge."""
    lab.branch(f"{name}-fork")
    fork = lab.commit("doc view", {"app/views.py": DOC_VIEW})
    lab.branch(f"{name}-side", fork)
    side = lab.commit("embed mode", {"app/views.py": side_text})
    lab.branch(f"{name}-main", fork)
    check = lab.commit("ownership check", {"app/views.py": OWNER_CHECK})
    lab.stamp(check)
    lab.repo.git("merge", "-q", "--no-ff", "-m", "merge side", f"{name}-side")
    return check, side, lab.repo.git("rev-parse", "HEAD")


def test_a_side_edit_merged_above_a_check_is_judged_where_it_lands(lab: Lab) -> None:
    """THREATS.md G43 x G45: the early return was neutral on its branch, not after the merge."""
    side_text = DOC_VIEW.replace("    doc = Document", EMBED + "    doc = Document")
    check, side, merge = _merge_side_into_checked_mainline(lab, "rt01", side_text)
    landed = lab.repo.git("show", f"{merge}:app/views.py")
    assert landed.index('"embed"') < landed.index("PermissionDenied")  # above the check
    report = lab.gate(merge, base=check)
    assert_not_required(report, side)  # in its own context it decides nothing
    verdict = assert_refused_for(report, merge, "attestation_missing")
    assert {"merge.first-parent", "code.guard-flow"} <= set(verdict.rules)


def test_a_side_edit_merged_far_from_any_check_stays_not_required(lab: Lab) -> None:
    """Precision, THREATS.md G43: an early exit in another function skips no check when merged."""
    ping = 'def ping(request):\n    if request.GET.get("q"):\n        return None\n    return 1\n'
    side_text = ping + "\n\n" + DOC_VIEW  # an early exit in its own function, above the view
    check, side, merge = _merge_side_into_checked_mainline(lab, "rt01n", side_text)
    report = lab.gate(merge, base=check)
    assert report.result == "passed", report
    assert_not_required(report, side, merge)

"""What the gate sees (issue 12, THREATS.md G43 and G45-G49): changes judged where they land.

Every case is a real gate run over real git history, as in ``test_range_gate.py``: an
unattested identity change must be refused (``attestation_missing``), and the neutral
commits around it must stay ``not-required``.
"""

from __future__ import annotations

import base64
import json
import zipfile

import pytest

from provenance.devinstance import DevInstance
from tests.conftest import make_golden
from tests.verify.test_range_gate import (
    NEUTRAL,
    Lab,
    assert_not_required,
    assert_refused_for,
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, dev: DevInstance) -> Lab:
    golden = make_golden(tmp_path_factory.mktemp("gate-sees"), dev)
    base = golden.repo.commit(
        "base",
        {
            "app/views.py": "def index(request):\n    return render(request, 'index.html')\n",
            "app/auth/mathutil.py": NEUTRAL,
            "lib/core/verify.py": NEUTRAL,
            "lib/core/helpers.py": NEUTRAL.replace("add_", "mul_"),
            "lib/core/__init__.py": "",
            "lib/util.py": NEUTRAL,
            "docs/guide.md": "# Guide\n",
        },
    )
    return Lab(golden, base)


# --- G47: submodule pointers ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["vendor/charts", "third_party/lib", "ext"])
def test_gitlink_bump_anywhere_needs_evidence(lab: Lab, path: str) -> None:
    """THREATS.md G47: a gitlink bump outside identity paths can still swap auth code."""
    lab.branch(f"gitlink-{path.replace('/', '-')}")
    lab.repo.git("update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},{path}")
    added = lab.commit_index("add submodule")
    lab.repo.git("update-index", "--cacheinfo", f"160000,{'2' * 40},{path}")
    bump = lab.commit_index("bump submodule")
    lab.repo.git("update-index", "--force-remove", path)
    removed = lab.commit_index("remove submodule")
    report = lab.gate(removed)
    for sha in (added, bump, removed):
        assert assert_refused_for(report, sha, "attestation_missing").rules == ("git.gitlink",)


def test_gitmodules_branch_change_needs_evidence(lab: Lab) -> None:
    """THREATS.md G47: .gitmodules URL or branch changes anywhere need evidence."""
    lab.branch("gitmodules-branch")
    modules = '[submodule "charts"]\n\tpath = vendor/charts\n\turl = ../charts.git\n'
    first = lab.commit("modules", {".gitmodules": modules})
    second = lab.commit("track a branch", {".gitmodules": modules + "\tbranch = evil\n"})
    report = lab.gate(second)
    for sha in (first, second):
        assert "git.gitmodules" in assert_refused_for(report, sha, "attestation_missing").rules


def test_neutral_commit_next_to_a_gitlink_stays_not_required(lab: Lab) -> None:
    lab.branch("gitlink-neutral")
    sha = lab.commit("docs", {"docs/guide.md": "# Guide\n\nmore\n"})
    assert_not_required(lab.gate(sha), sha)


# --- G43: what a merge brings, at the paths where it lands -----------------------------------

EDIT = NEUTRAL + "def verify(token):\n    return True\n"


def _rename_core_on_mainline(lab: Lab, name: str) -> str:
    """Branch ``name`` from base, rename lib/core to app/auth/core there, stamp the rename."""
    lab.branch(name)
    (lab.repo.path / "app/auth").mkdir(parents=True, exist_ok=True)
    lab.repo.git("mv", "lib/core", "app/auth/core")
    rename = lab.commit("move core under auth")
    lab.stamp(rename)  # the rename itself is identity-related (E23) and attested
    return rename


def test_clean_merge_carrying_an_edit_across_a_directory_rename(lab: Lab) -> None:
    """THREATS.md G43: the side edit lands in app/auth/core; the clean merge brings it there."""
    lab.branch("g43-side")
    side = lab.commit("tidy verify", {"lib/core/verify.py": EDIT})
    _rename_core_on_mainline(lab, "g43-main")
    lab.repo.git("merge", "-q", "--no-ff", "-m", "merge side", "g43-side")
    merge = lab.repo.git("rev-parse", "HEAD")
    assert lab.repo.git("show", f"{merge}:app/auth/core/verify.py") + "\n" == EDIT
    report = lab.gate(merge)
    assert_not_required(report, side)
    verdict = assert_refused_for(report, merge, "attestation_missing")
    assert {"merge.first-parent", "path.authn"} <= set(verdict.rules)
    lab.stamp(merge)
    assert lab.gate(merge).result == "passed"


def test_octopus_merge_carrying_an_edit_across_a_rename(lab: Lab) -> None:
    """THREATS.md G43, octopus variant: three parents, the edit from the second."""
    lab.branch("g43o-side")
    side = lab.commit("tidy verify", {"lib/core/verify.py": EDIT})
    lab.branch("g43o-third")
    third = lab.commit("docs", {"docs/guide.md": "# Guide\n\nthird\n"})
    rename = _rename_core_on_mainline(lab, "g43o-main")
    main = lab.repo.git("rev-parse", "HEAD")
    # git's octopus strategy does not follow renames: build the tree a careful human would
    lab.repo.git("merge", "-q", "--no-ff", "-m", "tmp", "g43o-side", "--no-edit")
    lab.repo.git("merge", "-q", "--no-ff", "-m", "tmp", "g43o-third", "--no-edit")
    tree = lab.repo.git("rev-parse", "HEAD^{tree}")
    args = ["-p", main, "-p", side, "-p", third, "-m", "octopus"]
    merge = lab.repo.git("commit-tree", tree, *args)
    assert len(lab.repo.git("rev-list", "--parents", "-n1", merge).split()) == 4
    assert lab.repo.git("show", f"{merge}:app/auth/core/verify.py") + "\n" == EDIT
    report = lab.gate(merge, base=lab.base)
    assert_not_required(report, side, third)
    assert rename in {c.commit for c in report.commits}
    assert "path.authn" in assert_refused_for(report, merge, "attestation_missing").rules


def test_clean_merge_where_the_side_branch_renamed_too(lab: Lab) -> None:
    """THREATS.md G43: the side moves a file into lib/core; git's directory rename follows."""
    lab.branch("g43r-side")
    lab.repo.git("mv", "lib/util.py", "lib/core/util.py")
    side = lab.commit("move util into core", {"lib/core/util.py": EDIT})
    _rename_core_on_mainline(lab, "g43r-main")
    renames = ("-c", "merge.directoryRenames=true")
    lab.repo.git(*renames, "merge", "-q", "--no-ff", "-m", "merge side", "g43r-side")
    merge = lab.repo.git("rev-parse", "HEAD")
    assert lab.repo.git("show", f"{merge}:app/auth/core/util.py") + "\n" == EDIT
    report = lab.gate(merge)
    assert_not_required(report, side)
    assert "path.authn" in assert_refused_for(report, merge, "attestation_missing").rules


def test_merging_an_attested_identity_change_needs_no_second_attestation(lab: Lab) -> None:
    """THREATS.md G43: a side commit that fired at the landed path already carries evidence."""
    lab.branch("g43a-side")
    side = lab.commit("auth change", {"app/auth/mathutil.py": EDIT})
    lab.stamp(side)
    lab.branch("g43a-main")
    other = lab.commit("docs", {"docs/guide.md": "# Guide\n\nmain\n"})
    lab.repo.git("merge", "-q", "--no-ff", "-m", "merge side", "g43a-side")
    merge = lab.repo.git("rev-parse", "HEAD")
    report = lab.gate(merge)
    assert report.result == "passed", report
    assert_not_required(report, other, merge)


# --- G46: configuration in translation and snapshot folders -----------------------------------

CLUSTER_ADMIN = (
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n"
    "  name: agent-admin\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n"
    "  name: cluster-admin\nsubjects:\n- kind: ServiceAccount\n  name: agent\n"
)
CLUSTER_ADMIN_JSON = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "ClusterRoleBinding",
    "metadata": {"name": "agent-admin"},
    "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
    "subjects": [{"kind": "ServiceAccount", "name": "agent"}],
}


@pytest.mark.parametrize(
    "path",
    [
        "deploy/locale/crb.yaml",
        "deploy/i18n/en.yml",
        "k8s/translations/rbac.yaml",
        "src/__snapshots__/crb.yaml",
        "deploy/l10n/de.json",
    ],
)
def test_cluster_admin_binding_in_a_translation_folder_is_refused(lab: Lab, path: str) -> None:
    """THREATS.md G46: a ClusterRoleBinding to cluster-admin in deploy/locale/ passed before."""
    lab.branch(f"g46-{path.replace('/', '-')}")
    text = json.dumps(CLUSTER_ADMIN_JSON) if path.endswith(".json") else CLUSTER_ADMIN
    sha = lab.commit("add", {path: text})
    assert "k8s.rbac" in assert_refused_for(lab.gate(sha), sha, "attestation_missing").rules


def test_translation_catalogues_stay_not_required(lab: Lab) -> None:
    """THREATS.md G46: real catalogues, edited across commits, need no evidence."""
    lab.branch("g46-catalogues")
    en = "en:\n  devise:\n    failure:\n      invalid: 'Invalid email or password.'\n"
    first = lab.commit(
        "translations",
        {
            "config/locales/devise.en.yml": en,
            "locale/translations/de_DE.json": '{"login.password": "Passwort"}\n',
            "locale/de/LC_MESSAGES/django.po": 'msgid "Password"\nmsgstr "Passwort"\n',
        },
    )
    second = lab.commit(
        "more translations",
        {
            "config/locales/devise.en.yml": en + "    locked: 'Your account is locked.'\n",
            "locale/translations/de_DE.json": '{"login.password": "Kennwort", "n": ["a", "b"]}\n',
        },
    )
    assert_not_required(lab.gate(second), first, second)


# --- G48: symlinks that already exist at BASE -------------------------------------------------


def _link(lab: Lab, link: str, target: str) -> None:
    path = lab.repo.path / link
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    path.symlink_to(target)


@pytest.mark.parametrize(
    ("links", "edited"),
    [
        ({"app/sso": "../lib/core"}, "lib/core/verify.py"),  # directory symlink
        ({"app/sso": "../lib/mid", "lib/mid": "core"}, "lib/core/verify.py"),  # a chain
        ({"app/sso": "../lib/./x/../core"}, "lib/core/verify.py"),  # dot segments
        ({"app/sso/util.py": "../../lib/util.py"}, "lib/util.py"),  # file symlink
        ({"app/sso": "../lib", "lib/loop": "."}, "lib/core/verify.py"),  # with a cycle
    ],
    ids=["directory", "chain", "dot-segments", "file", "cycle"],
)
def test_edit_through_a_symlink_that_exists_at_base(
    lab: Lab, links: dict[str, str], edited: str
) -> None:
    """THREATS.md G48: ``app/sso -> ../lib/core`` at BASE makes lib/core edits SSO edits."""
    lab.branch(f"g48-{'-'.join(links).replace('/', '_')}")
    for link, target in links.items():
        _link(lab, link, target)
    base = lab.commit("links")
    lab.stamp(base)
    sha = lab.commit("edit", {edited: EDIT})
    report = lab.gate(sha, base=base)
    rules = assert_refused_for(report, sha, "attestation_missing").rules
    assert {"git.symlink-alias", "path.sso"} <= set(rules)


def test_edit_before_a_symlink_added_later_in_the_range(lab: Lab) -> None:
    """THREATS.md G48: HEAD's symlinks count for every commit of the range."""
    lab.branch("g48-later")
    edit = lab.commit("edit", {"lib/core/verify.py": EDIT})
    _link(lab, "app/sso", "../lib/core")
    link = lab.commit("link")
    lab.stamp(link)  # the symlink into an identity path is itself identity-related
    report = lab.gate(link)
    assert "git.symlink-alias" in assert_refused_for(report, edit, "attestation_missing").rules
    assert {c.commit: c.status for c in report.commits}[link] == "ok"


@pytest.mark.parametrize("target", ["/srv/app/lib", "../../../../etc", "../.."])
def test_symlink_leaving_the_tree_needs_evidence(lab: Lab, target: str) -> None:
    """THREATS.md G48: where an absolute or escaping link lands depends on the checkout."""
    lab.branch("g48-outside")
    _link(lab, "lib/shared", target)
    sha = lab.commit("link outside")
    assert "git.symlink" in assert_refused_for(lab.gate(sha), sha, "attestation_missing").rules


def test_unrelated_symlinks_leave_neutral_edits_not_required(lab: Lab) -> None:
    lab.branch("g48-neutral")
    _link(lab, "docs/latest", "guide.md")
    _link(lab, "lib/loop", ".")
    base = lab.commit("links")
    sha = lab.commit("edit", {"lib/core/verify.py": EDIT, "docs/guide.md": "# Guide\n\nmore\n"})
    assert_not_required(lab.gate(sha, base=base), sha)


# --- G49: encoded source ----------------------------------------------------------------------

BYPASS = "if user.is_superuser or doc.owner == user: return True"


def _utf7(text: str) -> str:
    return "+" + base64.b64encode(text.encode("utf-16-be")).decode().rstrip("=") + "-"


def test_utf7_declared_admin_bypass_is_refused(lab: Lab) -> None:
    """THREATS.md G49: the declaration is at BASE; the commit only adds ``+AGk...-`` bytes."""
    lab.branch("g49-utf7")
    head = "# -*- coding: utf-7 -*-\ndef can_edit(user, doc):\n"
    base = lab.commit("compat shim", {"lib/compat.py": head + "    return False\n"})
    lab.stamp(base)
    sha = lab.commit("tweak", {"lib/compat.py": head + "    " + _utf7(BYPASS) + "\n"})
    verdict = assert_refused_for(lab.gate(sha, base=base), sha, "attestation_missing")
    assert {"code.source-encoding", "code.ownership"} <= set(verdict.rules)


def test_ebcdic_source_is_refused(lab: Lab) -> None:
    """THREATS.md G49: every letter of a ``cp037`` file is a byte above 0x7f."""
    lab.branch("g49-cp037")
    body = f"def can_edit(user, doc):\n    {BYPASS}\n".encode("cp037")
    (lab.repo.path / "lib").mkdir(exist_ok=True)
    (lab.repo.path / "lib" / "compat.py").write_bytes(b"# coding: cp037\n" + body)
    lab.repo.git("add", "-A")
    sha = lab.commit_index("compat")
    verdict = assert_refused_for(lab.gate(sha), sha, "attestation_missing")
    assert {"code.source-encoding", "code.ownership"} <= set(verdict.rules)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("lib/boot.py", 'import base64\nexec(base64.b64decode("aW1wb3J0IG9z"))\n'),
        ("src/boot.js", 'eval(atob("YWxlcnQoMSk="));\n'),
        ("src/boot.php", "<?php eval(base64_decode($payload));\n"),
        ("lib/boot.rb", "eval(Base64.decode64(PAYLOAD))\n"),
        ("scripts/boot.sh", "echo aGk= | base64 -d | bash\n"),
    ],
)
def test_dynamic_execution_of_decoded_data_is_refused(lab: Lab, path: str, text: str) -> None:
    """THREATS.md G49: ``exec(base64.b64decode(...))`` runs what no reviewer can read."""
    lab.branch(f"g49-exec-{path.replace('/', '-')}")
    sha = lab.commit("boot", {path: text})
    verdict = assert_refused_for(lab.gate(sha), sha, "attestation_missing")
    assert "code.dynamic-exec" in verdict.rules


@pytest.mark.parametrize(
    "path", ["vendor/authlib-1.3.0-py3-none-any.whl", "libs/helper.jar", "tools/bundle.zip"]
)
def test_added_archive_is_refused(lab: Lab, path: str) -> None:
    """THREATS.md G49: an archive can carry any code; the gate never opens it."""
    lab.branch(f"g49-archive-{path.replace('/', '-')}")
    target = lab.repo.path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as z:
        z.writestr("authlib/jose.py", "def verify(token):\n    return True\n")
    lab.repo.git("add", "-A")
    sha = lab.commit_index("vendor")
    assert (
        "path.packaged-code" in assert_refused_for(lab.gate(sha), sha, "attestation_missing").rules
    )


# --- G45: control flow around an access check, seen with the function around the hunk ----------

DJANGO = (
    "from django.shortcuts import get_object_or_404, render\n\n\n"
    "def document(request, pk):\n"
    "    {early}doc = get_object_or_404(Document, pk=pk, owner=request.user)\n"
    '    {late}return render(request, "doc.html", {{"doc": doc}})\n'
)
DJANGO_EXIT = 'if request.GET.get("embed"):\n        return render(request, "embed.html")\n    '
RAILS = (
    "class DocsController < ApplicationController\n"
    "  def show\n    @doc = Document.find(params[:id])\n"
    "    {early}authorize @doc\n    {late}render :show\n  end\nend\n"
)
RAILS_EXIT = "return render(:embed) if params[:embed]\n    "
LARAVEL = (
    "<?php\nclass DocController extends Controller\n{{\n"
    "    public function show(Request $request, Document $doc)\n    {{\n"
    "        {early}$this->authorize('view', $doc);\n"
    "        {late}return view('doc', ['doc' => $doc]);\n    }}\n}}\n"
)
LARAVEL_EXIT = "if ($request->has('embed')) {{ return view('embed', ['doc' => $doc]); }}\n        "
GO = (
    "package web\n\nfunc (h *Handler) Show(w http.ResponseWriter, r *http.Request) {{\n"
    '\tdoc := h.store.Get(r.PathValue("id"))\n'
    "\t{early}if doc.OwnerID != userID(r) {{\n"
    '\t\thttp.Error(w, "forbidden", http.StatusForbidden)\n\t\treturn\n\t}}\n'
    "\t{late}json.NewEncoder(w).Encode(doc)\n}}\n"
)
GO_EXIT = (
    'if r.URL.Query().Get("embed") != "" {{\n'
    "\t\tjson.NewEncoder(w).Encode(doc)\n\t\treturn\n\t}}\n\t"
)
EXPRESS = (
    "router.get('/docs/:id', async (req, res) => {{\n"
    "  const doc = await Doc.findById(req.params.id);\n"
    "  {early}if (doc.ownerId !== req.user.id) return res.sendStatus(403);\n"
    "  {late}res.json(doc);\n}});\n"
)
EXPRESS_EXIT = "if (req.query.embed) return res.json(doc);\n  "
FRAMEWORKS = {
    "app/docs/views.py": (DJANGO, DJANGO_EXIT),
    "app/controllers/docs_controller.rb": (RAILS, RAILS_EXIT),
    "app/Http/Controllers/DocController.php": (LARAVEL, LARAVEL_EXIT),
    "internal/web/docs.go": (GO, GO_EXIT),
    "routes/docs.js": (EXPRESS, EXPRESS_EXIT),
}


@pytest.mark.parametrize("where", ["early", "late"])
@pytest.mark.parametrize("path", list(FRAMEWORKS))
def test_exit_above_an_access_check_is_refused_below_it_not(
    lab: Lab, path: str, where: str
) -> None:
    """THREATS.md G45: the added exit names nothing, but above the check it skips it.

    Below the check the same exit cannot skip it, and stays not-required (precision).
    """
    template, exit_ = FRAMEWORKS[path]
    lab.branch(f"g45-{where}-{path.replace('/', '-')}")
    base = lab.commit("handler", {path: template.format(early="", late="")})
    lab.stamp(base)
    edited = template.format(**{"early": "", "late": "", where: exit_.format()})
    sha = lab.commit("embed mode", {path: edited})
    report = lab.gate(sha, base=base)
    if where == "late":
        assert_not_required(report, sha)
    else:
        verdict = assert_refused_for(report, sha, "attestation_missing")
        assert verdict.rules == ("code.guard-flow",)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (  # check() or True
            "def can_edit(user, doc):\n    return doc.editors.filter(pk=user.pk).exists()\n",
            "def can_edit(user, doc):\n"
            "    return doc.editors.filter(pk=user.pk).exists() or True\n",
        ),
        (  # a guard condition negated
            "def update(request, doc):\n    allowed = doc.owner_id == request.user.id\n"
            "    if not allowed:\n        raise PermissionDenied\n    doc.save()\n",
            "def update(request, doc):\n    allowed = doc.owner_id == request.user.id\n"
            "    if allowed:\n        raise PermissionDenied\n    doc.save()\n",
        ),
        (  # short-circuited
            "def update(request, doc):\n    allowed = doc.owner_id == request.user.id\n"
            "    if not allowed:\n        raise PermissionDenied\n    doc.save()\n",
            "def update(request, doc):\n    allowed = doc.owner_id == request.user.id\n"
            "    if not allowed and doc.draft:\n        raise PermissionDenied\n    doc.save()\n",
        ),
        (  # the check moved after the action it guards
            "def delete(request, doc):\n    if doc.owner != request.user:\n"
            "        raise PermissionDenied\n    doc.delete()\n",
            "def delete(request, doc):\n    doc.delete()\n    if doc.owner != request.user:\n"
            "        raise PermissionDenied\n",
        ),
    ],
    ids=["or-true", "negated", "short-circuit", "moved-after-action"],
)
def test_guard_conditions_changed_without_identity_words(lab: Lab, old: str, new: str) -> None:
    """THREATS.md G45: the edited line names nothing; the function decides access."""
    lab.branch("g45-conditions")
    base = lab.commit("policy helpers", {"app/docs/rules.py": old})
    lab.stamp(base)
    sha = lab.commit("tweak", {"app/docs/rules.py": new})
    assert_refused_for(lab.gate(sha, base=base), sha, "attestation_missing")


def test_control_flow_in_a_function_that_decides_nothing_is_not_required(lab: Lab) -> None:
    lab.branch("g45-neutral")
    old = "def total(items):\n    s = 0\n    for i in items:\n        s += i.price\n    return s\n"
    new = old.replace("        s += i.price\n", "        if i.free:\n            continue\n"
                      "        s += i.price\n")  # fmt: skip
    base = lab.commit("totals", {"app/billing/totals.py": old})
    sha = lab.commit("skip free items", {"app/billing/totals.py": new})
    assert_not_required(lab.gate(sha, base=base), sha)

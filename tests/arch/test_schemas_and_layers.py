"""Schemas match the models; stages import only earlier stages; only _cli uses click."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.policy import render_template
from provenance.schemas import SCHEMAS, render
from tests.arch.imports import cycles, import_graph, layer_problems
from tests.helpers import SSO_CALLBACK, GitRepo

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "provenance"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_schema_matches_model(name: str) -> None:
    schema_id, model = SCHEMAS[name]
    committed = (ROOT / "schemas" / name).read_text()
    assert committed == render(schema_id, model), f"run scripts/gen-schemas ({name} drifted)"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_stages_import_only_earlier_stages_and_never_cli() -> None:
    """STYLE.md 1: gitio -> classify -> record -> sign -> store -> verify -> audit, app, _cli."""
    assert layer_problems(import_graph(PKG)) == []


def test_no_import_cycles() -> None:
    """No two modules import each other, directly or around a loop (lazy imports count)."""
    assert cycles(import_graph(PKG)) == []


def _package(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "provenance"
    for rel, text in {"__init__.py": "", **files}.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    return pkg


def test_layering_check_resolves_relative_imports(tmp_path: Path) -> None:
    """A stage reaching a later stage through ``from ..verify import x`` is caught."""
    pkg = _package(
        tmp_path,
        {
            "gitio/__init__.py": "",
            "gitio/walk.py": "from ..verify.gate import decide\nfrom . import runner\n",
            "gitio/runner.py": "",
            "verify/__init__.py": "",
            "verify/gate.py": "def decide(): ...\n",
        },
    )
    graph = import_graph(pkg)
    assert graph["provenance.gitio.walk"] == {"provenance.verify.gate", "provenance.gitio.runner"}
    assert layer_problems(graph) == ["provenance.gitio.walk: gitio imports later stage verify"]


def test_cycle_check_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    """A loop closed by a function-level relative import is still a cycle."""
    pkg = _package(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/stamp.py": "def f():\n    from .pending import g\n",
            "app/pending.py": "from provenance.app.stamp import f\n",
        },
    )
    assert cycles(import_graph(pkg)) == [["provenance.app.pending", "provenance.app.stamp"]]


def _prints_or_exits(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in {"print", "exit", "quit"}:
                found.append(f"{node.func.id}() at line {node.lineno}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = f"{owner.id}.{node.func.attr}" if isinstance(owner, ast.Name) else ""
            if name in {"sys.exit", "os._exit"}:
                found.append(f"{name}() at line {node.lineno}")
        elif isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id == "SystemExit":
                found.append(f"raise SystemExit at line {node.lineno}")
    return sorted(found, key=lambda f: int(f.rsplit(" ", 1)[1]))


def test_only_cli_prints_or_exits() -> None:
    """STYLE.md 2: library code returns values and raises errors; ``_cli`` prints and exits."""
    problems = {
        str(path.relative_to(PKG)): found
        for path in PKG.rglob("*.py")
        if path.relative_to(PKG).parts[0] not in ("_cli", "__main__.py")
        and (found := _prints_or_exits(path))
    }
    assert problems == {}


def test_print_check_would_see_a_print(tmp_path: Path) -> None:
    """The check above can fail: it finds print, sys.exit and raise SystemExit."""
    module = tmp_path / "m.py"
    module.write_text("import sys\nprint(1)\nsys.exit(2)\nraise SystemExit(3)\n")
    assert _prints_or_exits(module) == [
        "print() at line 2", "sys.exit() at line 3", "raise SystemExit at line 4",
    ]  # fmt: skip


def test_only_cli_imports_click_and_only_adapters_import_sigstore() -> None:
    sigstore_users: dict[str, list[str]] = {}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        stage = rel.parts[0].removesuffix(".py")
        imports = _imports(path)
        if any(i == "click" or i.startswith("click.") for i in imports):
            assert stage == "_cli", f"{rel} imports click"
        if any(i.split(".")[0] in {"sigstore", "sigstore_models"} for i in imports):
            sigstore_users.setdefault(stage, []).append(str(rel))
        for imported in imports:
            parts = imported.split(".")
            if parts[0] in {"sigstore", "securesystemslib", "in_toto"}:
                assert not any(p.startswith("_") for p in parts[1:]), f"{rel}: private {imported}"
    for stage, files in sigstore_users.items():
        if stage == "verify":  # the gate's adapter, and verify-bundle's (decision 0011)
            assert sorted(files) == [
                "verify/sigstore_adapter.py",
                "verify/sigstore_bundles.py",
            ], files
        elif stage != "devinstance":
            assert len(files) == 1, f"{stage} has several sigstore adapters: {files}"


_VERIFY_IN_PROCESS = """
import runpy, sys
sys.argv = ["provenance", *sys.argv[1:]]
try:
    runpy.run_module("provenance", run_name="__main__", alter_sys=True)
except SystemExit as e:
    code = e.code
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"sigstore", "sigstore_models"})
print("exit", code, "sigstore", loaded, file=sys.stderr)
"""


def test_a_verify_that_meets_no_bundle_does_not_import_sigstore(tmp_path: Path) -> None:
    """Decision 0024: the trusted root loads on first use, and so does sigstore's client.

    ``verify`` of an unattested identity change refuses it without reading any bundle, so
    it must not pay for importing sigstore (about 0.2 s of CPU in each such process).
    """
    repo = GitRepo.init(tmp_path / "repo")
    policy = render_template("https://issuer.example", "agent@example.com")
    repo.commit("policy", {".provenance/policy.toml": policy})
    repo.commit("sso", {"app/auth/sso.py": SSO_CALLBACK})
    args = [sys.executable, "-c", _VERIFY_IN_PROCESS, "verify", "--format", "json", "HEAD"]
    proc = subprocess.run(args, cwd=repo.path, capture_output=True, text=True, check=False)
    assert "exit 1 sigstore []" in proc.stderr, proc.stderr
    (commit,) = json.loads(proc.stdout)["commits"]
    assert commit["reasons"] == ["attestations_unavailable"], commit


PACKAGES = sorted(
    p.parent.relative_to(ROOT).as_posix().replace("/", ".") for p in PKG.glob("*/__init__.py")
)


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_says_what_it_holds_and_exports_it(package: str) -> None:
    """Every stage package has a docstring and an ``__all__`` whose names resolve to objects.

    A lazily exported name must not be shadowed by a submodule of the same name.
    """
    import importlib
    import types

    module = importlib.import_module(package)
    assert module.__doc__ and len(module.__doc__.strip().splitlines()) > 1, package
    names = getattr(module, "__all__", None)
    assert names, f"{package} exports nothing (__all__)"
    for name in names:
        value = getattr(module, name)
        assert not isinstance(value, types.ModuleType), f"{package}.{name} is a module"

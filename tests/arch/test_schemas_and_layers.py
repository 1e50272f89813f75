"""Schemas match the models; stages import only earlier stages; only _cli uses click."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from provenance.schemas import SCHEMAS, render

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "provenance"
ORDER = ["gitio", "classify", "record", "sign", "store", "verify", "audit"]
SHARED = {"errors", "models", "predicates", "policy", "schemas", "safefiles", "__init__"}


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


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "provenance" or len(parts) < 2:
        return None
    return parts[1]


def test_stages_import_only_earlier_stages_and_never_cli() -> None:
    problems = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).parts
        here = rel[0].removesuffix(".py")
        for imported in _imports(path):
            target = _layer(imported)
            if target is None or target == here:
                continue
            if target == "_cli" and here not in ("_cli", "__main__"):
                problems.append(f"{path}: imports _cli")
            if target == "app" and here not in ("_cli", "app"):
                problems.append(f"{path}: imports the app layer")
            if here in ORDER and target in ORDER and ORDER.index(target) > ORDER.index(here):
                problems.append(f"{path}: {here} imports later stage {target}")
            if here in SHARED and target in [*ORDER, "app", "devinstance"]:
                problems.append(f"{path}: shared module imports stage {target}")
    assert problems == []


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

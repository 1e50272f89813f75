"""The package's import graph, as the layering tests read it (relative imports resolved).

Every import counts: module level, inside functions (lazy) and under ``TYPE_CHECKING``, since
each is a dependency a reader must follow. ``from pkg import name`` depends on ``pkg.name``
when that is a module (importing a submodule is not a dependency on the package's
``__init__``), else on ``pkg``.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from pathlib import Path

Graph = dict[str, set[str]]


def module_name(root: Path, path: Path) -> str:
    """Dotted name of ``path`` inside the package directory ``root`` (``__init__``: the package)."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(
    node: ast.Import | ast.ImportFrom, here: str, is_package: bool, modules: Collection[str]
) -> Iterator[str]:
    """The modules one import statement depends on."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    if node.level:  # relative: resolved against this module's package
        package = here.split(".") if is_package else here.split(".")[:-1]
        anchor = package[: len(package) - (node.level - 1)]
        base = ".".join(anchor + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        yield submodule if submodule in modules else base


def import_graph(root: Path) -> Graph:
    """Module -> the package's modules it imports, for every ``*.py`` under ``root``."""
    paths = {module_name(root, p): p for p in sorted(root.rglob("*.py"))}
    graph: Graph = {}
    for name, path in paths.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                is_package = path.name == "__init__.py"
                deps.update(m for m in _imported(node, name, is_package, paths) if m in paths)
        graph[name] = deps - {name}
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


#: The stages in data-flow order; a stage imports only earlier ones (STYLE.md 1).
ORDER = ["gitio", "classify", "record", "sign", "store", "verify", "audit"]
#: Shared modules every stage may import; they import no stage.
SHARED = {
    "errors", "reasons", "models", "predicates", "policy", "schemas", "safefiles", "display",
    "_lazy", "__init__",
}  # fmt: skip


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_problems(graph: Graph) -> list[str]:
    """Imports that break the layering: a later stage, ``app`` or ``_cli`` from below."""
    problems = []
    for module, deps in sorted(graph.items()):
        here = _layer(module)
        for target in sorted({_layer(d) for d in deps} - {here}):
            if target == "_cli" and here not in ("_cli", "__main__"):
                problems.append(f"{module}: imports _cli")
            if target == "app" and here not in ("_cli", "app"):
                problems.append(f"{module}: imports the app layer")
            if here in ORDER and target in ORDER and ORDER.index(target) > ORDER.index(here):
                problems.append(f"{module}: {here} imports later stage {target}")
            if here in SHARED and target in [*ORDER, "app", "devinstance"]:
                problems.append(f"{module}: shared module imports stage {target}")
    return problems

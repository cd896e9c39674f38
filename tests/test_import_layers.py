"""The layers hold: the catalog imports nothing above it, and no two modules import each other.

Read from the source with `ast` (nothing is imported or run): every import statement counts,
the ones inside functions too, since a deferred import is still a dependency, only one that
hides a circle until run time. `python tests/test_import_layers.py [ROOT]` prints the circles
and the upward imports of a tree (say, an older checkout).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("observatory", "ingest", "gpu_workers", "probes")
# What observatory.catalog may not import: the layers built on it.
ABOVE_CATALOG = ("observatory.analytics", "observatory.dashboards", "observatory.labs", "observatory.exports",
                 "observatory.charts", "ingest", "gpu_workers", "probes")
# The catalog's admin is the operator's screens over the data, wired in by django.contrib.admin
# like every app's admin (its alias edits relink edges with ingest.identity): UI, not the layer,
# and nothing in the catalog imports it (checked below).
CATALOG_UI = "observatory.catalog.admin"
# What gpu_workers may not import: the apps that submit probe runs and show their results.
ABOVE_GPU_WORKERS = ("observatory.labs", "observatory.dashboards", "observatory.analytics")


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules(root: Path) -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" not in path.parts:
                modules[module_name(root, path)] = path
    return modules


def imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every dotted name an import statement in `tree` asks for (from-imports: module.name too)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module → the project modules it imports (a name resolves to the longest module it names)."""
    modules = project_modules(root)
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(ast.parse(path.read_text(), str(path)), module, path.name == "__init__.py"):
            parts = name.split(".")
            for end in range(len(parts), 0, -1):
                candidate = ".".join(parts[:end])
                if candidate in modules:
                    if candidate != module:
                        targets.add(candidate)
                    break
        graph[module] = targets
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def upward(graph: dict[str, set[str]], lower: str, above: tuple[str, ...]) -> list[str]:
    def inside(name: str, package: str) -> bool:
        return name == package or name.startswith(package + ".")

    return sorted(f"{source} -> {target}" for source, targets in graph.items() if inside(source, lower)
                  for target in targets if any(inside(target, package) for package in above))


def test_the_walker_sees_imports_at_module_level_and_inside_functions():
    # Known edges of this tree, one of each kind, so an empty or blind graph cannot pass the rest.
    graph = import_graph()
    assert "observatory.catalog.runs" in graph["ingest.tasks"]  # module level
    assert "ingest.datasets" in graph["ingest.tasks"]  # inside a task function
    assert "gpu_workers.tasks" in graph["gpu_workers.services"]  # `from package import module`


def test_the_walker_finds_a_circle_and_an_upward_import(tmp_path):
    for name, text in {"observatory/__init__.py": "", "observatory/catalog/__init__.py": "",
                       "observatory/catalog/runs.py": "def f():\n    from observatory.analytics import rollups\n",
                       "observatory/analytics/__init__.py": "", "observatory/analytics/rollups.py": "",
                       "ingest/__init__.py": "", "ingest/tasks.py": "from ingest.hub import crawl\n",
                       "ingest/hub/__init__.py": "", "ingest/hub/crawl.py": "def g():\n    from ingest.tasks import x\n",
                       "gpu_workers/__init__.py": "", "probes/__init__.py": ""}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(tmp_path)
    assert circles(graph) == [["ingest.hub.crawl", "ingest.tasks"]]
    # `from package import module` imports both (the package's __init__ runs first).
    assert upward(graph, "observatory.catalog", ABOVE_CATALOG) == [
        "observatory.catalog.runs -> observatory.analytics", "observatory.catalog.runs -> observatory.analytics.rollups"]


def test_the_catalog_imports_nothing_above_it():
    graph = import_graph()
    assert [edge for edge in upward(graph, "observatory.catalog", ABOVE_CATALOG)
            if not edge.startswith(f"{CATALOG_UI} ")] == []
    assert [source for source, targets in graph.items() if CATALOG_UI in targets] == []


def test_gpu_workers_imports_nothing_from_the_apps_above_it():
    assert upward(import_graph(), "gpu_workers", ABOVE_GPU_WORKERS) == []


def test_no_two_modules_import_each_other():
    assert circles(import_graph()) == []


if __name__ == "__main__":
    tree = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT
    found = import_graph(tree)
    print("circles:", *([" <-> ".join(group) for group in circles(found)] or ["none"]), sep="\n  ")
    for lower, above in (("observatory.catalog", ABOVE_CATALOG), ("gpu_workers", ABOVE_GPU_WORKERS)):
        print(f"{lower} importing above it:", *(upward(found, lower, above) or ["none"]), sep="\n  ")

"""The layers import in one direction only, and no module imports itself back through others.

domain ← activities (the application and its handlers) ← workflows; projections read stored events and
may use the domain's rules; interfaces sit on top of everything, and the tools (bench, simulator) beside
them. Everything is installed under one import name, `clusterlabel`, and imported by it: a bare
`import domain` would load a second copy of a module (or another distribution's). Read from the source
with `ast`, so a function-level import counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "activities", "workflows", "projections", "interfaces", "tools")
# What each layer may import from the project; every other project import is a violation.
ALLOWED = {
    "domain": {"domain"},
    "activities": {"domain", "activities"},
    "workflows": {"domain", "activities", "workflows"},
    "projections": {"domain", "projections"},
    "interfaces": set(PACKAGES),  # the CLI's bench and simulate commands load the tools
    "tools": set(PACKAGES),
}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = ("clusterlabel", *path.relative_to(ROOT).with_suffix("").parts)
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def layer(module: str) -> str:
    """`clusterlabel.activities.handlers` → `activities`."""
    return module.split(".")[1]


def imported(path: Path, name: str, known: dict[str, Path]) -> Iterator[str]:
    """The project modules a module imports (a package's __init__ for `from pkg import module`)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        yield from (target for target in targets if target in known)


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imported(path, name, known)) - {name} for name, path in known.items()}


def test_each_layer_imports_only_the_layers_beneath_it() -> None:
    violations = sorted(
        f"{source} imports {target}"
        for source, targets in graph().items()
        for target in targets
        if layer(target) not in ALLOWED[layer(source)]
    )
    assert not violations, "layering broken:\n" + "\n".join(violations)


def test_no_module_imports_itself_back_through_others() -> None:
    edges = graph()
    cycles = [component for component in strongly_connected(edges) if len(component) > 1]
    assert not cycles, "import circles: " + "; ".join(" ↔ ".join(sorted(cycle)) for cycle in cycles)


def bare_project_imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        yield from (f"{path.relative_to(ROOT)}: {name}" for name in names if name.split(".")[0] in PACKAGES)


def test_everything_imports_the_project_by_its_one_installed_name() -> None:
    sources = [path for package in (*PACKAGES, "tests") for path in (ROOT / package).rglob("*.py")]

    assert sorted(bare for path in sources for bare in bare_project_imports(path)) == []


def strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively, over the module graph."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def test_the_read_side_opens_the_tables_the_write_side_writes() -> None:
    from clusterlabel.activities.application import CertificationApp
    from clusterlabel.projections.factory import StoredLog

    assert StoredLog.name == CertificationApp.name

"""The floors of the house, read from the source with `ast` (no Django, no database).

- core/ is the ground floor: none of its modules imports an app (grids, residents, points,
  volunteers, reports, demo), not at module level, not inside a function, not for type checking.
- No import cycle among the project's own modules (config, core, the apps, demo), neither among
  the imports that run when a module is loaded, nor counting the deferred ones inside functions
  too (what a "look" at the import graph shows). Only `if TYPE_CHECKING:` blocks are left out of
  the cycle check: they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = "core"
APPS = (
    "audit", "grids", "residents", "points", "volunteers", "reports", "field", "demo",
    "notifications",
)  # fmt: skip
PACKAGES = ("config", CORE, *APPS)

Import = ast.Import | ast.ImportFrom


def python_files(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_of(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute name `from … import` reads from (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_in(body: list[ast.stmt], *, deferred: bool) -> Iterator[Import]:
    """The import statements of a block, `if TYPE_CHECKING:` blocks left out. Without
    `deferred`, only those run when the module is loaded (module level, also inside if / try /
    with / class bodies); with it, also those inside functions."""
    for node in body:
        if isinstance(node, Import):
            yield node
        elif isinstance(node, ast.If) and is_type_checking(node.test):
            yield from imports_in(node.orelse, deferred=deferred)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not deferred:
            continue
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                block = getattr(node, field, None)
                if isinstance(block, list):
                    children = [s for s in block if isinstance(s, ast.stmt)]
                    children += [
                        s for h in block if isinstance(h, ast.excepthandler | ast.match_case)
                        for s in h.body
                    ]  # fmt: skip
                    yield from imports_in(children, deferred=deferred)


# ============================================================================ the ground floor


def upward_imports() -> list[str]:
    """Every import in core/ that names an app: anywhere in the file, TYPE_CHECKING included,
    and `import_module("…")` / `__import__("…")` with a literal name."""
    found = []
    for path in python_files(CORE):
        module = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = source_of(node, module, path.name == "__init__.py")
                names = [source] if source else [alias.name for alias in node.names]
            elif (
                isinstance(node, ast.Call)
                and (getattr(node.func, "id", None) or getattr(node.func, "attr", None))
                in ("import_module", "__import__")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names = [node.args[0].value]
            if any(name.split(".")[0] in APPS for name in names):
                line = ast.get_source_segment(path.read_text(encoding="utf-8"), node) or ""
                line = " ".join(line.split()).replace("( ", "(").replace(", )", ")")
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {line}")  # type: ignore[attr-defined]
    return found


def test_core_imports_no_app():
    found = upward_imports()
    assert not found, "core/ is the ground floor; it imports no app:\n  " + "\n  ".join(found)


# ============================================================================ no cycles


def import_graph(*, deferred: bool) -> dict[str, set[str]]:
    """module → the project modules it imports. `from a import b` is an edge to a.b if b is a
    module, else to a; the parent packages that loading a.b also runs are left out (a package
    whose __init__ imports its own submodules is not a circle)."""
    files = {module_name(p): p for package in PACKAGES for p in python_files(package)}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in imports_in(tree.body, deferred=deferred):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                source = source_of(node, module, path.name == "__init__.py")
                names = [
                    f"{source}.{a.name}" if f"{source}.{a.name}" in files else source
                    for a in node.names
                ]
            for name in names:
                while name and name not in files:  # a name defined in a module: the module
                    name = name.rpartition(".")[0]
                if name and name != module:
                    graph[module].add(name)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative): the components of more than one module, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    for root in sorted(graph):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(graph[root])))]
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components)


def a_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One shortest circle through the component's first module (breadth first)."""
    members = set(component)
    start = component[0]
    came_from: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & members):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if child not in came_from:
                came_from[child] = node
                queue.append(child)
    raise AssertionError(f"no circle through {start}")  # a component always has one


def cycles(graph: dict[str, set[str]]) -> list[str]:
    return [
        " → ".join(a_cycle(graph, c)) + (f"  (component: {', '.join(c)})" if len(c) > 2 else "")
        for c in strongly_connected(graph)
    ]


def test_no_import_cycles_when_modules_load():
    found = cycles(import_graph(deferred=False))
    assert not found, "import cycles among module-level imports:\n  " + "\n  ".join(found)


def test_no_import_cycles_counting_imports_inside_functions():
    found = cycles(import_graph(deferred=True))
    assert not found, (
        "import cycles, counting imports inside functions (a task imported by the service it "
        "calls, a module reaching back to its caller):\n  " + "\n  ".join(found)
    )


# ============================================================================ the tools


def test_the_cycle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c", "d"}, "c": {"a"}, "d": set(), "e": {"a", "e"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert a_cycle(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]
    assert cycles(graph) == ["a → b → c → a  (component: a, b, c)"]


def test_imports_inside_functions_and_type_checking_are_told_apart():
    tree = ast.parse(
        "import a\n"
        "if TYPE_CHECKING:\n    import b\n"
        "try:\n    import c\nexcept ImportError:\n    import d\n"
        "def f():\n    import e\n"
        "class K:\n    import g\n    def m(self):\n        import h\n"
    )

    def names(deferred: bool) -> list[str]:
        return [a.name for n in imports_in(tree.body, deferred=deferred) for a in n.names]

    assert names(deferred=False) == ["a", "c", "d", "g"]
    assert sorted(names(deferred=True)) == ["a", "c", "d", "e", "g", "h"]


def test_the_graph_sees_the_demo_app_on_the_top_floor():
    graph = import_graph(deferred=True)
    assert "demo.parts.points" in graph["demo.seed"]
    assert "demo.tables" in graph["demo.parts.needs"]
    assert "points.models" in graph["demo.parts.points"] or any(
        t.startswith("points.models") for t in graph["demo.parts.points"]
    )
    below = sorted(m for m, targets in graph.items() if m.split(".")[0] != "demo" for t in targets
                   if t.split(".")[0] == "demo")  # fmt: skip
    assert below == [], "no app imports the demo app"

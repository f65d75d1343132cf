"""The house rules, checked by reading the imports (module-level and inside functions, relative ones
resolved) rather than by eye: the core is its wings and nothing loose; each wing imports only the
wings below it (docs/design.md draws them); no import circle in the core; plugins import the core
only through ``facttune_core`` and never each other; no source file over 450 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 450
# the core's wings, ground floor first: a module of a wing imports only its own wing and those before it
# (the top-level __init__.py, the public surface, imports them all and is imported by none of them)
WINGS = ("contract", "scoring", "api", "run", "report", "testing", "cli")
PLUGIN_DIRS = [*sorted(p for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists()),
               ROOT / "tests" / "example_plugin" / "facttune_drugcheck"]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path) -> set[str]:
    """Every module ``path`` imports anywhere in its body, relative imports resolved; ``from pkg
    import name`` counts as ``pkg.name`` (a submodule or a name of ``pkg``)."""
    me = module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            out |= {f"{mod}.{a.name}" for a in node.names}
    return out


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """module → the modules of the same package it imports."""
    root = package_dir.parent
    mods = {module_name(p, root): p for p in package_dir.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        targets = set()
        for imp in imports(path, root):
            # "pkg.mod.name": the longest prefix that is one of the package's modules
            hit = next((c for c in (imp, imp.rpartition(".")[0]) if c in mods), None)
            if hit is not None and hit != name:
                targets.add(hit)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles (one path per strongly connected component of more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def wing_of(module: str, package: str) -> str | None:
    """The wing of ``package.wing.mod`` (None for the package's own __init__)."""
    parts = module.split(".")
    return parts[1] if parts[0] == package and len(parts) > 1 else None


def layer_violations(graph: dict[str, set[str]], wings: tuple[str, ...]) -> list[str]:
    """``a -> b`` for each import of a module ``b`` whose wing lies above ``a``'s (or of the package's
    __init__, which only the outside world imports)."""
    package = next(iter(graph)).split(".")[0]
    bad = []
    for mod, targets in sorted(graph.items()):
        w = wing_of(mod, package)
        if w is None:
            continue
        for t in sorted(targets):
            tw = wing_of(t, package)
            if tw is None or wings.index(tw) > wings.index(w):
                bad.append(f"{mod} -> {t}")
    return bad


def test_the_core_is_its_wings_and_nothing_loose():
    core = ROOT / "facttune_core"
    loose = sorted(p.name for p in core.iterdir() if p.suffix == ".py" and p.name != "__init__.py")
    assert loose == []
    folders = sorted(p.name for p in core.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    assert folders == sorted(WINGS)


def test_each_wing_imports_only_the_wings_below_it():
    assert layer_violations(import_graph(ROOT / "facttune_core"), WINGS) == []


def test_no_import_circle_in_the_core():
    graph = import_graph(ROOT / "facttune_core")
    assert len(graph) > 20 and "facttune_core.contract.registry" in graph["facttune_core.run.executor"]
    assert cycles(graph) == []


def test_plugins_import_only_the_public_core_and_no_other_plugin():
    plugin_names = {d.name for d in PLUGIN_DIRS}
    bad = []
    for d in PLUGIN_DIRS:
        for path in d.rglob("*.py"):
            for imp in imports(path, d.parent):
                top = imp.split(".")[0]
                if top == "facttune_core" and imp.count(".") > 1:
                    bad.append(f"{path.relative_to(ROOT)}: {imp.rpartition('.')[0]}")
                elif top == "facttune_core" and imp.count(".") == 1 and imp.split(".")[1] in ("testing",):
                    bad.append(f"{path.relative_to(ROOT)}: {imp}")
                elif top in plugin_names and top != d.name:
                    bad.append(f"{path.relative_to(ROOT)}: {imp} (another plugin)")
    assert bad == []


def test_no_source_file_over_450_lines():
    files = [*(ROOT / "facttune_core").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")]
    long = {str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text(encoding="utf-8").splitlines()))
            > MAX_LINES}
    assert long == {}


@pytest.fixture
def toy(tmp_path):
    """A package in which a imports b at module level and b imports a inside a function."""
    pkg = tmp_path / "toy"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from .. import a\n    from ..c import x\n")
    (pkg / "c.py").write_text("x = 1\n")
    return pkg


def test_the_checks_can_fail(toy, tmp_path):
    graph = import_graph(toy)
    assert graph["toy.a"] == {"toy.sub.b"} and graph["toy.sub.b"] == {"toy.a", "toy.c"}
    assert cycles(graph) == [["toy.a", "toy.sub.b"]]
    (toy / "sub" / "b.py").write_text("from ..c import x\n")
    assert cycles(import_graph(toy)) == []
    plugin = tmp_path / "facttune_x.py"
    plugin.write_text("def f():\n    from facttune_core.contract.store import iter_jsonl\n")
    assert "facttune_core.contract.store.iter_jsonl" in imports(plugin, tmp_path)


def test_the_layer_check_fails_on_an_upward_import(toy):
    """toy's wings, ground floor first: sub, then a (c is a third wing above both). sub.b importing
    c inside a function is an upward import; a importing sub is fine."""
    (toy / "sub" / "b.py").write_text("def f():\n    from ..c import x\n")
    graph = import_graph(toy)
    assert layer_violations(graph, ("sub", "a", "c")) == ["toy.sub.b -> toy.c"]
    assert layer_violations(graph, ("sub", "c", "a")) == ["toy.sub.b -> toy.c"]
    assert layer_violations(graph, ("c", "sub", "a")) == []
    (toy / "sub" / "b.py").write_text("import toy\n")  # the package's own __init__ is above every wing
    assert layer_violations(import_graph(toy), ("sub", "a", "c")) == ["toy.sub.b -> toy"]

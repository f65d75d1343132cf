"""Code fingerprints for components under development (as HF datasets fingerprints transform code).

A stage key hashes the component's name, version and output-relevant config. For a plugin installed
from an index (a regular ``pip install``), the version is the contract: a change of outputs ships
with a new version. For a plugin under development, the code changes under a fixed version, so its
stage key also hashes the plugin's source:

- the plugin is **not installed as a distribution** (``FACTTUNE_PLUGINS=module``, the source tree,
  a module registered by a test), or
- its distribution is **installed editable** (``pip install -e``: PEP 610 ``direct_url.json`` with
  ``dir_info.editable``), or its module is imported from outside the distribution's install folder
  (a source checkout shadowing an installed copy on ``PYTHONPATH``).

The source is every ``.py`` file of the plugin's top-level package (or the single module of a
one-file plugin), plus the module that defines the component's factory when it lies elsewhere.

**The core's own code** a result depends on is hashed for every component, however it is installed
(``core_code``): the core modules of the science (``SCIENCE``: the judge prompts and parsers,
sentence splitting, the FActScore count, metrics, pair rules, calibration, the chat components'
logic, score-input parsing) that the component's plugin imports (``from facttune_core import
verify_prompt`` → ``scoring/prompts.py``), plus those its stage declares (``Stage.core_code``: the
reward stage's claim join, the pair rules, the evaluate stage's scoring), with the science modules
they import in turn. Each is hashed as its syntax tree without docstrings, so a comment or a
docstring edit keeps keys, and editing the judge prompt's text gives a new verify key. The rest of
the core (the pipeline, the executor, the CLI) is not hashed: refactoring it recomputes nothing.
Hashing takes milliseconds; it happens when a run computes its stage keys, never in ``facttune
plugins`` or ``validate``.
"""

from __future__ import annotations

import ast
import hashlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from ..contract.registry import ComponentSpec


def component_version(spec: ComponentSpec) -> str:
    """What a stage key records as the component's version: ``spec.version`` for a regular install,
    ``"<version>+src.<hash>"`` for a plugin under development (see the module docstring)."""
    fp = code_fingerprint(spec)
    return spec.version if fp is None else f"{spec.version}+src.{fp}"


def code_fingerprint(spec: ComponentSpec) -> str | None:
    """A short hash of the component's source when its plugin is under development, else None."""
    from ..contract.plugins import get_plugin_manager

    pm = get_plugin_manager()
    plugin = pm.get_plugin(spec.plugin)
    factory_module = sys.modules.get(getattr(spec.factory, "__module__", "") or "")
    if plugin is None or not isinstance(plugin, ModuleType):
        plugin = factory_module
    if plugin is None:
        return None
    dist = next((d for p, d in pm.list_plugin_distinfo() if p is plugin), None)
    if dist is not None and not _under_development(dist, plugin):
        return None
    files = _source_files(plugin)
    if factory_module is not None and factory_module is not plugin:
        files = tuple(sorted({*files, *_source_files(factory_module)}))
    return _hash_files(files) if files else None


def _under_development(dist: Any, module: ModuleType) -> bool:
    """Editable (PEP 610), metadata in a source tree, or imported from outside the distribution's install
    folder."""
    try:
        info = json.loads(dist.read_text("direct_url.json") or "{}")
    except (OSError, ValueError):
        info = {}
    if (info.get("dir_info") or {}).get("editable"):
        return True
    file = getattr(module, "__file__", None)
    if not file:
        return False
    try:
        root = Path(dist.locate_file("")).resolve()
    except (OSError, TypeError, NotImplementedError):
        return False
    if any((root / name).is_file() for name in ("pyproject.toml", "setup.py", "setup.cfg")):
        return True  # metadata read from a source tree (the .egg-info `pip install -e` writes beside the code)
    return not Path(file).resolve().is_relative_to(root)


def _source_files(module: ModuleType) -> tuple[tuple[str, Path], ...]:
    """(name relative to the package's folder, path) of each .py file of the module's top-level
    package, or of the module's own file. Relative names keep keys the same across checkouts."""
    top = sys.modules.get(module.__name__.split(".", 1)[0], module)
    if top.__name__ == "facttune_core" and module is not top:
        top = module  # the core is not hashed as a whole: only the module that defines the component
    out: set[tuple[str, Path]] = set()
    for root in [Path(p) for p in getattr(top, "__path__", ()) or ()]:
        out |= {(f.relative_to(root).as_posix(), f) for f in root.rglob("*.py")}
    file = getattr(top, "__file__", None)
    if not out and file and file.endswith(".py"):
        out.add((Path(file).name, Path(file)))
    return tuple(sorted(out))


def _hash_files(files: tuple[tuple[str, Path], ...]) -> str:
    h = hashlib.sha256()
    for name, path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()[:12]


# ---------------------------------------------------------------------------- the core's code

HOME = Path(__file__).resolve().parents[1]  # facttune_core/: where its modules are imported from
CORE = HOME  # where their code is read (tests point it at a copy)
SCIENCE = ("scoring/", "api/chat.py", "run/score_input.py")


def core_code(declared: Iterable[str], spec: ComponentSpec | None) -> dict[str, str]:
    """``{core module (path under facttune_core/): hash}`` of the core code a stage's result depends
    on: ``declared`` (the stage's ``core_code``) and the science modules ``spec``'s plugin imports,
    closed over the science modules those import. Empty: none (the key then hashes nothing more)."""
    todo = [*declared, *(_component_core_modules(spec) if spec is not None else ())]
    seen: set[str] = set()
    while todo:
        mod = todo.pop()
        if mod in seen or not (CORE / mod).is_file():
            continue
        seen.add(mod)
        todo += [m for m in _core_imports(CORE / mod, mod) if _is_science(m)]
    return {m: _tree_hash(CORE / m) for m in sorted(seen)}


def _is_science(mod: str) -> bool:
    return any(mod == s or (s.endswith("/") and mod.startswith(s)) for s in SCIENCE)


def _component_core_modules(spec: ComponentSpec) -> set[str]:
    """The science modules imported by the component's plugin (its package's files) and factory module."""
    from ..contract.plugins import get_plugin_manager

    plugin = get_plugin_manager().get_plugin(spec.plugin)
    factory_module = sys.modules.get(getattr(spec.factory, "__module__", "") or "")
    files: set[tuple[str, Path]] = set()
    for m in (plugin, factory_module):
        if isinstance(m, ModuleType):
            files |= set(_source_files(m))
    out: set[str] = set()
    for _, path in files:
        mod = _module_path(path)
        if mod is not None and _is_science(mod):  # a component the core's science defines itself
            out.add(mod)
        out |= {m for m in _core_imports(path, mod) if _is_science(m)}
    return out


def _module_path(path: Path) -> str | None:
    """``scoring/text.py`` for a file of the core, else None."""
    try:
        return path.resolve().relative_to(HOME).as_posix()
    except ValueError:
        return None


def _public_names() -> dict[str, str]:
    """Each name ``facttune_core`` exports → the core module (path) that defines it."""
    out: dict[str, str] = {}
    for node in ast.parse((CORE / "__init__.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            for a in node.names:
                out[a.asname or a.name] = node.module.replace(".", "/") + ".py"
    return out


def _resolve(base: list[str], dotted: str) -> str | None:
    """A dotted module under facttune_core/ (``[*base, dotted]``) as a path: a module or a package."""
    parts = [*base, *[p for p in dotted.split(".") if p]]
    for cand in ("/".join(parts) + ".py", "/".join([*parts, "__init__.py"])):
        if (CORE / cand).is_file():
            return cand
    return None


def _core_imports(path: Path, mod: str | None) -> set[str]:
    """The core modules (paths under facttune_core/) a file imports, anywhere in its body: names of
    ``facttune_core`` by the module defining them, submodules directly, relative imports resolved."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return set()
    package = mod.split("/")[:-1] if mod else None
    public: dict[str, str] | None = None
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                if package is None:
                    continue
                base = package[: len(package) - node.level + 1]
                dotted = node.module or ""
            elif node.module == "facttune_core":
                public = public if public is not None else _public_names()
                out |= {public[a.name] for a in node.names if a.name in public}
                continue
            elif node.module and node.module.startswith("facttune_core."):
                base, dotted = [], node.module.split(".", 1)[1]
            else:
                continue
            for a in node.names:
                hit = _resolve(base, f"{dotted}.{a.name}") or _resolve(base, dotted)
                if hit:
                    out.add(hit)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("facttune_core."):
                    hit = _resolve([], a.name.split(".", 1)[1])
                    if hit:
                        out.add(hit)
    return out


def _tree_hash(path: Path) -> str:
    """A short hash of a module's syntax tree without docstrings (comments and layout never count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()[:12]

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
one-file plugin), plus the module that defines the component's factory when it lies elsewhere. The
core itself (``facttune_core``) is not hashed: a change there that alters outputs needs
``--force-from``. Hashing a package's files takes milliseconds; it happens when a run computes
its stage keys, never in ``facttune plugins`` or ``validate``.
"""

from __future__ import annotations

import hashlib
import json
import sys
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
    """Editable (PEP 610), or imported from outside the distribution's install folder."""
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

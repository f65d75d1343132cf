"""Recipes: TOML → validated pydantic models. Every problem is reported as
``RECIPE: stage.key: message``, all at once, before anything heavy loads."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, create_model

from ..contract.config import validation_problems
from ..contract.errors import ConfigError, DataError, FacttuneError, ProblemList, did_you_mean
from ..contract.extras import check_available
from ..contract.registry import ComponentSpec, get_registry, validate_args
from ..contract.store import read_text_file
from .needs import check_needs
from .stages import BY_NAME, STAGES, stage_of
from .tables import ComponentTable, GenerateTable, ReportTable, RunTable, Strict, TrainTable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EvaluateTable = BY_NAME["evaluate"].table

# the component kind each stage table names (run/stages.py declares it)
COMPONENT_KINDS: dict[str, type] = {s.name: s.kind for s in STAGES if s.kind is not None}

# a recipe: [run], a table per stage (as each stage declares it), [report]
Recipe = create_model(  # type: ignore[call-overload]
    "Recipe", __base__=Strict, run=(RunTable, Field(default_factory=RunTable)),
    **{s.name: (s.table | None, None) for s in STAGES},  # [data] is required by run / validate (`require`)
    report=(ReportTable, Field(default_factory=ReportTable)),
)


class Resolved:
    """A validated recipe: the model, each stage's spec and validated config."""

    def __init__(self, path: Path, recipe: Recipe, overrides: Sequence[str] = ()) -> None:
        self.path = path
        self.recipe = recipe
        self.overrides = list(overrides)  # the --set strings applied on top of the file
        self.specs: dict[str, ComponentSpec] = {}
        self.configs: dict[str, BaseModel] = {}

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def stages(self) -> list[str]:
        return [s.name for s in STAGES if getattr(self.recipe, s.name, None) is not None]

    def table(self, stage: str) -> Any:
        """The recipe table of ``stage`` or of an evaluate override such as ``evaluate.verify``."""
        if "." in stage:
            a, b = stage.split(".", 1)
            return getattr(getattr(self.recipe, a), b)
        return getattr(self.recipe, stage)

    def scoring_table(self, stage: str) -> str | None:
        """Which table scores ``stage`` (extract / retrieve / verify) in the evaluate stage."""
        ev = self.recipe.evaluate
        if ev is not None and getattr(ev, stage) is not None:
            return f"evaluate.{stage}"
        return stage if getattr(self.recipe, stage) is not None else None

    def stage_config(self, stage: str) -> dict[str, Any]:
        """What the stage key hashes for this stage (besides upstream, component and version)."""
        return stage_of(stage).key_config(self.table(stage), self.configs.get(stage))


def parse_value(text: str) -> Any:
    """A ``--set`` value: TOML syntax if it parses (3, 0.5, true, "x", [1,2], {a=1}), else a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(raw: dict[str, Any], overrides: list[str], where: str) -> None:
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set expects KEY=VALUE, got '{item}'", where=where)
        key, value = item.split("=", 1)
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            raise ConfigError(f"--set has an empty key in '{item}'", where=where)
        node = raw
        for p in parts[:-1]:
            nxt = node.setdefault(p, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"cannot set '{key}': '{p}' is not a table", where=where, key=key)
            node = nxt
        node[parts[-1]] = parse_value(value.strip())


def load_raw(path: Path) -> dict[str, Any]:
    where = str(path)
    if not path.exists():
        raise ConfigError("recipe file not found", where=where)
    try:
        text = read_text_file(path)
    except DataError as err:
        raise ConfigError(err.message, where=err.where, key=err.key) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", where=where) from None


def load_recipe(path: Path | str, overrides: list[str] | None = None,
                require: tuple[str, ...] = ("data",)) -> Resolved:
    """Parse, override, validate every table and every component's args. Raises ProblemList.
    ``require``: tables the command needs (a run needs ``[data]``; ``facttune judge`` needs none,
    so a scoring-only recipe serves it)."""
    path = Path(path)
    raw = load_raw(path)
    apply_overrides(raw, overrides or [], str(path))
    return resolve_raw(path, raw, require, overrides or [])


def resolve_raw(path: Path, raw: dict[str, Any], require: tuple[str, ...] = ("data",),
                overrides: Sequence[str] = ()) -> Resolved:
    """Validate an already-read (and overridden) recipe dict; errors name ``path``. ``facttune
    score`` uses it to run a recipe's scoring tables over given responses."""
    where = str(path)
    problems: list[FacttuneError] = [ConfigError("required key is missing", where=where, key=t)
                                     for t in require if t not in raw]
    # unknown top-level tables first, with did-you-mean against the stage names
    known_tables = list(Recipe.model_fields)
    for key in list(raw):
        if key not in known_tables:
            problems.append(ConfigError(f"unknown table.{did_you_mean(key, known_tables)} "
                                        f"Known: {', '.join(known_tables)}", where=where, key=key))
            raw.pop(key)
    try:
        recipe = Recipe.model_validate(raw)
    except ValidationError as err:
        problems += validation_problems(err, "", Recipe, where)
        raise ProblemList(_fix_keys(problems)) from None
    resolved = Resolved(path, recipe, overrides)
    registry = get_registry()
    # each stage's component (its table, then the evaluate stage's overrides of it)
    tables = [(s, s.name, getattr(recipe, s.name)) for s in STAGES if s.kind is not None]
    tables += [(s, f"evaluate.{s.name}", getattr(recipe.evaluate, s.name) if recipe.evaluate else None)
               for s in STAGES if s.override]
    for stage, key, table in tables:
        if table is None:
            continue
        try:
            spec = registry.get(stage.kind, table.component)  # type: ignore[arg-type]
            check_available(spec, where, f"{key}.component")  # its extra is installed
        except FacttuneError as err:
            problems.append(err.located(where, f"{key}.component"))
            continue
        resolved.specs[key] = spec
        prefix = stage.args_key(key)
        try:
            resolved.configs[key] = validate_args(spec, stage.component_args(table), prefix, where, path.parent)
        except ProblemList as pl:
            problems += pl.problems
        except FacttuneError as err:
            problems.append(err.located(where, prefix))
    for stage in STAGES:
        if getattr(recipe, stage.name) is not None:
            problems += stage.check(resolved, where)
    problems += check_needs(resolved, where)
    if problems:
        raise ProblemList(problems)
    return resolved


def _fix_keys(problems: list[FacttuneError]) -> list[FacttuneError]:
    out = []
    for p in problems:
        key = p.key[1:] if p.key and p.key.startswith(".") else p.key
        out.append(type(p)(p.message, where=p.where, key=key))
    return out


__all__ = ["COMPONENT_KINDS", "ComponentTable", "EvaluateTable", "GenerateTable", "Recipe", "Resolved", "TrainTable",
           "load_recipe", "parse_value", "resolve_raw"]

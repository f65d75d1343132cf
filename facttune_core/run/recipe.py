"""Recipes: TOML → validated pydantic models. Every problem is reported as
``RECIPE: stage.key: message``, all at once, before anything heavy loads."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..contract.config import output_config, validation_problems
from ..contract.errors import ConfigError, DataError, FacttuneError, ProblemList, did_you_mean
from ..contract.needs import check_needs
from ..contract.registry import ComponentSpec, get_registry, validate_args
from ..contract.store import read_text_file
from ..scoring.pairs import PairsConfig
from .stages import STAGES as RUN_STAGES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# the stage tables in run order, and the component kind each names (run/stages.py)
STAGES: tuple[str, ...] = tuple(s.name for s in RUN_STAGES)
COMPONENT_KINDS: dict[str, type] = {s.name: s.kind for s in RUN_STAGES if s.kind is not None}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunTable(_Strict):
    name: str = "run"
    seed: int = 0
    run_dir: str | None = Field(None, description="default: runs/<recipe name>")
    cache: str | None = Field(None, description="call cache path; default <cache dir>/calls.sqlite")


class ComponentTable(_Strict):
    component: str
    args: dict[str, Any] = Field(default_factory=dict)
    chunk_size: int | None = Field(None, ge=1, description="items per resumable chunk")


class GenerateTable(ComponentTable):
    split: str = "train"


class TrainTable(_Strict):
    component: str
    args: dict[str, Any] = Field(default_factory=dict)
    model: dict[str, Any] = Field(default_factory=dict)
    launcher: str | None = Field(None, description="how the trainer starts its worker process, e.g. "
                                 "'accelerate launch --num_processes 2' (default: the trainer's own way)")


class EvaluateTable(_Strict):
    """Before/after on held-out prompts. ``extract`` / ``retrieve`` / ``verify`` override the main
    chain's components for scoring (e.g. a belief-filtered or AQ recipe is still judged by FActScore);
    ``reward`` scores both variants' responses with a reward combiner (its mean and the after-vs-before
    win rate); ``group_by`` repeats every figure per value of a prompt.meta key."""

    split: str = "test"
    n: int = Field(1, ge=1, description="responses per held-out prompt")
    generate: dict[str, Any] = Field(default_factory=dict, description="overrides of [generate].args")
    bootstrap: int = Field(2000, ge=100)
    limit: int | None = Field(None, ge=1, description="at most this many held-out prompts")
    extract: ComponentTable | None = None
    retrieve: ComponentTable | None = None
    verify: ComponentTable | None = None
    reward: ComponentTable | None = Field(None, description="a reward combiner scored on the held-out responses "
                                          "(e.g. an instruction-following reward): mean and win rate, after vs before")
    group_by: str | None = Field(None, description="a prompt.meta key (core/jsonl meta_fields, e.g. 'fact_seeking'): "
                                 "every figure again per value")


LATER_FIELDS: dict[str, tuple[str, ...]] = {"EvaluateTable": ("reward", "group_by")}


class ReportTable(_Strict):
    html: bool = True
    plots: bool = True
    max_drilldown: int = Field(200, ge=0, description="responses shown with per-claim detail")


class Recipe(_Strict):
    run: RunTable = Field(default_factory=RunTable)
    data: ComponentTable | None = None  # required by `facttune run` and `validate` (load_recipe's `require`)
    generate: GenerateTable | None = None
    extract: ComponentTable | None = None
    retrieve: ComponentTable | None = None
    verify: ComponentTable | None = None
    reward: ComponentTable | None = None
    pairs: PairsConfig | None = None
    train: TrainTable | None = None
    evaluate: EvaluateTable | None = None
    report: ReportTable = Field(default_factory=ReportTable)


class Resolved:
    """A validated recipe: the model, each stage's spec and validated config."""

    def __init__(self, path: Path, recipe: Recipe) -> None:
        self.path = path
        self.recipe = recipe
        self.specs: dict[str, ComponentSpec] = {}
        self.configs: dict[str, BaseModel] = {}

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def stages(self) -> list[str]:
        return [s for s in STAGES if getattr(self.recipe, s, None) is not None]

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
        table = self.table(stage)
        if stage in self.configs:
            out: dict[str, Any] = {"config": output_config(self.configs[stage])}
            if isinstance(table, GenerateTable):
                out["split"] = table.split
            return out
        # fields added later hash only when set, so finished stages of older recipes keep their keys
        unset = {k for k in LATER_FIELDS.get(type(table).__name__, ()) if getattr(table, k) is None}
        return {"config": table.model_dump(mode="json", exclude=unset)}


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
    return resolve_raw(path, raw, require)


def resolve_raw(path: Path, raw: dict[str, Any], require: tuple[str, ...] = ("data",)) -> Resolved:
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
    resolved = Resolved(path, recipe)
    registry = get_registry()
    for stage, kind in COMPONENT_KINDS.items():
        table = getattr(recipe, stage)
        if table is None:
            continue
        try:
            spec = registry.get(kind, table.component)
        except FacttuneError as err:
            problems.append(err.located(where, f"{stage}.component"))
            continue
        resolved.specs[stage] = spec
        if stage == "train":
            args: dict[str, Any] = {"args": table.args, "model": table.model}
            if table.launcher is not None:  # a trainer that cannot take one says "unknown key"
                args["launcher"] = table.launcher
            prefix = "train"
        else:
            args, prefix = table.args, f"{stage}.args"
        try:
            resolved.configs[stage] = validate_args(spec, args, prefix, where, path.parent)
        except ProblemList as pl:
            problems += pl.problems
        except FacttuneError as err:
            problems.append(err.located(where, prefix))
    for sub in ("extract", "retrieve", "verify", "reward"):
        table = getattr(recipe.evaluate, sub) if recipe.evaluate is not None else None
        if table is None:
            continue
        stage = f"evaluate.{sub}"
        try:
            spec = registry.get(COMPONENT_KINDS[sub], table.component)
        except FacttuneError as err:
            problems.append(err.located(where, f"{stage}.component"))
            continue
        resolved.specs[stage] = spec
        try:
            resolved.configs[stage] = validate_args(spec, table.args, f"{stage}.args", where, path.parent)
        except ProblemList as pl:
            problems += pl.problems
    if recipe.evaluate is not None and recipe.generate is None:
        problems.append(ConfigError("evaluate needs a [generate] table (it re-generates on held-out prompts)",
                                    where=where, key="evaluate"))
    if recipe.evaluate is not None and recipe.generate is not None and "generate" in resolved.specs:
        gen_fields = resolved.specs["generate"].config.model_fields
        bad = [k for k in recipe.evaluate.generate if k not in gen_fields]
        for k in bad:
            problems.append(ConfigError(f"unknown key.{did_you_mean(k, list(gen_fields))}", where=where,
                                        key=f"evaluate.generate.{k}"))
    if recipe.train is not None and recipe.pairs is None:
        problems.append(ConfigError("train needs a [pairs] table (pairs or SFT examples to train on)",
                                    where=where, key="train"))
    if recipe.pairs is not None and recipe.reward is None and recipe.pairs.mode != "sft":
        problems.append(ConfigError(f"pairs mode '{recipe.pairs.mode}' needs a [reward] table", where=where,
                                    key="pairs.mode"))
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


def validate_with_context(spec: ComponentSpec, args: dict[str, Any], prefix: str, where: str,
                          base_dir: Path) -> BaseModel:
    """Validate with pydantic context ``{"base_dir": recipe folder}`` so path fields can resolve."""
    try:
        return spec.config.model_validate(args, context={"base_dir": base_dir})
    except ValidationError as err:
        raise ProblemList(validation_problems(err, prefix, spec.config, where)) from None
    except FacttuneError as err:
        raise err.located(where, prefix) from None


__all__ = ["Recipe", "Resolved", "load_recipe", "resolve_raw", "STAGES", "COMPONENT_KINDS", "parse_value"]

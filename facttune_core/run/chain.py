"""What every stage is made of: the records of a chain so far, a stage bound to its recipe table (a
Plan), the job a whole stage runs, and ``Stage``, the one declaration of a stage (run/stages.py
declares each)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel

from ..contract.config import output_config
from ..contract.context import Context
from ..contract.errors import ConfigError, FacttuneError
from ..contract.records import (
    Claim,
    Evidence,
    Pair,
    Prompt,
    Record,
    Response,
    Reward,
    ScoredResponse,
    SFTExample,
    Verdict,
)
from ..contract.registry import ComponentSpec
from ..scoring.claim_scores import scored_responses
from .folders import StageResult
from .tables import ComponentTable


@dataclass
class Chain:
    """The records of one chain so far (the main run, or one evaluate variant), by kind."""

    prompts: list[Prompt] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    rewards: list[Reward] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    sft: list[SFTExample] = field(default_factory=list)
    counts: dict[str, dict[str, Any]] = field(default_factory=dict)  # per stage, from its manifest

    def add(self, records: Iterable[Any]) -> None:
        lists: dict[type, list[Any]] = {Prompt: self.prompts, Response: self.responses, Claim: self.claims,
                                        Evidence: self.evidence, Verdict: self.verdicts, Reward: self.rewards,
                                        Pair: self.pairs, SFTExample: self.sft}
        for r in records:
            if type(r) in lists:
                lists[type(r)].append(r)

    def scored(self) -> list[ScoredResponse]:
        """Each response with its prompt, claims, verdicts and evidence (what a reward combiner sees):
        the one claim → evidence → verdict join."""
        return scored_responses(self.prompts, self.responses, self.claims, self.evidence, self.verdicts,
                                require_verdicts=bool(self.verdicts))


@dataclass(frozen=True)
class Plan:
    """A stage bound to a recipe: the key of its table (``ctx.key`` and error messages), its component
    and validated config, what its stage key hashes and what its manifest records as config."""

    stage: Stage
    table: str
    spec: ComponentSpec | None = None
    config: Any = None
    hashed: Any = None
    recorded: Any = None
    chunk: int | None = None
    label: str = ""
    key_name: str = ""  # the stage name the key hashes (default: the stage's)
    part_of: str = ""  # the stage of the main chain it runs in (evaluate's generate: evaluate)
    split: str | None = None  # generate: the split it samples for (None: every prompt of the chain)
    base_model: str | None = None  # train: the policy (the generate stage's model)


class Runner(Protocol):
    """What runs a plan into a folder (the executor); the evaluate stage runs its chain through it."""

    def run(self, plan: Plan, root: Path, upstream: str | None, chain: Chain) -> StageResult: ...


@dataclass
class Job:
    """One run of a whole stage: its built component (None when the core does the work), the chain so
    far, its plan, context, folder and key, and the runner for the stages it runs inside."""

    component: Any
    chain: Chain
    plan: Plan
    ctx: Context
    folder: Path
    key: str
    runner: Runner


@dataclass
class Outcome:
    """What a whole stage produced: records, items, counts and extra manifest fields."""

    records: list[Any]
    items: int
    counts: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    resumed: bool = False  # it went on from work an interrupted run left (the manifest says "resumed")


class Binder(Protocol):
    """What a stage binds its plan with (the pipeline): the resolved recipe, the trained adapter, and
    the plans of one evaluate variant's chain."""

    r: Any  # run/recipe.py's Resolved

    def adapter_dir(self) -> Path | None: ...

    def evaluate_chain(self, variant: str, adapter: Path | None, prompts: list[Prompt]) -> list[Plan]: ...


class Stage:
    """One stage, declared once. Everything else is derived from these class attributes: the
    ``Recipe`` model (a table per stage), validation of the component's args, the pipeline's plans,
    ``validate``'s cross-table checks and needs, the evaluate chain, ``facttune score``'s chain,
    describe's tables, the overview's order and the testing kit's ``make_component``.

    - ``name``: its recipe table, its folder (``NN-<name>-<key>``, NN its place in ``STAGES``) and the
      stage name its key hashes;
    - ``kind``: its component's Protocol (None: the core does the work); ``table``: the table's model;
    - ``chunk``: items per resumable chunk (None: the stage runs in one piece);
    - ``trains``: its component trains: the table's ``args``, ``model`` and ``launcher`` together are
      its config, validated under the key ``<name>`` (others: ``<name>.args``);
    - ``reads`` / ``writes``: the chain's records (``Chain`` fields) it reads and writes;
    - ``given``: a prompt source's data may already carry what it writes (then its table must go);
    - ``override``: ``[evaluate.<name>]`` may replace its component in the evaluate stage;
    - ``claim_chain``: one of response → claims → evidence → verdicts (what evaluate and ``facttune
      score`` run again on responses);
    - ``serves``: ``needs`` names it satisfies besides the records it writes (generate: ``generator``);
    - ``requires``: tables it cannot run without, and why;
    - ``later_fields``: table fields added after the first release, hashed only when set (old keys hold);
    - ``core_code``: the core modules (under facttune_core/) its own work depends on; its key hashes
      them, with the science its component imports (run/fingerprint.py ``core_code``).
    """

    name: ClassVar[str]
    kind: ClassVar[type | None] = None
    table: ClassVar[type[BaseModel]] = ComponentTable
    chunk: ClassVar[int | None] = None
    trains: ClassVar[bool] = False
    reads: ClassVar[tuple[str, ...]] = ()
    writes: ClassVar[tuple[str, ...]] = ()
    given: ClassVar[bool] = False
    override: ClassVar[bool] = False
    claim_chain: ClassVar[bool] = False
    serves: ClassVar[tuple[str, ...]] = ()
    requires: ClassVar[tuple[tuple[str, str], ...]] = ()
    later_fields: ClassVar[tuple[str, ...]] = ()
    core_code: ClassVar[tuple[str, ...]] = ()

    def args_key(self, table: str | None = None) -> str:
        """The recipe key its component's args are validated under (errors and ``ctx.key`` name it)."""
        table = table or self.name
        return table if self.kind is None or self.trains else f"{table}.args"

    def component_args(self, table: Any) -> dict[str, Any]:
        """What its component's Config validates, from its recipe table."""
        if not self.trains:
            return dict(table.args)
        args: dict[str, Any] = {"args": table.args, "model": table.model}
        if table.launcher is not None:  # a trainer that cannot take one says "unknown key"
            args["launcher"] = table.launcher
        return args

    def key_config(self, table: Any, config: BaseModel | None) -> dict[str, Any]:
        """What its stage key hashes besides upstream, component and version: the component's
        output-relevant config, else the table itself."""
        if config is not None:
            return {"config": output_config(config)}
        unset = {k for k in self.later_fields if getattr(table, k) is None}
        return {"config": table.model_dump(mode="json", exclude=unset)}

    def check(self, resolved: Any, where: str) -> list[FacttuneError]:
        """Its cross-table rules in a recipe that has its table (``resolved``: run/recipe.py's
        Resolved): ``requires``, and whatever a stage adds."""
        return [ConfigError(f"{self.name} needs a [{t}] table ({why})", where=where, key=self.name)
                for t, why in self.requires if getattr(resolved.recipe, t) is None]

    def bind(self, plan: Plan, binder: Binder) -> Plan:
        """The plan with what this stage takes from the rest of the recipe (default: nothing)."""
        return plan


class Chunked(Stage):
    def items(self, chain: Chain, plan: Plan) -> list[Any]:
        raise NotImplementedError

    def item_id(self, item: Any) -> str:
        raise NotImplementedError

    def call(self, component: Any, batch: list[Any], chain: Chain, plan: Plan) -> list[list[Record]]:
        """The records of each item of ``batch``, aligned."""
        raise NotImplementedError


class Whole(Stage):
    def run(self, job: Job) -> Outcome:
        raise NotImplementedError

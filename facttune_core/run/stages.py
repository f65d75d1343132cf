"""The stages, each declared once: one small object per stage, whose class attributes (listed on
``Stage`` in run/chain.py) say its recipe table (also its folder's name), the Protocol of the
component it builds, the records it reads and writes, whether it trains, what the evaluate stage
may replace, what it requires and the core code it depends on; its ``bind`` takes what it needs from
the rest of the recipe. Everything else is derived from these (the ``Recipe`` model, validation,
plans, needs, describe, the overview, the testing kit). The executor does the rest (folders, keys,
chunks, resume, manifests).

``data → generate → extract → retrieve → verify → reward → pairs → train → evaluate``

A *chunked* stage maps items to records chunk by chunk (resumable); a *whole* stage runs in one
piece. Evaluate (run/evaluate.py) is the generate → extract → retrieve → verify part of the chain
run again under ``before/`` and ``after/``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import create_model

from ..contract.errors import ConfigError, DataError, FacttuneError, did_you_mean
from ..contract.protocols import (
    ClaimExtractor,
    ClaimVerifier,
    DataBundle,
    EvidenceRetriever,
    Generator,
    GeneratorConfig,
    PromptSource,
    RewardCombiner,
    TrainData,
    Trainer,
)
from ..contract.records import Claim, Prompt, Record, Response, ScoredResponse
from ..contract.store import atomic_write_json, make_dir
from ..scoring.claim_scores import FactScoreRule
from ..scoring.pairs import PairsConfig
from ..scoring.pairs import build as build_pairs
from .chain import Binder, Chain, Chunked, Job, Outcome, Plan, Stage, Whole
from .evaluate import evaluation_rows, evaluation_summary
from .tables import ComponentTable, EvaluateBase, GenerateTable, TrainTable


class Data(Whole):
    """Prompts from the prompt source (and the records of later stages it already has)."""

    name, kind = "data", PromptSource
    writes = ("prompts",)  # and whatever the data provides of GIVEN

    def run(self, job: Job) -> Outcome:
        bundle: DataBundle = job.component.load()
        records: list[Any] = list(bundle.prompts)
        counts = {**job.ctx.counters, "prompts": len(bundle.prompts)}
        for name, _ in GIVEN:
            given = getattr(bundle, name)
            if given is not None:
                records += given
                counts[name] = len(given)
        splits = Counter(p.split for p in bundle.prompts)
        counts.update({f"split_{k}": v for k, v in sorted(splits.items())})
        return Outcome(records, len(bundle.prompts), counts, {"info": {**job.ctx.info, **bundle.info}})


class Generate(Chunked):
    """Prompts of its split → n responses each."""

    name, kind, table, chunk = "generate", Generator, GenerateTable, 4
    reads, writes, given, serves = ("prompts",), ("responses",), True, ("generator",)

    def key_config(self, table: Any, config: Any) -> dict[str, Any]:
        return {**super().key_config(table, config), "split": table.split}

    def bind(self, plan: Plan, binder: Binder) -> Plan:
        gen = binder.r.recipe.generate
        return replace(plan, split=gen.split if gen is not None else None)

    def items(self, chain: Chain, plan: Plan) -> list[Any]:
        if plan.split is None:
            return chain.prompts
        prompts = [p for p in chain.prompts if p.split == plan.split]
        if not prompts:
            splits = sorted({p.split for p in chain.prompts})
            raise DataError(f"no prompts in split '{plan.split}' (the data has: {', '.join(splits)})",
                            key="generate.split")
        return prompts

    def item_id(self, item: Prompt) -> str:
        return item.id

    def call(self, component: Generator, batch: list[Prompt], chain: Chain, plan: Plan) -> list[list[Record]]:
        config: GeneratorConfig = plan.config
        return component.generate(batch, n=config.n)  # type: ignore[return-value]


class Extract(Chunked):
    """Responses → their atomic claims."""

    name, kind, chunk = "extract", ClaimExtractor, 8
    reads, writes, given, override, claim_chain = ("responses",), ("claims",), True, True, True

    def items(self, chain: Chain, plan: Plan) -> list[Any]:
        return chain.responses

    def item_id(self, item: Response) -> str:
        return item.id

    def call(self, component: ClaimExtractor, batch: list[Response], chain: Chain, plan: Plan) -> list[list[Record]]:
        return component.extract(batch)  # type: ignore[return-value]


class Retrieve(Chunked):
    """Claims → evidence (passages) for each."""

    name, kind, chunk = "retrieve", EvidenceRetriever, 64
    reads, writes, given, override, claim_chain = ("claims",), ("evidence",), True, True, True

    def items(self, chain: Chain, plan: Plan) -> list[Any]:
        return chain.claims

    def item_id(self, item: Claim) -> str:
        return item.id

    def call(self, component: EvidenceRetriever, batch: list[Claim], chain: Chain, plan: Plan) -> list[list[Record]]:
        return [[e] for e in component.retrieve(batch)]


class Verify(Chunked):
    """Claims (and their evidence, if any) → a verdict each."""

    name, kind, chunk = "verify", ClaimVerifier, 32
    reads, writes, given, override, claim_chain = ("claims", "evidence"), ("verdicts",), True, True, True

    def items(self, chain: Chain, plan: Plan) -> list[Any]:
        return chain.claims

    def item_id(self, item: Claim) -> str:
        return item.id

    def call(self, component: ClaimVerifier, batch: list[Claim], chain: Chain, plan: Plan) -> list[list[Record]]:
        ev = {e.claim_id: e for e in chain.evidence}
        return [[v] for v in component.verify(batch, [ev.get(c.id) for c in batch])]


class RewardStage(Chunked):
    """Responses with their claims, evidence and verdicts → named rewards."""

    name, kind, chunk = "reward", RewardCombiner, 16
    reads, writes, override = ("prompts", "responses", "claims", "evidence", "verdicts"), ("rewards",), True
    core_code = ("scoring/claim_scores.py",)  # the claim → evidence → verdict join a combiner sees

    def items(self, chain: Chain, plan: Plan) -> list[Any]:
        return chain.scored()

    def item_id(self, item: ScoredResponse) -> str:
        return item.response.id

    def call(self, component: RewardCombiner, batch: list[ScoredResponse], chain: Chain,
             plan: Plan) -> list[list[Record]]:
        return component.score(batch)  # type: ignore[return-value]


class Pairs(Whole):
    """Rewards → preference pairs and SFT examples (the core's pair rules)."""

    name, table = "pairs", PairsConfig
    reads, writes = ("prompts", "responses", "rewards"), ("pairs", "sft")
    core_code = ("scoring/pairs.py",)

    def check(self, resolved: Any, where: str) -> list[FacttuneError]:
        recipe = resolved.recipe
        if recipe.reward is None and recipe.pairs.mode != "sft":
            return [ConfigError(f"pairs mode '{recipe.pairs.mode}' needs a [reward] table", where=where,
                                key="pairs.mode")]
        return []

    def bind(self, plan: Plan, binder: Binder) -> Plan:
        return replace(plan, config=binder.r.recipe.pairs)

    def run(self, job: Job) -> Outcome:
        config: PairsConfig = job.plan.config
        chain = job.chain
        sel = build_pairs(config, chain.prompts, chain.responses, chain.rewards)
        return Outcome([*sel.pairs, *sel.sft], len(chain.responses), dict(sel.counts))


class Train(Whole):
    """Pairs and SFT examples → an adapter (the records are the training log)."""

    name, kind, table, trains = "train", Trainer, TrainTable, True
    reads, writes = ("pairs", "sft"), ()  # an adapter (its records are the training log)
    requires = (("pairs", "pairs or SFT examples to train on"),)

    def bind(self, plan: Plan, binder: Binder) -> Plan:
        return replace(plan, base_model=getattr(binder.r.configs.get("generate"), "model", None))

    def run(self, job: Job) -> Outcome:
        chain = job.chain
        if not chain.pairs and not chain.sft:
            raise DataError(f"nothing to train on: the pairs stage produced no pairs or SFT examples (counts: "
                            f"{chain.counts.get('pairs', {})}); sample more responses or lower pairs.min_margin",
                            key="train")
        work = job.folder / "work"
        make_dir(work)
        trainer: Trainer = job.component
        result = trainer.train(TrainData(pairs=chain.pairs, sft=chain.sft, base_model=job.plan.base_model), work)
        adapter = Path(result.adapter_dir).resolve()
        where = job.folder.resolve()
        return Outcome(list(result.log), len(chain.pairs) + len(chain.sft), dict(job.ctx.counters), {
            "adapter_dir": str(adapter.relative_to(where)) if adapter.is_relative_to(where) else str(adapter),
            "metrics": result.metrics}, resumed=bool((result.metrics or {}).get("resumed_from_step")))


@dataclass(frozen=True)
class EvaluateSetup:
    """What the evaluate stage takes from the recipe: the held-out split (at most ``limit`` prompts),
    the trained adapter (None: only ``before``), the statistics' settings, the plans of one
    variant's chain (generate with the variant's adapter, then the scoring stages; and the reward
    stage when ``[evaluate.reward]`` names one), the FActScore rule (γ, IR) of the recipe's reward;
    ``group_by``: the prompt.meta key that groups prompts."""

    split: str
    limit: int | None
    adapter: Path | None
    bootstrap: int
    seed: int
    chain: Callable[[str, Path | None, list[Prompt]], list[Plan]]
    rule: FactScoreRule = FactScoreRule()  # how a response's verdicts count: the recipe's reward's rule
    group_by: str | None = None


class Evaluate(Whole):
    """Held-out prompts → generate, extract, retrieve, verify (and reward) before and after tuning → a
    score row per response and summary.json."""

    name, table = "evaluate", EvaluateBase  # the override tables are added below, from the declarations
    reads = ("prompts",)
    requires = (("generate", "it re-generates on held-out prompts"),)
    later_fields = ("reward", "group_by")
    core_code = ("run/evaluate.py",)  # with the FActScore count and the bootstrap it imports

    def check(self, resolved: Any, where: str) -> list[FacttuneError]:
        problems = super().check(resolved, where)
        if "generate" in resolved.specs:  # its generate overrides are the generator's args
            fields = resolved.specs["generate"].config.model_fields
            problems += [ConfigError(f"unknown key.{did_you_mean(k, list(fields))}", where=where,
                                     key=f"evaluate.generate.{k}")
                         for k in resolved.recipe.evaluate.generate if k not in fields]
        return problems

    def bind(self, plan: Plan, binder: Binder) -> Plan:
        ev = binder.r.recipe.evaluate
        rule = FactScoreRule.of(binder.r.configs.get("reward"))
        # the rule is part of the key only when it is not FActScore's default (older keys stay valid)
        hashed = plan.hashed if rule == FactScoreRule() else {**plan.hashed, "factscore_rule": rule.as_dict()}
        return replace(plan, hashed=hashed, config=EvaluateSetup(
            ev.split, ev.limit, binder.adapter_dir(), ev.bootstrap, binder.r.recipe.run.seed,
            binder.evaluate_chain, rule, ev.group_by))

    def run(self, job: Job) -> Outcome:
        setup: EvaluateSetup = job.plan.config
        prompts = [p for p in job.chain.prompts if p.split == setup.split]
        if setup.limit:
            prompts = prompts[: setup.limit]
        if not prompts:
            raise DataError(f"no prompts in split '{setup.split}'", key="evaluate.split")
        variants: dict[str, Path | None] = {"before": None}
        if setup.adapter is not None:
            if not setup.adapter.is_dir():
                raise DataError(f"the trained adapter {setup.adapter} is missing: delete the train stage's folder "
                                "(or rerun with --force-from train) to train again", where=str(setup.adapter.parent))
            variants["after"] = setup.adapter
        rows: list[dict[str, Any]] = []
        chains: dict[str, dict[str, str]] = {}
        judged: dict[str, dict[str, Any]] = {}  # variant -> its verify stage's guard rail (manifest "verdicts")
        for variant, adapter in variants.items():
            sub = Chain(prompts=prompts)
            up, chains[variant] = job.key, {}
            for plan in setup.chain(variant, adapter, prompts):
                if plan.stage.claim_chain and "claims" in plan.stage.reads and not sub.claims:
                    continue
                res = job.runner.run(plan, job.folder / variant, up, sub)
                up, chains[variant][plan.stage.name] = res.key, res.dir.name
                if plan.stage is VERIFY:
                    judged[variant] = res.manifest.get("verdicts") or {}
            groups = {p.id: p.meta.get(setup.group_by) for p in prompts} if setup.group_by else None
            rows += evaluation_rows(variant, sub.responses, sub.claims, sub.verdicts, setup.rule, sub.evidence,
                                    sub.rewards, groups)
        summary = evaluation_summary(rows, setup.bootstrap, setup.seed, setup.rule)
        if setup.group_by:
            summary["group_by"] = setup.group_by
        atomic_write_json(job.folder / "summary.json", summary)
        return Outcome(rows, len(prompts), {"prompts": len(prompts)}, {"summary": summary, "chains": chains,
                                                                        "judged": judged,
                                                                        "factscore_rule": setup.rule.as_dict()})


DATA, GENERATE, EXTRACT, RETRIEVE, VERIFY, REWARD = Data(), Generate(), Extract(), Retrieve(), Verify(), RewardStage()
PAIRS, TRAIN, EVALUATE = Pairs(), Train(), Evaluate()
STAGES: tuple[Stage, ...] = (DATA, GENERATE, EXTRACT, RETRIEVE, VERIFY, REWARD, PAIRS, TRAIN, EVALUATE)
BY_NAME: dict[str, Stage] = {s.name: s for s in STAGES}
ORDER: tuple[str, ...] = tuple(BY_NAME)

# [evaluate]: its own fields, and a table per stage it may replace
Evaluate.table = create_model("EvaluateTable", __base__=EvaluateBase,
                              **{s.name: (ComponentTable | None, None) for s in STAGES if s.override})  # type: ignore[call-overload]

# what a prompt source's data may already carry: (DataBundle / Chain field, the stage it stands in for)
GIVEN: tuple[tuple[str, str], ...] = tuple((w, s.name) for s in STAGES if s.given for w in s.writes)
# response → claims → evidence → verdicts: what evaluate and `facttune score` run on responses
CLAIM_CHAIN: tuple[Stage, ...] = tuple(s for s in STAGES if s.claim_chain)


def stage_of(table: str) -> Stage:
    """The stage a recipe table configures (``verify``, or an evaluate override ``evaluate.verify``)."""
    return BY_NAME[table.rpartition(".")[2]]


def stage_for_kind(protocol: type) -> Stage:
    """The stage whose component follows ``protocol``."""
    return next(s for s in STAGES if s.kind is protocol)

"""The stages as data. Each stage is one small object: the recipe table it reads (also its folder's
name), the Protocol of the component it builds, the records it reads from the chain so far and the
records it writes. The executor does the rest (folders, keys, chunks, resume, manifests).

``data → generate → extract → retrieve → verify → reward → pairs → train → evaluate``

A *chunked* stage maps items to records chunk by chunk (resumable); a *whole* stage runs in one
piece. Evaluate (run/evaluate.py) is the generate → extract → retrieve → verify part of the chain
run again under ``before/`` and ``after/``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from ..contract.context import Context
from ..contract.errors import DataError
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
from ..contract.store import atomic_write_json, make_dir
from ..scoring.claim_scores import FactScoreRule, join_claims
from ..scoring.pairs import PairsConfig
from ..scoring.pairs import build as build_pairs
from .evaluate import evaluation_rows, evaluation_summary
from .folders import StageResult


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
        """Each response with its prompt, claims, verdicts and evidence (what a reward combiner sees)."""
        prompts = {p.id: p for p in self.prompts}
        joined = join_claims(self.claims, self.evidence, self.verdicts)  # the one claim → evidence → verdict join
        out = []
        for r in self.responses:
            js = joined.get(r.id, [])
            missing = [j.claim.id for j in js if j.verdict is None]
            if self.verdicts and missing:
                raise DataError(f"claim '{missing[0]}' has no verdict", key="verify")
            if r.prompt_id not in prompts:
                raise DataError(f"response '{r.id}' names unknown prompt '{r.prompt_id}'", key="data")
            out.append(ScoredResponse(prompt=prompts[r.prompt_id], response=r, claims=tuple(j.claim for j in js),
                                      verdicts=tuple(j.verdict for j in js if j.verdict is not None),
                                      evidence=tuple(j.evidence for j in js)))
        return out


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


class Stage:
    """A stage: ``name`` (its recipe table and folder), ``kind`` (its component's Protocol; None when
    the core does the work), ``chunk`` (items per resumable chunk; None: the stage runs in one piece)."""

    name: ClassVar[str]
    kind: ClassVar[type | None] = None
    chunk: ClassVar[int | None] = None


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


# records a prompt source may already provide: (DataBundle field, the stage it replaces)
GIVEN = (("responses", "generate"), ("claims", "extract"), ("evidence", "retrieve"), ("verdicts", "verify"))


class Data(Whole):
    """Prompts from the prompt source (and the records of later stages it already has)."""

    name, kind = "data", PromptSource

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

    name, kind, chunk = "generate", Generator, 4

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

    def items(self, chain: Chain, plan: Plan) -> list[Any]:
        return chain.responses

    def item_id(self, item: Response) -> str:
        return item.id

    def call(self, component: ClaimExtractor, batch: list[Response], chain: Chain, plan: Plan) -> list[list[Record]]:
        return component.extract(batch)  # type: ignore[return-value]


class Retrieve(Chunked):
    """Claims → evidence (passages) for each."""

    name, kind, chunk = "retrieve", EvidenceRetriever, 64

    def items(self, chain: Chain, plan: Plan) -> list[Any]:
        return chain.claims

    def item_id(self, item: Claim) -> str:
        return item.id

    def call(self, component: EvidenceRetriever, batch: list[Claim], chain: Chain, plan: Plan) -> list[list[Record]]:
        return [[e] for e in component.retrieve(batch)]


class Verify(Chunked):
    """Claims (and their evidence, if any) → a verdict each."""

    name, kind, chunk = "verify", ClaimVerifier, 32

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

    def items(self, chain: Chain, plan: Plan) -> list[Any]:
        return chain.scored()

    def item_id(self, item: ScoredResponse) -> str:
        return item.response.id

    def call(self, component: RewardCombiner, batch: list[ScoredResponse], chain: Chain,
             plan: Plan) -> list[list[Record]]:
        return component.score(batch)  # type: ignore[return-value]


class Pairs(Whole):
    """Rewards → preference pairs and SFT examples (the core's pair rules)."""

    name = "pairs"

    def run(self, job: Job) -> Outcome:
        config: PairsConfig = job.plan.config
        chain = job.chain
        sel = build_pairs(config, chain.prompts, chain.responses, chain.rewards)
        return Outcome([*sel.pairs, *sel.sft], len(chain.responses), dict(sel.counts))


class Train(Whole):
    """Pairs and SFT examples → an adapter (the records are the training log)."""

    name, kind = "train", Trainer

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

    name = "evaluate"

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
                if plan.stage.name in ("retrieve", "verify") and not sub.claims:
                    continue
                res = job.runner.run(plan, job.folder / variant, up, sub)
                up, chains[variant][plan.stage.name] = res.key, res.dir.name
                if plan.stage.name == "verify":
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

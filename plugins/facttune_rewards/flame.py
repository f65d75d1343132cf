"""FLAME (Lin et al. 2024): the fact-seeking classifier, the split rewards, SFT-fact data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from facttune_core import (
    ComponentError,
    ConfigError,
    Context,
    DataError,
    Decoding,
    Generator,
    GeneratorConfig,
    Prompt,
    Response,
    Reward,
    RewardCombiner,
    ScoredResponse,
    Verdict,
)

from .common import (
    GeneratorRef,
    RewardRef,
    aligned_verdicts,
    build_sub,
    is_empty,
    make_reward,
    no_score,
)
from .factscore import count_verdicts, factscore_reward
from .prompts import (
    fact_seeking_prompt,
    few_shot_answer_prompt,
    instruction_rating_prompt,
    parse_rating,
    parse_yes_no,
)


class FactSeeking:
    """Labels instructions fact-seeking or not, once per distinct instruction: by a ``classifier``
    component (``classify(prompts)``, e.g. rewards/fact-seeking) or by asking a ``judge`` generator
    (its calls go through the call cache). ``prompt.meta["fact_seeking"]`` (a bool) wins when the data
    has it and ``use_meta`` is on."""

    def __init__(self, judge: Any, ctx: Context, use_meta: bool = True, classifier: Any = None) -> None:
        if classifier is not None and not callable(getattr(classifier, "classify", None)):
            raise ComponentError(f"the classifier ({type(classifier).__name__}) cannot classify instructions (no "
                                 "classify(prompts)); use rewards/fact-seeking", key=ctx.key_for("classifier"))
        self.judge = judge
        self.classifier = classifier
        self.ctx = ctx
        self.use_meta = use_meta

    def classify(self, prompts: Sequence[Prompt]) -> dict[str, bool]:
        """prompt id → fact-seeking."""
        out: dict[str, bool] = {}
        todo: dict[str, Prompt] = {}
        for p in prompts:
            flag = p.meta.get("fact_seeking") if self.use_meta else None
            if isinstance(flag, bool):
                out[p.id] = flag
            elif p.id not in todo:
                todo[p.id] = p
        if todo and self.classifier is not None:
            out.update(self.classifier.classify(list(todo.values())))
        elif todo:
            texts = list(dict.fromkeys(p.text for p in todo.values()))
            asks = [Prompt(id=f"fs{i}", text=fact_seeking_prompt(t)) for i, t in enumerate(texts)]
            d = Decoding(temperature=0.0, max_new_tokens=3, stop=("\n",), chat=False)
            res = self.judge.generate(asks, n=1, decoding=d)
            by_text: dict[str, bool] = {}
            for t, rs in zip(texts, res, strict=True):
                ans = parse_yes_no(rs[0].text) if rs else None
                if ans is None:
                    self.ctx.count("fact_seeking_unparsed")  # neither yes nor no: treated as not fact-seeking
                by_text[t] = bool(ans)
            for pid, p in todo.items():
                out[pid] = by_text[p.text]
        return out


def soft_factscore(verdicts: Sequence[Verdict], ctx: Context) -> float:
    """The mean P(True) of the verdicts (a verdict without one counts 1 / 0 by its supported flag)."""
    ps = [float(v.p_true) if v.p_true is not None else 1.0 if v.supported else 0.0 for v in verdicts]
    if any(v.p_true is None for v in verdicts):
        ctx.count("flame_soft_without_p_true")
    return sum(ps) / len(ps)


def _one_classifier(judge: Any, classifier: Any) -> None:
    if (judge is None) == (classifier is None):
        raise ValueError("give judge (a generator asked per instruction) or classifier (e.g. rewards/fact-seeking), "
                         "exactly one")


class FlameReward:
    """FLAME's split: ``fact_seeking`` (1/0), ``instruction`` (IF reward) and ``factuality`` (FActScore,
    fact-seeking instructions only), never summed."""

    needs = ("verdicts",)

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        judge: GeneratorRef | None = Field(None, description="generator asked whether an instruction is "
                                           "fact-seeking (give judge or classifier)")
        classifier: RewardRef | None = Field(None, description="a classifier component that labels instructions "
                                             "fact-seeking, e.g. rewards/fact-seeking (give judge or classifier)")
        instruction_judge: GeneratorRef | None = Field(
            None, description="generator asked for a 1-10 rating (default: the judge)")
        instruction_reward: RewardRef | None = Field(
            None, description="instead of a judge: a reward combiner (e.g. a reward model) scoring responses")
        instruction_reward_name: str | None = Field(
            None, description="which of instruction_reward's rewards to use (default: its first)")
        gamma: float = Field(0.0, ge=0.0, description="FActScore length penalty of the factuality reward")
        soft: bool = Field(False, description="factuality = the mean P(True) of the claims' verdicts (soft FActScore, "
                           "as recipes/paper/facttune-fs.toml: the hard supported share ties at 0 for most of a small "
                           "model's responses) instead of the supported share")
        factuality_for: Literal["fact_seeking", "all"] = Field(
            "fact_seeking", description="which prompts get a factuality reward: fact-seeking ones (FLAME), or all "
            "(one combined reward as in FactTune-FS: pairs mode 'weighted')")
        use_prompt_meta: bool = Field(True, description="prompt.meta['fact_seeking'] overrides the judge")
        fact_seeking_name: str = "fact_seeking"
        instruction_name: str = "instruction"
        factuality_name: str = "factuality"

        @model_validator(mode="after")
        def _one_if_source(self) -> FlameReward.Config:
            _one_classifier(self.judge, self.classifier)
            if self.instruction_judge is not None and self.instruction_reward is not None:
                raise ValueError("give instruction_judge or instruction_reward, not both")
            if self.judge is None and self.instruction_judge is None and self.instruction_reward is None:
                raise ValueError("with a classifier, give instruction_reward (or instruction_judge): there is no "
                                 "judge to rate instruction following")
            if len({self.fact_seeking_name, self.instruction_name, self.factuality_name}) != 3:
                raise ValueError("the three reward names must differ")
            return self

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx
        self.judge = build_sub(ctx, Generator, config.judge, "judge") if config.judge is not None else None
        classifier = (build_sub(ctx, RewardCombiner, config.classifier, "classifier")
                      if config.classifier is not None else None)
        self.fact_seeking = FactSeeking(self.judge, ctx, config.use_prompt_meta, classifier)
        self.if_reward = None
        self.if_judge = None
        if config.instruction_reward is not None:
            self.if_reward = build_sub(ctx, RewardCombiner, config.instruction_reward, "instruction_reward")
        elif config.instruction_judge is not None:
            self.if_judge = build_sub(ctx, Generator, config.instruction_judge, "instruction_judge")
        else:
            self.if_judge = self.judge

    def instruction_scores(self, items: Sequence[ScoredResponse]) -> list[tuple[float | None, dict[str, Any]]]:
        c = self.c
        if self.if_reward is not None:
            rows = self.if_reward.score(items)
            out = []
            for it, rs in zip(items, rows, strict=True):
                pick = [r for r in rs if c.instruction_reward_name in (None, r.name)]
                if not pick:
                    names = ", ".join(r.name for r in rs) or "none"
                    raise ComponentError(f"instruction_reward gave no reward '{c.instruction_reward_name}' for "
                                         f"response '{it.response.id}' (gave: {names})",
                                         key=self.ctx.key_for("instruction_reward_name"))
                out.append((pick[0].value, {"source": pick[0].name}))
            return out
        asks = [Prompt(id=f"{it.response.id}/if", text=instruction_rating_prompt(it.prompt.text, it.response.text))
                for it in items]
        d = Decoding(temperature=0.0, max_new_tokens=4, stop=("\n",), chat=False)
        res = self.if_judge.generate(asks, n=1, decoding=d) if asks else []  # type: ignore[union-attr]
        out = []
        for rs in res:
            rating = parse_rating(rs[0].text) if rs else None
            if rating is None:
                self.ctx.count("instruction_rating_unparsed")
                out.append((None, {"raw": rs[0].text if rs else ""}))
            else:
                out.append(((rating - 1) / 9, {"rating": rating}))
        return out

    def score(self, items: Sequence[ScoredResponse]) -> list[list[Reward]]:
        c = self.c
        seeking = self.fact_seeking.classify([it.prompt for it in items])
        nonempty = [it for it in items if not is_empty(it)]
        if_scores = dict(zip([it.response.id for it in nonempty], self.instruction_scores(nonempty), strict=True))
        out = []
        for it in items:
            fs = seeking[it.prompt.id]
            row = [make_reward(it, c.fact_seeking_name, 1.0 if fs else 0.0, {}, self.ctx.key)]
            if is_empty(it):
                row.append(no_score(it, self.ctx, c.instruction_name, "empty_responses"))
                row.append(make_reward(it, c.factuality_name, None, {"reason": "empty_responses"}, self.ctx.key))
                out.append(row)
                continue
            value, details = if_scores[it.response.id]
            row.append(make_reward(it, c.instruction_name, value, details, self.ctx.key))
            if not fs and c.factuality_for == "fact_seeking":
                row.append(make_reward(it, c.factuality_name, None, {"reason": "not_fact_seeking"}, self.ctx.key))
            else:
                verdicts = aligned_verdicts(it)
                counts = count_verdicts(verdicts)
                fval = factscore_reward(counts, c.gamma)
                fdet = {"supported": counts.supported, "claims": counts.claims,
                        "unsupported": counts.claims - counts.supported}
                if c.soft and fval is not None:
                    fval = soft_factscore(verdicts, self.ctx)
                if fval is None:
                    row.append(no_score(it, self.ctx, c.factuality_name, "abstentions", fdet))
                else:
                    row.append(make_reward(it, c.factuality_name, fval, fdet, self.ctx.key))
            out.append(row)
        return out


class FlameSFT:
    """FLAME SFT-fact data: the base model's own few-shot answer for fact-seeking instructions, the
    human ``reference`` response for the others."""

    class Config(GeneratorConfig):
        base: GeneratorRef = Field(description="the pre-trained model that answers fact-seeking instructions")
        judge: GeneratorRef | None = Field(None, description="generator asked whether an instruction is "
                                           "fact-seeking (give judge or classifier)")
        classifier: RewardRef | None = Field(None, description="a classifier component that labels instructions "
                                             "fact-seeking, e.g. rewards/fact-seeking (give judge or classifier)")
        use_prompt_meta: bool = True
        temperature: float = Field(0.0, ge=0.0, description="0 = greedy")
        top_p: float = Field(1.0, gt=0.0, le=1.0)
        max_new_tokens: int = Field(256, ge=1)
        missing_reference: str = Field("error", pattern="^(error|skip)$",
                                       description="a non-fact-seeking prompt without reference: error, or "
                                                   "skip (no response, counted)")

        @model_validator(mode="after")
        def _one_classifier(self) -> FlameSFT.Config:
            _one_classifier(self.judge, self.classifier)
            return self

    def __init__(self, config: Config, ctx: Context) -> None:
        if config.adapter:
            raise ConfigError("rewards/flame-sft cannot apply an adapter (evaluate the tuned model with its "
                              "base generator)", key=ctx.key_for("adapter"))
        self.c = config
        self.ctx = ctx
        self.base = build_sub(ctx, Generator, config.base, "base")
        self.model_name = f"flame-sft:{self.base.model_name}"
        judge = build_sub(ctx, Generator, config.judge, "judge") if config.judge is not None else None
        classifier = (build_sub(ctx, RewardCombiner, config.classifier, "classifier")
                      if config.classifier is not None else None)
        self.fact_seeking = FactSeeking(judge, ctx, config.use_prompt_meta, classifier)

    def generate(self, prompts: Sequence[Prompt], n: int | None = 1,
                 decoding: Decoding | None = None) -> list[list[Response]]:
        n = n or 1
        seeking = self.fact_seeking.classify(prompts)
        fact = [p for p in prompts if seeking[p.id]]
        stop = "\n\nQuestion:"
        d = Decoding(temperature=self.c.temperature, top_p=self.c.top_p, max_new_tokens=self.c.max_new_tokens,
                     stop=(stop,), chat=False, seed=decoding.seed if decoding is not None else None)
        own: dict[str, list[Response]] = {}
        if fact:
            asks = [Prompt(id=p.id, text=few_shot_answer_prompt(p.text), topic=p.topic) for p in fact]
            for p, rs in zip(fact, self.base.generate(asks, n=n, decoding=d), strict=True):
                own[p.id] = [Response(id=f"{p.id}/r{k}", prompt_id=p.id, text=r.text.split(stop, 1)[0].strip(),
                                      topic=p.topic, sample=k, model=self.base.model_name,
                                      completion_tokens=r.completion_tokens, finish_reason=r.finish_reason,
                                      meta={"source": "model", "fact_seeking": True})
                             for k, r in enumerate(rs)]
        out: list[list[Response]] = []
        for p in prompts:
            if p.id in own:
                out.append(own[p.id])
                continue
            if not p.reference:
                if self.c.missing_reference == "skip":
                    self.ctx.count("flame_sft_no_reference")
                    out.append([])
                    continue
                raise DataError(f"prompt '{p.id}' is not fact-seeking and has no reference (human) response: "
                                "give the prompt source a reference field, or set missing_reference = \"skip\"",
                                key=self.ctx.key_for("missing_reference") if self.ctx.key else None)
            self.ctx.count("flame_sft_human")
            out.append([Response(id=f"{p.id}/r{k}", prompt_id=p.id, text=p.reference, topic=p.topic, sample=k,
                                 model="human", meta={"source": "human", "fact_seeking": False})
                         for k in range(n)])
        return out

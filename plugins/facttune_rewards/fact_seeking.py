"""``rewards/fact-seeking``: FLAME's fact-seeking classifier as a fitted logistic model over the
instruction's sentence embedding (the packaged MiniLM), fitted on the training split of
recipes/data/flame (bench/flame_judges.py fits and measures it; docs/rewards.md has the figures).

Usable on its own in a ``[reward]`` table (reward ``fact_seeking`` = 1.0 / 0.0 per response, with
``details.p``), and as ``classifier`` of ``rewards/flame`` and ``rewards/flame-sft``.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from facttune_core import Context, Prompt, Reward, ScoredResponse, runtime_field

from .linear import ENCODER, Encoder, FittedLinear, Linear, recipe_base


class FactSeekingClassifier:
    """Fact-seeking or not, from a logistic model over the instruction's MiniLM embedding."""

    extras = ("dense",)

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        fitted: FittedLinear = Field("flame-fact-seeking", description="the fitted model: a packaged name or a "
                                     "facttune-linear/1 JSON file (bench/flame_judges.py --fit writes one)")
        threshold: float = Field(0.5, ge=0.0, le=1.0, description="fact-seeking iff P(fact-seeking) >= threshold")
        name: str = Field("fact_seeking", description="the reward's name")
        batch_size: int = runtime_field(32, ge=1)

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx
        self.model = Linear.load(config.fitted, recipe_base(ctx))
        self.encoder = Encoder(str(self.model.info.get("encoder") or ENCODER), ctx.key_for("fitted"),
                               config.batch_size)
        self._memo: dict[str, float] = {}

    def probabilities(self, texts: Sequence[str]) -> list[float]:
        """P(fact-seeking) per instruction (each distinct text embedded once)."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if todo:
            for t, vec in zip(todo, self.encoder.embed([t.strip() for t in todo]), strict=True):
                self._memo[t] = self.model.probability(vec)
        return [self._memo[t] for t in texts]

    def classify(self, prompts: Sequence[Prompt]) -> dict[str, bool]:
        """prompt id → fact-seeking (what rewards/flame's ``classifier`` asks)."""
        probs = self.probabilities([p.text for p in prompts])
        return {p.id: q >= self.c.threshold for p, q in zip(prompts, probs, strict=True)}

    def score(self, items: Sequence[ScoredResponse]) -> list[list[Reward]]:
        probs = self.probabilities([it.prompt.text for it in items])
        return [[Reward(response_id=it.response.id, prompt_id=it.prompt.id, name=self.c.name,
                        value=1.0 if q >= self.c.threshold else 0.0, details={"p": round(q, 4)})]
                for it, q in zip(items, probs, strict=True)]

"""Verdict-based rewards: FActScore (+γ), SAFE's F1@K, the Curious Case belief score."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from facttune_core import (
    ClaimCounts,
    ComponentError,
    Context,
    FactScoreRule,
    Reward,
    ScoredResponse,
    Verdict,
    count_verdicts,
    expected_factscore,
    f1_at_k,
    score_counts,
)

from .common import aligned_verdicts, is_empty, make_reward, no_score

Counts = ClaimCounts  # the core's count of a response's verdicts (facttune_core.claim_scores)

__all__ = ["BeliefReward", "Counts", "F1KReward", "FactScoreReward", "count_verdicts", "factscore_reward"]


def factscore_reward(counts: ClaimCounts, gamma: float, irrelevant: str = "unsupported") -> float | None:
    """FActScore of one response, by the core's one rule (``facttune_core.score_counts``): supported /
    claims (IR and undecided count as unsupported, or IR is left out with ``irrelevant="exclude"``),
    times exp(1 - γ/n) when n < γ; None with no claims."""
    return score_counts(counts, FactScoreRule(gamma=gamma, irrelevant=irrelevant)).factscore


class FactScoreReward:
    """FActScore: the supported fraction of a response's claims, with FactTune's γ length penalty."""

    needs = ("verdicts",)

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str = Field("factscore", min_length=1, description="the reward's name (pairs.reward)")
        gamma: float = Field(10.0, ge=0.0, description="length penalty: n < γ claims → × exp(1 − γ/n); 0 = off")
        irrelevant: Literal["unsupported", "exclude"] = Field(
            "unsupported", description="IR-labelled claims count as unsupported (FActScore) or are left out")
        soft: bool = Field(False, description="each claim counts its verdict's P(True) instead of 0/1: the expected "
                           "FActScore, which separates responses the hard count ties when few claims are supported")

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx

    def score_one(self, item: ScoredResponse) -> Reward:
        c = self.c
        if is_empty(item):
            return no_score(item, self.ctx, c.name, "empty_responses")
        counts = count_verdicts(aligned_verdicts(item))
        if counts.undecided:
            self.ctx.count("undecided_verdicts", counts.undecided)
        rule = FactScoreRule(gamma=c.gamma, irrelevant=c.irrelevant)
        rs = score_counts(counts, rule)
        details = {"supported": rs.supported, "claims": rs.claims, "unsupported": rs.unsupported,
                   "irrelevant": rs.irrelevant}
        if rs.factscore is None:
            return no_score(item, self.ctx, c.name, "abstentions", details)
        if c.gamma:
            details["unpenalized"] = rs.factscore_unpenalized
        value = rs.factscore
        if c.soft:
            details["hard"] = rs.factscore
            value = expected_factscore(aligned_verdicts(item), rule)
        return make_reward(item, c.name, value, details, self.ctx.key)

    def score(self, items: Sequence[ScoredResponse]) -> list[list[Reward]]:
        return [[self.score_one(it)] for it in items]


class F1KReward:
    """SAFE's F1@K: precision S/(S+NS) (IR left out), recall min(1, S/K)."""

    needs = ("verdicts",)

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str = Field("f1k", min_length=1)
        k: int = Field(64, ge=1, description="facts a response should state for full recall (SAFE: 64 = "
                                              "median facts per response; 178 = maximum)")

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx

    def score(self, items: Sequence[ScoredResponse]) -> list[list[Reward]]:
        out = []
        for item in items:
            if is_empty(item):
                out.append([no_score(item, self.ctx, self.c.name, "empty_responses")])
                continue
            counts = count_verdicts(aligned_verdicts(item))
            if counts.claims == 0:
                out.append([no_score(item, self.ctx, self.c.name, "abstentions")])
                continue
            if counts.undecided:
                self.ctx.count("undecided_verdicts", counts.undecided)
            ns = counts.not_supported + counts.undecided
            value = f1_at_k(counts.supported, ns, self.c.k)
            details = {"supported": counts.supported, "not_supported": ns, "irrelevant": counts.irrelevant,
                       "claims": counts.claims, "k": self.c.k,
                       "precision": counts.supported / (counts.supported + ns) if counts.supported + ns else 0.0,
                       "recall": min(1.0, counts.supported / self.c.k)}
            out.append([make_reward(item, self.c.name, value, details, self.ctx.key)])
        return out


class BeliefReward:
    """Curious Case: a response's belief score from its claims' P(True) (the model's own belief)."""

    needs = ("verdicts",)

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str = Field("belief", min_length=1)
        aggregate: Literal["mean", "min"] = "mean"
        missing_p_true: Literal["error", "use_supported"] = Field(
            "error", description="a verdict without p_true: error, or 1.0/0.0 from its supported flag")

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx

    def _p(self, v: Verdict) -> float:
        if v.p_true is None:
            if self.c.missing_p_true == "use_supported" and v.supported is not None:
                self.ctx.count("belief_p_true_from_supported")
                return 1.0 if v.supported else 0.0
            raise ComponentError(f"verdict of claim '{v.claim_id}' has no p_true: use a belief scorer such as "
                                 "hf/belief in [verify], or set missing_p_true = \"use_supported\"",
                                 key=self.ctx.key_for("missing_p_true"))
        p = float(v.p_true)
        if not math.isfinite(p) or not 0.0 <= p <= 1.0:
            raise ComponentError(f"verdict of claim '{v.claim_id}' has p_true = {v.p_true}: not a probability",
                                 key=self.ctx.key or None)
        return p

    def score(self, items: Sequence[ScoredResponse]) -> list[list[Reward]]:
        out = []
        for item in items:
            if is_empty(item):
                out.append([no_score(item, self.ctx, self.c.name, "empty_responses")])
                continue
            ps = [self._p(v) for v in aligned_verdicts(item)]
            if not ps:
                out.append([no_score(item, self.ctx, self.c.name, "abstentions")])
                continue
            value = min(ps) if self.c.aggregate == "min" else sum(ps) / len(ps)
            out.append([make_reward(item, self.c.name, value,
                                    {"claims": len(ps), "aggregate": self.c.aggregate, "p_true": ps},
                                    self.ctx.key)])
        return out

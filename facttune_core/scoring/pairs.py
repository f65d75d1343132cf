"""Rewards → preference pairs or SFT examples (FactTune, FLAME, Curious Case: see the modes below).

Modes:
- ``all_pairs`` (FactTune): every i < j among a prompt's responses whose rewards differ by more
  than ``min_margin`` (ties dropped); the higher is chosen.
- ``max_min``: best vs worst per prompt (if they differ by more than ``min_margin``).
- ``weighted``: reward = Σ weight·reward over ``weights``, then the ``all_pairs`` rule.
- ``flame``: best vs worst by the instruction-following reward for every prompt, plus best vs
  worst by the factuality reward for fact-seeking prompts only; the union. A prompt is
  fact-seeking when the ``fact_seeking_flag`` reward is truthy for one of its responses (or, when
  the reward stage emits no such reward, when one of its responses has a factuality reward).
- ``sft``: every response is an SFT example (FLAME SFT-fact data, gold data baselines).
- ``sft_filter`` (Curious Case): keep responses whose reward ≥ ``threshold`` and/or the top
  ``top_fraction`` per prompt, as SFT examples.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..contract.errors import DataError
from ..contract.records import Pair, Prompt, Response, Reward, SFTExample

PairMode = Literal["all_pairs", "max_min", "weighted", "flame", "sft", "sft_filter"]


class PairsConfig(BaseModel):
    """The ``[pairs]`` table."""

    model_config = ConfigDict(extra="forbid")
    mode: PairMode = "all_pairs"
    reward: str = "factscore"
    min_margin: float = Field(0.0, ge=0.0)
    weights: dict[str, float] = Field(default_factory=dict)
    instruction_reward: str = "instruction"
    factuality_reward: str = "factuality"
    fact_seeking_flag: str = "fact_seeking"
    threshold: float | None = None
    top_fraction: float | None = Field(None, gt=0.0, le=1.0)
    max_pairs_per_prompt: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _check(self) -> PairsConfig:
        if self.mode == "weighted" and not self.weights:
            raise ValueError("mode 'weighted' needs weights, e.g. {factuality = 1.0, instruction = 0.5}")
        if self.mode == "sft_filter" and self.threshold is None and self.top_fraction is None:
            raise ValueError("mode 'sft_filter' needs threshold and/or top_fraction")
        return self


class Selection:
    """What the pairs stage produced, with the counts the manifest records."""

    def __init__(self) -> None:
        self.pairs: list[Pair] = []
        self.sft: list[SFTExample] = []
        self.counts: Counter[str] = Counter()


def reward_table(rewards: Sequence[Reward]) -> dict[str, dict[str, float | None]]:
    """name → response_id → value. NaN/inf are errors, not silent numbers."""
    table: dict[str, dict[str, float | None]] = defaultdict(dict)
    for r in rewards:
        if r.value is not None and not math.isfinite(r.value):
            raise DataError(f"reward '{r.name}' of response '{r.response_id}' is {r.value}: not a number")
        table[r.name][r.response_id] = r.value
    return table


def build(config: PairsConfig, prompts: Sequence[Prompt], responses: Sequence[Response],
          rewards: Sequence[Reward]) -> Selection:
    table = reward_table(rewards)
    needed = _needed_rewards(config) if config.mode != "sft" else []
    missing = [n for n in needed if n not in table]
    if missing:
        known = ", ".join(sorted(table)) or "none"
        raise DataError(f"reward '{missing[0]}' was not produced by the reward stage (produced: {known})",
                        key="pairs.reward" if config.mode not in ("weighted", "flame") else "pairs")
    by_prompt: dict[str, list[Response]] = defaultdict(list)
    for r in responses:
        by_prompt[r.prompt_id].append(r)
    prompt_of = {p.id: p for p in prompts}
    sel = Selection()
    for pid, group in by_prompt.items():
        group = sorted(group, key=lambda r: (r.sample, r.id))
        prompt = prompt_of.get(pid)
        if prompt is None:
            raise DataError(f"response '{group[0].id}' names prompt '{pid}', which the data does not have")
        if config.mode == "sft":
            for r in group:
                sel.sft.append(SFTExample(id=r.id, prompt_id=prompt.id, prompt=prompt.text, completion=r.text,
                                          source=str(r.meta.get("source", "model"))))
            continue
        if config.mode == "sft_filter":
            _sft(config, prompt, group, table[config.reward], sel)
            continue
        if config.mode == "flame":
            pairs = _extreme(prompt, group, table[config.instruction_reward], config, sel,
                             config.instruction_reward)
            flags = table.get(config.fact_seeking_flag)
            if flags is not None:
                seeking = any(bool(flags.get(r.id)) for r in group)
            else:  # no flag reward: a prompt is fact-seeking when it has factuality rewards
                seeking = any(table[config.factuality_reward].get(r.id) is not None for r in group)
            if seeking:
                sel.counts["fact_seeking_prompts"] += 1
                pairs += _extreme(prompt, group, table[config.factuality_reward], config, sel,
                                  config.factuality_reward)
        else:
            if config.mode == "weighted":
                values = {r.id: _weighted(config.weights, table, r.id) for r in group}
                name = "weighted"
            else:
                values, name = table[config.reward], config.reward
            if config.mode == "max_min":
                pairs = _extreme(prompt, group, values, config, sel, name)
            else:
                pairs = _all_pairs(prompt, group, values, config, sel, name)
        if config.max_pairs_per_prompt is not None and len(pairs) > config.max_pairs_per_prompt:
            pairs = sorted(pairs, key=lambda p: -p.margin)[: config.max_pairs_per_prompt]
        seen = set()
        for p in pairs:
            k = (p.chosen_id, p.rejected_id)
            if k in seen:
                sel.counts["duplicate_pairs"] += 1
                continue
            seen.add(k)
            sel.pairs.append(p)
            sel.counts[f"pairs_{p.reward}"] += 1
    sel.counts["pairs"] = len(sel.pairs)
    sel.counts["sft_examples"] = len(sel.sft)
    sel.counts["prompts"] = len(by_prompt)
    return sel


def _needed_rewards(c: PairsConfig) -> list[str]:
    if c.mode == "flame":
        return [c.instruction_reward, c.factuality_reward]
    if c.mode == "weighted":
        return list(c.weights)
    return [c.reward]


def _weighted(weights: dict[str, float], table: dict[str, dict[str, float | None]], rid: str) -> float | None:
    total = 0.0
    for name, w in weights.items():
        v = table[name].get(rid)
        if v is None:
            return None
        total += w * v
    return total


def _scored(group: list[Response], values: dict[str, float | None], sel: Selection) -> list[tuple[Response, float]]:
    out = []
    for r in group:
        v = values.get(r.id)
        if v is None:
            sel.counts["skipped_no_reward"] += 1
            continue
        out.append((r, float(v)))
    return out


def _pair(prompt: Prompt, a: tuple[Response, float], b: tuple[Response, float], name: str) -> Pair:
    (ca, va), (cb, vb) = (a, b) if a[1] > b[1] else (b, a)
    return Pair(id=f"{prompt.id}/{name}/{ca.sample}>{cb.sample}", prompt_id=prompt.id, prompt=prompt.text,
                chosen=ca.text, rejected=cb.text, chosen_id=ca.id, rejected_id=cb.id, reward=name,
                chosen_reward=va, rejected_reward=vb)


def _all_pairs(prompt: Prompt, group: list[Response], values: dict[str, float | None], c: PairsConfig,
               sel: Selection, name: str) -> list[Pair]:
    scored = _scored(group, values, sel)
    out = []
    for i in range(len(scored)):
        for j in range(i + 1, len(scored)):
            if abs(scored[i][1] - scored[j][1]) > c.min_margin:
                out.append(_pair(prompt, scored[i], scored[j], name))
            else:
                sel.counts["dropped_ties"] += 1
    return out


def _extreme(prompt: Prompt, group: list[Response], values: dict[str, float | None], c: PairsConfig,
             sel: Selection, name: str) -> list[Pair]:
    scored = _scored(group, values, sel)
    if len(scored) < 2:
        return []
    best = max(scored, key=lambda t: t[1])
    worst = min(scored, key=lambda t: t[1])
    if best[1] - worst[1] <= c.min_margin:
        sel.counts["dropped_ties"] += 1
        return []
    return [_pair(prompt, best, worst, name)]


def _sft(c: PairsConfig, prompt: Prompt, group: list[Response], values: dict[str, float | None],
         sel: Selection) -> None:
    scored = sorted(_scored(group, values, sel), key=lambda t: -t[1])
    keep = scored
    if c.top_fraction is not None:
        keep = keep[: max(1, math.ceil(c.top_fraction * len(scored)))] if scored else []
    if c.threshold is not None:
        keep = [t for t in keep if t[1] >= c.threshold]
    sel.counts["sft_dropped"] += len(scored) - len(keep)
    for r, v in keep:
        sel.sft.append(SFTExample(id=r.id, prompt_id=prompt.id, prompt=prompt.text, completion=r.text,
                                  source=str(r.meta.get("source", "model")), score=v))

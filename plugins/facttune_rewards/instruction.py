"""``rewards/instruction-following``: an instruction-following reward from a few measurable features
of a response to its instruction, weighted by a linear model fitted on labelled pairs (which of two
responses follows the instruction better; recipes/data/flame/if_pairs.jsonl, bench/flame_judges.py).

Features (each a number per response; only differences between two responses to the same
instruction matter, so the weights are a Bradley-Terry fit):
- ``on_topic``: cosine of the instruction's and the response's sentence embeddings (packaged MiniLM);
- ``complete``: 1 when the response ended by itself, 0 when it was cut at the token limit;
- ``repetition``: the share of repeated word trigrams;
- ``form``: how well the response keeps the form the instruction asks for (a count of lines,
  sentences, words or list items; a poem's lines; code), 1 when it asks for none (``form_score``);
- ``log_words``: log(1 + words);
- ``fluency``: the mean log-probability per token of the response given the instruction under a
  small LM (fluency.py).
The fitted file names the features it weighs (a subset); every feature is reported in the details.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from facttune_core import ConfigError, Context, Reward, ScoredResponse, repeated_share, runtime_field

from .fluency import Fluency
from .linear import ENCODER, Encoder, FittedLinear, Linear, recipe_base

FEATURES = ("on_topic", "complete", "repetition", "form", "log_words", "fluency")

NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
           "ten": 10, "a single": 1, "single": 1}
_NUM = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|a single|single)"
CODE_WORDS = re.compile(r"\b(python|sql|javascript|bash|css|html|regular expression|regex|git command|json|"
                        r"list comprehension|function)\b", re.I)
CODE_MARKS = re.compile(r"(\bdef |\breturn\b|SELECT |\bfunction\b|[{};=]|</?\w+>|\bgit |\bwc |\^|\\d|"
                        r"\bfor \w+ in\b|print\(|\bimport\b)")
NOT_ITEMS = r"(?!sentence|line|word|hours?|minutes?|days?|weeks?|years?|times|people|towels)"
ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+\S", re.M)


@dataclass(frozen=True)
class Form:
    """The form an instruction asks for: a count of ``unit`` (lines / sentences / words / items) with
    ``exact`` or at-most semantics, and whether it asks for code."""

    unit: str | None = None
    count: int | None = None
    exact: bool = True
    code: bool = False


def _n(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS[word.lower()]


def asked_form(instruction: str) -> Form:
    """Read the form an instruction asks for (None of it when it asks for no particular form)."""
    t = instruction.lower()
    code = bool(CODE_WORDS.search(t)) and not re.search(r"\bexplain\b|\bwhat does\b|\bbug\b", t)
    if "haiku" in t:
        return Form("lines", 3, True, code)
    if "limerick" in t:
        return Form("lines", 5, True, code)
    if m := re.search(rf"\b(?:under|no more than|at most|fewer than|less than|not more than) {_NUM} (words|lines|"
                      rf"sentences)\b", t):
        return Form(m.group(2), _n(m.group(1)), False, code)
    if re.search(r"\bbullet(?:ed)? list\b|\bnumbered list\b|\bas a list\b|\bshort list\b", t):
        return Form("items", None, True, code)
    if m := re.search(rf"\b{_NUM}[- ](word|line|sentence)\b(?! each)", t):
        return Form(m.group(2) + "s", _n(m.group(1)), True, code)
    if m := re.search(rf"\b(?:in|exactly) {_NUM} (words|lines|sentences|sentence)\b", t):
        return Form(m.group(2).rstrip("s") + "s", _n(m.group(1)), True, code)
    if m := re.search(rf"\b(?:list|give me|suggest|brainstorm|name)\b[^.?!]*?\b{_NUM} {NOT_ITEMS}\w+", t):
        return Form("items", _n(m.group(1)), True, code)
    return Form(code=code)


def count(text: str, unit: str) -> int:
    if unit == "words":
        return len(re.findall(r"[\w'’-]+", text))
    if unit == "lines":
        return len([x for x in text.splitlines() if x.strip()])
    if unit == "items":  # bulleted or numbered lines, else the parts of a one- or two-line comma list
        items = len(ITEM.findall(text))
        lines = [x for x in text.splitlines() if x.strip()]
        return items if items >= 2 or len(lines) > 2 else len([x for x in re.split(r"[,;]", text) if x.strip()])
    return len([s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if re.search(r"\w", s)])


def form_score(instruction: str, response: str) -> float:
    """1 when the response keeps the asked form (or none is asked); less the further it is from it."""
    f = asked_form(instruction)
    parts = []
    if f.unit is not None:
        have = count(response, f.unit)
        if f.count is None:
            parts.append(1.0 if have >= 2 else 0.0)
        elif f.exact:
            parts.append(max(0.0, 1.0 - abs(have - f.count) / f.count))
        else:
            parts.append(1.0 if 0 < have <= f.count else max(0.0, 1.0 - (have - f.count) / f.count) if have else 0.0)
    if f.code:
        parts.append(1.0 if CODE_MARKS.search(response) else 0.0)
    return sum(parts) / len(parts) if parts else 1.0


def repetition(text: str) -> float:
    """The share of repeated word trigrams (facttune_core's ``repeated_share`` at n = 3)."""
    return repeated_share(text, 3)


def text_features(instruction: str, response: str, finish_reason: str | None) -> list[float]:
    """Every feature but ``on_topic`` and ``fluency`` (which need models), in FEATURES order, 0 in their place."""
    words = len(re.findall(r"\w+", response))
    return [0.0, 0.0 if finish_reason == "length" else 1.0, repetition(response), form_score(instruction, response),
            math.log1p(words), 0.0]


def features(encoder: Encoder, fluency: Fluency | None, items: Sequence[ScoredResponse]) -> list[list[float]]:
    """FEATURES of each response (an empty one: on_topic 0; without a fluency model: fluency 0)."""
    prompts = list(dict.fromkeys(it.prompt.text for it in items))
    texts = [it.response.text for it in items]
    vecs = encoder.embed([p.strip() for p in prompts] + [t.strip() or "." for t in texts])
    pv = dict(zip(prompts, vecs[:len(prompts)], strict=True))
    lp = fluency.score([it.prompt.text for it in items], texts) if fluency is not None else [0.0] * len(items)
    out = []
    for it, rv, flu in zip(items, vecs[len(prompts):], lp, strict=True):
        f = text_features(it.prompt.text, it.response.text, it.response.finish_reason)
        f[0] = sum(a * b for a, b in zip(pv[it.prompt.text], rv, strict=True)) if it.response.text.strip() else 0.0
        f[5] = flu
        out.append(f)
    return out


class InstructionFollowing:
    """Instruction-following reward: a fitted linear score of on-topic similarity, completeness,
    repetition, asked form and length (docs/rewards.md has what it was measured at)."""

    extras = ("dense",)

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        fitted: FittedLinear = Field("flame-instruction-following", description="the fitted weights: a packaged "
                                     "name or a facttune-linear/1 JSON file (bench/flame_judges.py --fit writes one)")
        name: str = Field("instruction", description="the reward's name")
        fluency_model: str = Field("smollm2-135m-instruct", description="the causal LM of the fluency feature "
                                   "(packaged alias, hub id or local folder)")
        batch_size: int = runtime_field(32, ge=1)

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx
        self.model = Linear.load(config.fitted, recipe_base(ctx))
        unknown = [f for f in self.model.features if f not in FEATURES]
        if not self.model.features or unknown:
            raise ConfigError(f"{self.model.where} weighs features {self.model.features}; this reward computes "
                              f"{list(FEATURES)}", key=ctx.key_for("fitted"))
        self.pick = [FEATURES.index(f) for f in self.model.features]
        self.encoder = Encoder(str(self.model.info.get("encoder") or ENCODER), ctx.key_for("fitted"),
                               config.batch_size)
        self.fluency = (Fluency(config.fluency_model, ctx.cache, ctx.key_for("fluency_model"))
                        if "fluency" in self.model.features else None)

    def features(self, items: Sequence[ScoredResponse]) -> list[list[float]]:
        return features(self.encoder, self.fluency, items)

    def score(self, items: Sequence[ScoredResponse]) -> list[list[Reward]]:
        rows = []
        for it, f in zip(items, self.features(items), strict=True):
            if not it.response.text.strip():  # an empty response follows nothing: the lowest reward
                rows.append([Reward(response_id=it.response.id, prompt_id=it.prompt.id, name=self.c.name, value=0.0,
                                    details={"reason": "empty"})])
                continue
            value = self.model.probability([f[i] for i in self.pick])
            rows.append([Reward(response_id=it.response.id, prompt_id=it.prompt.id, name=self.c.name, value=value,
                                details={k: round(v, 4) for k, v in zip(FEATURES, f, strict=True)})])
        return rows

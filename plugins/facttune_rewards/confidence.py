"""FactTune's reference-free confidence rewards (Tian et al. 2024): AQ and NE.

Both sample from the policy model through a generator sub-component, so no model code lives here.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from facttune_core import (
    ComponentError,
    ConfigError,
    Context,
    Decoding,
    Generator,
    Prompt,
    Reward,
    ScoredResponse,
    load_spacy,
)

from .common import GeneratorRef, build_sub, is_empty, make_reward, mean, no_score
from .prompts import answer_prompt, parse_question, question_prompt

Measure = Literal["max_conf", "exp_conf", "neg_ent"]

# ---------------------------------------------------------------------------- answer equivalence

_ARTICLES = {"a", "an", "the"}
_LEADING = {"in", "on", "at", "by", "from", "of", "to", "for", "with", "as"}
_PUNCT = re.compile(r"[^\w\s]")
_POSSESSIVE = re.compile(r"['’]s\b")


def normalize_answer(text: str) -> str:
    """Lower case, accents and punctuation removed, articles dropped, spaces collapsed."""
    t = unicodedata.normalize("NFKD", text.casefold())
    t = "".join(ch for ch in t if not unicodedata.combining(ch))
    t = _PUNCT.sub(" ", _POSSESSIVE.sub("", t))
    return " ".join(w for w in t.split() if w not in _ARTICLES)


def stem(word: str) -> str:
    """Strip a plural / possessive suffix: trumpets → trumpet, cities → city, bosses → boss."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("es") and word[:-2].endswith(("s", "x", "z", "ch", "sh")) and len(word) > 4:
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def answer_words(text: str) -> list[str]:
    """Normalised, stemmed words (a leading preposition dropped: "in 1961" ~ "1961")."""
    words = [stem(w) for w in normalize_answer(text).split()]
    while len(words) > 1 and words[0] in _LEADING:
        words = words[1:]
    return words


def answer_key(text: str) -> frozenset[str]:
    """Two answers are equivalent iff their keys are equal: same set of normalised, stemmed words
    (so case, punctuation, articles, word order, plural/possessive suffixes do not matter)."""
    return frozenset(answer_words(text))


def equivalence_classes(answers: Sequence[str]) -> list[int]:
    """Class sizes, largest first. An empty answer is a class of its own (a non-answer agrees with
    nothing, not even another non-answer)."""
    keyed: Counter[frozenset[str]] = Counter()
    singles = 0
    for a in answers:
        k = answer_key(a)
        if k:
            keyed[k] += 1
        else:
            singles += 1
    return sorted(list(keyed.values()) + [1] * singles, reverse=True)


def confidence(sizes: Sequence[int], measure: Measure) -> float:
    """max_conf = max p; exp_conf = Σ p²; neg_ent = Σ p log p (≤ 0; 0 = all answers agree)."""
    n = sum(sizes)
    if n <= 0:
        raise ValueError("no answers")
    ps = [s / n for s in sizes if s > 0]
    if measure == "max_conf":
        return max(ps)
    if measure == "exp_conf":
        return sum(p * p for p in ps)
    if measure == "neg_ent":
        return sum(p * math.log(p) for p in ps)
    raise ValueError(f"unknown measure '{measure}'")


def first_line(text: str) -> str:
    return text.split("\n", 1)[0].strip()


# ---------------------------------------------------------------------------- AQ


class AQReward:
    """FactTune AQ: claim → question (judge); answers sampled from the policy; agreement per claim."""

    needs = ("claims",)

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str = Field("aq", min_length=1)
        measure: Measure = "max_conf"
        question_generator: GeneratorRef = Field(
            description="judge that turns a claim into a question (greedy, plain few-shot prompt)")
        answer_generator: GeneratorRef = Field(description="the POLICY model being tuned (samples answers)")
        n_samples: int = Field(20, ge=2)
        temperature: float = Field(1.0, gt=0.0)
        top_p: float = Field(0.9, gt=0.0, le=1.0)
        max_new_tokens: int = Field(15, ge=1)
        question_max_new_tokens: int = Field(48, ge=4)

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx
        self.qgen = build_sub(ctx, Generator, config.question_generator, "question_generator")
        self.agen = build_sub(ctx, Generator, config.answer_generator, "answer_generator")

    def questions(self, items: Sequence[ScoredResponse]) -> dict[str, str | None]:
        """claim id → question (None when the judge wrote none)."""
        prompts = []
        for it in items:
            for c in it.claims:
                topic = c.topic or it.prompt.topic or it.response.topic
                prompts.append(Prompt(id=f"{c.id}/q", text=question_prompt(c.text, topic), topic=topic))
        if not prompts:
            return {}
        d = Decoding(temperature=0.0, top_p=1.0, max_new_tokens=self.c.question_max_new_tokens, stop=("\n",),
                     chat=False)
        out = self.qgen.generate(prompts, n=1, decoding=d)
        return {p.id[:-2]: parse_question(rs[0].text) if rs else None for p, rs in zip(prompts, out, strict=True)}

    def answers(self, questions: Sequence[str]) -> dict[str, list[str]]:
        uniq = list(dict.fromkeys(questions))
        if not uniq:
            return {}
        prompts = [Prompt(id=f"aq{i}", text=answer_prompt(q)) for i, q in enumerate(uniq)]
        d = Decoding(temperature=self.c.temperature, top_p=self.c.top_p, max_new_tokens=self.c.max_new_tokens,
                     stop=("\n",), chat=False)
        out = self.agen.generate(prompts, n=self.c.n_samples, decoding=d)
        return {q: [first_line(r.text) for r in rs] for q, rs in zip(uniq, out, strict=True)}

    def score(self, items: Sequence[ScoredResponse]) -> list[list[Reward]]:
        c = self.c
        qs = self.questions(items)
        missing = sum(1 for q in qs.values() if q is None)
        if missing:
            self.ctx.count("aq_no_question", missing)
        answers = self.answers([q for q in qs.values() if q])
        out = []
        for it in items:
            if is_empty(it):
                out.append([no_score(it, self.ctx, c.name, "empty_responses")])
                continue
            if not it.claims:
                out.append([no_score(it, self.ctx, c.name, "abstentions")])
                continue
            per_claim: list[float] = []
            for cl in it.claims:
                q = qs.get(cl.id)
                if not q:
                    continue
                samples = answers[q]
                self.ctx.count("aq_empty_answers", sum(1 for a in samples if not answer_key(a)))
                per_claim.append(confidence(equivalence_classes(samples), c.measure))
            if not per_claim:
                out.append([no_score(it, self.ctx, c.name, "aq_no_questions", {"claims": len(it.claims)})])
                continue
            value = mean(per_claim)
            out.append([make_reward(it, c.name, value, {"measure": c.measure, "claims": len(it.claims),
                                                        "scored_claims": len(per_claim), "per_claim": per_claim},
                                    self.ctx.key)])
        return out


# ---------------------------------------------------------------------------- NE

_PRONOUNS = {"i", "me", "my", "mine", "we", "us", "our", "ours", "you", "your", "yours", "he", "him", "his",
             "she", "her", "hers", "it", "its", "they", "them", "their", "theirs", "this", "that", "these",
             "those", "who", "whom", "whose", "which", "what", "one", "someone", "something", "himself",
             "herself", "itself", "themselves"}

def _is_pronoun_like(span: Any) -> bool:
    words = [t.lower_ for t in span if not t.is_punct]
    if not words:
        return True
    if span.root.pos_ == "PRON" or span.root.lower_ in _PRONOUNS:
        return True
    return all(w in _PRONOUNS or w in _ARTICLES for w in words)


def find_spans(nlp: Any, text: str, topic: str | None, kinds: str) -> list[tuple[int, int, str]]:
    """(start_char, end_char, text) of the entities / noun chunks to test, in text order, without the
    subject (the topic or part of its name), chunks that hold a sentence root, and pronoun-like ones."""
    doc = nlp(text)
    topic_words = set(normalize_answer(topic or "").split())
    spans: list[Any] = []
    if kinds in ("entities", "both"):
        spans += list(doc.ents)
    if kinds in ("noun_chunks", "both"):
        spans += list(doc.noun_chunks)
    seen: set[tuple[int, int]] = set()
    out = []
    for sp in sorted(spans, key=lambda s: (s.start_char, -s.end_char)):
        if any(sp.start_char < e and s < sp.end_char for s, e in seen):
            continue  # overlaps one already kept (entity inside a noun chunk)
        words = set(normalize_answer(sp.text).split())
        if not words or (topic_words and words <= topic_words):
            continue
        if any(t.dep_ == "ROOT" for t in sp) or _is_pronoun_like(sp):
            continue
        seen.add((sp.start_char, sp.end_char))
        out.append((sp.start_char, sp.end_char, sp.text))
    return out


def agrees(sample: str, entity: str) -> bool:
    """The sample starts with the entity (normalised, stemmed words; extra words after it are fine)."""
    ew, sw = answer_words(entity), answer_words(first_line(sample))
    return bool(ew) and sw[: len(ew)] == ew


class NEReward:
    """FactTune NE: resample each entity of the response from its prefix; agreement, mean per response."""

    extras = ("spacy",)

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str = Field("ne", min_length=1)
        generator: GeneratorRef = Field(description="the POLICY model being tuned (continues the prefix)")
        spans: Literal["entities", "noun_chunks", "both"] = "entities"
        n_samples: int = Field(20, ge=1)
        temperature: float = Field(1.0, gt=0.0)
        top_p: float = Field(1.0, gt=0.0, le=1.0)
        prefix_template: str = Field("{prompt}\n{response}", description="prompt + response up to the entity")
        chars_per_token: float = Field(3.0, gt=0.0, description="token length estimate when the generator "
                                                                 "has no count_tokens(text)")
        extra_tokens: int = Field(1, ge=0, description="added to the budget: a sample cut short never "
                                                       "agrees, a longer one still can")
        max_spans: int | None = Field(None, ge=1, description="test at most this many spans per response")
        spacy_model: str | None = Field(None, description="default: the first installed English pipeline")

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx
        if "{prompt}" not in config.prefix_template or "{response}" not in config.prefix_template:
            raise ConfigError("prefix_template must contain {prompt} and {response}",
                              key=ctx.key_for("prefix_template"))
        self.gen = build_sub(ctx, Generator, config.generator, "generator")
        self._nlp: Any = None
        self.spacy_name: str | None = None
        if config.spacy_model:  # fail early on a named model that is missing: a config error
            try:
                self._nlp, self.spacy_name = load_spacy(config.spacy_model, ("lemmatizer",), ctx.key_for("spacy_model"))
            except ComponentError as err:
                raise ConfigError(err.message, key=err.key) from None

    def _spacy(self) -> Any:
        if self._nlp is None:
            self._nlp, self.spacy_name = load_spacy(self.c.spacy_model, ("lemmatizer",), self.ctx.key_for("spacy_model"))
        return self._nlp

    def spans(self, items: Sequence[ScoredResponse]) -> list[list[tuple[int, int, str]]]:
        self._spacy()
        inputs = [{"text": it.response.text, "topic": it.prompt.topic or it.response.topic} for it in items]

        def run(batch: list[dict[str, Any]]) -> list[list[list[Any]]]:
            nlp = self._spacy()
            return [[list(s) for s in find_spans(nlp, x["text"], x["topic"], self.c.spans)] for x in batch]

        rows = self.ctx.cache.map("rewards/ne-spans", self.spacy_name, inputs, {"spans": self.c.spans, "v": 1}, run)
        return [[(int(s), int(e), str(t)) for s, e, t in r] for r in rows]

    def token_budget(self, entity: str) -> int:
        counter = getattr(self.gen, "count_tokens", None)
        if callable(counter):
            n = int(counter(entity))
        else:
            n = math.ceil(len(" " + entity) / self.c.chars_per_token)  # with the leading space
        return max(1, n) + self.c.extra_tokens

    def score(self, items: Sequence[ScoredResponse]) -> list[list[Reward]]:
        c = self.c
        spans = self.spans(items)
        # (item index, span) per generation, grouped by token budget (one call per budget)
        jobs: dict[int, list[tuple[int, int, str, Prompt]]] = {}
        for i, (it, sps) in enumerate(zip(items, spans, strict=True)):
            if c.max_spans is not None:
                sps = sps[: c.max_spans]
            for j, (s, _e, text) in enumerate(sps):
                prefix = c.prefix_template.format(prompt=it.prompt.text, response=it.response.text[:s]).rstrip()
                p = Prompt(id=f"{it.response.id}/e{j}", text=prefix, topic=it.prompt.topic)
                jobs.setdefault(self.token_budget(text), []).append((i, j, text, p))
        agreement: dict[tuple[int, int], float] = {}
        for budget, group in sorted(jobs.items()):
            d = Decoding(temperature=c.temperature, top_p=c.top_p, max_new_tokens=budget, chat=False)
            outs = self.gen.generate([g[3] for g in group], n=c.n_samples, decoding=d)
            for (i, j, text, _p), rs in zip(group, outs, strict=True):
                agreement[(i, j)] = sum(1 for r in rs if agrees(r.text, text)) / max(1, len(rs))
        out = []
        for i, (it, sps) in enumerate(zip(items, spans, strict=True)):
            if is_empty(it):
                out.append([no_score(it, self.ctx, c.name, "empty_responses")])
                continue
            vals = [agreement[(i, j)] for j in range(len(sps)) if (i, j) in agreement]
            if not vals:
                out.append([no_score(it, self.ctx, c.name, "ne_no_entities")])
                continue
            ents = [t for _s, _e, t in sps][: len(vals)]
            out.append([make_reward(it, c.name, mean(vals), {"entities": ents, "per_entity": vals},
                                    self.ctx.key)])
        return out

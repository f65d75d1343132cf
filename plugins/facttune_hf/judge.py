"""True/False logit reads: ``hf/true-false`` (with evidence) and ``hf/belief`` (the model's own view).

P(True) = softmax over two sides of the next-token logits after ``Output:``: logsumexp over every
first token of "True"/"true"/"TRUE" (with and without a leading space) against the same for
"False". One forward pass per claim batch, no generation.

Throughput: claims about one topic share their evidence, so their prompts share a prefix (task line
+ passages, in a canonical order). The prefix's KV cache is computed once per group; each batch of
claims then runs only its suffix (``Input: <claim> True or False?\\nOutput:``, ~20 tokens) against
a copy of that cache expanded across the batch, right padded (pads come after the last real token,
so no row attends to them).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from facttune_core import (
    FALSE_WORDS,
    TRUE_WORDS,
    Claim,
    Context,
    Evidence,
    Passage,
    Verdict,
    belief_prefix,
    runtime_field,
    verify_prefix,
    verify_suffix,
)

from .decode import cache_kwarg, cache_of
from .generate import Loader, ModelFields, model_key
from .models import Loaded

SPLIT = "\u241e"  # a sentinel between prefix and suffix when a chat template wraps the prompt


def first_token_ids(tok: Any, words: Sequence[str]) -> set[int]:
    ids: set[int] = set()
    for w in words:
        for form in {w, w.lower(), w.upper(), w.capitalize()}:
            for pre in ("", " "):
                t = tok(pre + form, add_special_tokens=False)["input_ids"]
                if t:
                    ids.add(int(t[0]))
    return ids


def true_false_ids(tok: Any) -> tuple[list[int], list[int]]:
    """First-token ids of every True / False variant; ids on both sides (a bare space) are dropped."""
    t, f = first_token_ids(tok, TRUE_WORDS), first_token_ids(tok, FALSE_WORDS)
    both = t & f
    return sorted(t - both), sorted(f - both)


def p_true_from_logits(logits: Any, t_ids: Sequence[int], f_ids: Sequence[int]) -> list[float]:
    """(batch, vocab) logits → P(True) per row, from logsumexp of each side's variants."""
    import torch

    lg = logits.float()
    lt = torch.logsumexp(lg[:, list(t_ids)], dim=-1)
    lf = torch.logsumexp(lg[:, list(f_ids)], dim=-1)
    return torch.sigmoid(lt - lf).tolist()


def read_last(lm: Loaded, last: Any, t_ids: Sequence[int], f_ids: Sequence[int], **inputs: Any) -> list[float]:
    """One forward pass; P(True) at position ``last[i]`` of each row. Only the True/False rows of
    the output head are multiplied (Gemma's head is 262k x 640: the full logits would cost more than
    the transformer body for short suffixes)."""
    import torch

    model = lm.model
    head = model.get_output_embeddings()
    lora_head = any("lora" in n for n, _ in head.named_modules()) if head is not None else True
    b = inputs["input_ids"].shape[0]
    rows = torch.arange(b, device=inputs["input_ids"].device)
    if isinstance(head, torch.nn.Linear) and not lora_head and hasattr(model, "get_decoder"):
        hidden = model.get_decoder()(**inputs).last_hidden_state[rows, last]
        cols = torch.tensor(list(t_ids) + list(f_ids), device=hidden.device)
        logits = hidden.float() @ head.weight[cols].float().T
        if head.bias is not None:
            logits = logits + head.bias[cols].float()
        cfg = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
        cap = getattr(cfg, "final_logit_softcapping", None)
        if cap:
            logits = torch.tanh(logits / cap) * cap
        nt = len(t_ids)
        lt, lf = torch.logsumexp(logits[:, :nt], -1), torch.logsumexp(logits[:, nt:], -1)
        return torch.sigmoid(lt - lf).tolist()
    logits = model(**inputs).logits[rows, last]
    return p_true_from_logits(logits, t_ids, f_ids)


@dataclass
class Split:
    """A judge prompt as token ids: ``prefix`` (shared) + ``suffix`` (per claim)."""

    prefix: list[int]
    suffix: list[int]


def split_prompt(lm: Loaded, prefix: str, suffix: str, chat: bool) -> tuple[str, str]:
    """Render (prefix, suffix) as model text; with a chat template the user turn holds both and the
    template's head goes to the prefix, its tail (assistant header) to the suffix."""
    if not chat:
        return prefix, suffix
    rendered = lm.tokenizer.apply_chat_template([{"role": "user", "content": prefix + SPLIT + suffix}],
                                                add_generation_prompt=True, tokenize=False)
    head, _, tail = rendered.partition(SPLIT)
    return head, tail


def encode_split(lm: Loaded, prefix: str, suffix: str, chat: bool) -> Split:
    tok = lm.tokenizer
    p = list(tok(prefix, add_special_tokens=not chat)["input_ids"])
    s = list(tok(suffix, add_special_tokens=False)["input_ids"])
    return Split(p, s)


def read_prefix_cached(lm: Loaded, prefix: list[int], suffixes: list[list[int]], t_ids: Sequence[int],
                       f_ids: Sequence[int], batch_size: int) -> list[float]:
    """P(True) for each suffix after one shared prefix: the prefix runs once."""
    import torch

    model, dev = lm.model, lm.device
    out: list[float | None] = [None] * len(suffixes)
    order = sorted(range(len(suffixes)), key=lambda i: len(suffixes[i]))
    with torch.inference_mode():
        pre = torch.tensor([prefix], dtype=torch.long, device=dev)
        decoder = model.get_decoder() if hasattr(model, "get_decoder") else model
        base = cache_of(decoder(input_ids=pre, use_cache=True))
        plen = len(prefix)
        for s in range(0, len(order), batch_size):
            idx = order[s:s + batch_size]
            b = len(idx)
            width = max(len(suffixes[i]) for i in idx)
            ids = torch.zeros((b, width), dtype=torch.long)
            mask = torch.zeros((b, plen + width), dtype=torch.long)
            mask[:, :plen] = 1
            for r, i in enumerate(idx):
                n = len(suffixes[i])
                ids[r, :n] = torch.tensor(suffixes[i], dtype=torch.long)
                mask[r, plen:plen + n] = 1
            pos = (plen + torch.arange(width)).unsqueeze(0).expand(b, -1)
            past = copy.deepcopy(base)
            if b > 1:
                past.batch_repeat_interleave(b)
            last = torch.tensor([len(suffixes[i]) - 1 for i in idx], device=dev)
            ps = read_last(lm, last, t_ids, f_ids, input_ids=ids.to(dev), attention_mask=mask.to(dev),
                           position_ids=pos.to(dev), use_cache=True, **{cache_kwarg(model): past})
            for i, p in zip(idx, ps, strict=True):
                out[i] = p
    return [float(p) for p in out]  # type: ignore[arg-type]


def read_full(lm: Loaded, prompts: list[list[int]], t_ids: Sequence[int], f_ids: Sequence[int],
              batch_size: int) -> list[float]:
    """P(True) for whole prompts: a plain batched forward pass, left padded, sorted by length."""
    import torch

    dev = lm.device
    pad = lm.tokenizer.pad_token_id or 0
    out: list[float | None] = [None] * len(prompts)
    order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
    with torch.inference_mode():
        for s in range(0, len(order), batch_size):
            idx = order[s:s + batch_size]
            b = len(idx)
            width = max(len(prompts[i]) for i in idx)
            ids = torch.full((b, width), pad, dtype=torch.long)
            mask = torch.zeros((b, width), dtype=torch.long)
            for r, i in enumerate(idx):
                n = len(prompts[i])
                ids[r, width - n:] = torch.tensor(prompts[i], dtype=torch.long)
                mask[r, width - n:] = 1
            pos = (mask.cumsum(-1) - 1).clamp(min=0)
            last = torch.full((b,), width - 1, dtype=torch.long, device=dev)
            ps = read_last(lm, last, t_ids, f_ids, input_ids=ids.to(dev), attention_mask=mask.to(dev),
                           position_ids=pos.to(dev), use_cache=False)
            for i, p in zip(idx, ps, strict=True):
                out[i] = p
    return [float(p) for p in out]  # type: ignore[arg-type]


def canonical(passages: Sequence[Passage]) -> list[Passage]:
    return sorted(passages, key=lambda p: (p.title, p.id or "", p.text))


class _LogitJudge(Loader):
    """Shared machinery: build (prefix, suffix) per claim, group by prefix, read through the cache."""

    component = "hf/true-false"

    class Config(ModelFields):
        model: str = Field("gemma3-270m", description="packaged alias, hub id or local path")
        threshold: float = Field(0.5, ge=0.0, le=1.0, description="supported iff P(True) >= threshold")
        chat: Literal["auto"] | bool = Field(False, description="wrap the prompt in the model's chat template")
        calibrate: bool = Field(False, description="contextual calibration (Zhao et al. 2021): divide out the "
                                "P(True) the judge gives a content-free statement with the same prefix")
        prefix_cache: bool = runtime_field(True, description="compute each shared prefix once (same results)")
        batch_size: int = runtime_field(16, ge=1)

    def __init__(self, config: Any, ctx: Context) -> None:
        super().__init__(config, ctx)
        self.chat = self.use_chat(config.chat)
        self.t_ids, self.f_ids = true_false_ids(self.lm.tokenizer)
        if not self.t_ids or not self.f_ids:
            from facttune_core import ConfigError

            raise ConfigError(f"model '{config.model}': the tokenizer has no distinct True/False tokens",
                              key=ctx.key_for("model"))
        self.judge_name = model_key(config.model, self.adapter_id)

    def texts(self, claim: Claim, evidence: Evidence | None) -> tuple[str, str]:
        raise NotImplementedError

    def score_texts(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """P(True) per (prefix text, suffix text), through the call cache; misses grouped by prefix."""
        params = {"read": "true-false-logits", "chat": self.chat, "t": self.t_ids, "f": self.f_ids}
        inputs = [{"prefix": p, "suffix": s} for p, s in pairs]
        groups: dict[str, list[int]] = {}
        for i, (p, _) in enumerate(pairs):
            groups.setdefault(p, []).append(i)
        out: list[float] = [0.0] * len(pairs)
        total = len(pairs)
        for idx in groups.values():
            def run(batch: list[dict[str, str]]) -> list[float]:
                splits = [encode_split(self.lm, *split_prompt(self.lm, x["prefix"], x["suffix"], self.chat), self.chat)
                          for x in batch]
                if self.c.prefix_cache:
                    ps = read_prefix_cached(self.lm, splits[0].prefix, [s.suffix for s in splits],
                                            self.t_ids, self.f_ids, self.c.batch_size)
                else:
                    ps = read_full(self.lm, [s.prefix + s.suffix for s in splits], self.t_ids, self.f_ids,
                                   self.c.batch_size)
                self.ctx.progress(len(batch), total)
                return ps

            got = self.ctx.cache.map(self.component, self.judge_name, [inputs[i] for i in idx], params, run)
            for i, p in zip(idx, got, strict=True):
                out[i] = float(p)
        return out

    def verify(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[Verdict]:
        pairs = [self.texts(c, e) for c, e in zip(claims, evidence, strict=True)]
        ps = self.score_texts(pairs)
        raws: list[str | None] = [None] * len(ps)
        if self.c.calibrate:
            prefixes = list(dict.fromkeys(p for p, _ in pairs))
            null = dict(zip(prefixes, self.score_texts([(p, verify_suffix(CONTENT_FREE)) for p in prefixes]),
                            strict=True))
            raws = [f"uncalibrated={p:.4f} content_free={null[pre]:.4f}" for p, (pre, _) in zip(ps, pairs, strict=True)]
            ps = [calibrate(p, null[pre]) for p, (pre, _) in zip(ps, pairs, strict=True)]
        return [Verdict(claim_id=c.id, supported=p >= self.c.threshold, p_true=p, judge=self.judge_name, raw=r)
                for c, p, r in zip(claims, ps, raws, strict=True)]


CONTENT_FREE = "N/A"


def calibrate(p: float, p_null: float, eps: float = 1e-6) -> float:
    """Binary contextual calibration: reweight P(True) by the judge's prior on this prefix, so a
    judge that says True to everything (small models do) is centred at 0.5 for a content-free claim."""
    p_null = min(max(p_null, eps), 1 - eps)
    t, f = p / p_null, (1.0 - p) / (1.0 - p_null)
    return t / (t + f) if t + f > 0 else 0.5


class TrueFalse(_LogitJudge):
    """P(True) of each claim given its evidence, from the judge's True/False next-token logits."""

    component = "hf/true-false"

    class Config(_LogitJudge.Config):
        canonical_order: bool = Field(True, description="sort passages by title/text so claims share a prefix")

    def texts(self, claim: Claim, evidence: Evidence | None) -> tuple[str, str]:
        passages: Sequence[Passage] = evidence.passages if evidence is not None else ()
        if evidence is None:
            self.ctx.count("no_evidence")
        if self.c.canonical_order:
            passages = canonical(passages)
        return verify_prefix(claim.topic, passages), verify_suffix(claim.text)


class Belief(_LogitJudge):
    """The model's own P(True) for each claim, no evidence (Curious Case's internal belief)."""

    component = "hf/belief"

    class Config(_LogitJudge.Config):
        model: str = Field("smollm2-135m-instruct", description="default: the policy (its OWN belief)")
        chat: Literal["auto"] | bool = Field("auto", description="use the model's chat template when it has one")

    def texts(self, claim: Claim, evidence: Evidence | None) -> tuple[str, str]:
        return belief_prefix(claim.topic), verify_suffix(claim.text)

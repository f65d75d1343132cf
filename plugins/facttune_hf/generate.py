"""``hf/generate``: sample n responses per prompt from a local transformers model.

Sampling runs in our own decode loop (KV cache, left padding) with one ``torch.Generator`` per
row, seeded from (seed, prompt, sample index): a sample does not depend on which batch it ran in,
so a rerun reproduces it and the call cache hits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from facttune_core import (
    ComponentError,
    ConfigError,
    Context,
    Decoding,
    FacttuneError,
    GeneratorConfig,
    Prompt,
    Response,
    runtime_field,
    trained_adapter,
)

from .models import Loaded, adapter_identity, load

Dtype = Literal["auto", "bf16", "fp16", "fp32", "bfloat16", "float16", "float32"]


class ModelFields(BaseModel):
    """Fields every hf component shares (model, adapter, dtype, device, trust_remote_code)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    model: str = Field("smollm2-135m-instruct", description="packaged alias, hub id or local path")
    adapter: str | None = Field(None, description="a LoRA directory applied on top (peft), or a run folder: its "
                                "trained adapter")
    dtype: Dtype = runtime_field("auto", description="auto: bf16 on cuda / CPUs with native bf16, else fp32")
    device: str = runtime_field("auto", description="auto: cuda when available")
    trust_remote_code: bool = False

    @field_validator("adapter")
    @classmethod
    def _run_adapter(cls, v: str | None) -> str | None:
        """A run folder → the adapter its train stage wrote (so the stage key follows a retrained one)."""
        try:
            return str(trained_adapter(v)) if v and (Path(v).expanduser() / "run.json").is_file() else v
        except FacttuneError as err:
            raise ValueError(err.message) from None


class Loader:
    """What every hf component does first: resolve and load its model (shared per process), the
    adapter's identity for cache keys, and whether the chat template applies."""

    def __init__(self, config: ModelFields, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx
        self.adapter_id = adapter_identity(config.adapter, ctx.key_for("adapter"))
        self.lm = load(config.model, key=ctx.key_for("model"), dtype=config.dtype, device=config.device,
                       adapter=config.adapter, trust_remote_code=config.trust_remote_code)
        self.has_template = bool(getattr(self.lm.tokenizer, "chat_template", None))

    def use_chat(self, want: Any, error: type[ConfigError] | type[ComponentError] = ConfigError) -> bool:
        """``want``: "auto" | True | False. True without a chat template is a one-line error."""
        if want is True and not self.has_template:
            raise error(f"chat = true but model '{self.c.model}' has no chat template", key=self.ctx.key_for("chat"))
        return self.has_template if want == "auto" else bool(want)


def model_key(model: str, adapter_id: str | None) -> str:
    """The ``model`` part of call-cache keys: tuned and base outputs never mix."""
    return f"{model}+lora:{adapter_id}" if adapter_id else model


def row_seed(seed: int, prompt: str, k: int) -> int:
    h = hashlib.sha256(f"{seed}\x00{prompt}\x00{k}".encode()).hexdigest()
    return int(h[:15], 16)


def encode_prompt(lm: Loaded, text: str, chat: bool, system: str | None) -> list[int]:
    tok = lm.tokenizer
    if chat:
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": text}]
        rendered = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return list(tok(rendered, add_special_tokens=False)["input_ids"])
    return list(tok(text, add_special_tokens=True)["input_ids"])


def _filter_top_p(probs: Any, top_p: float) -> Any:
    import torch

    if top_p >= 1.0:
        return probs
    sorted_p, idx = torch.sort(probs, descending=True, dim=-1)
    cum = torch.cumsum(sorted_p, dim=-1)
    drop = (cum - sorted_p) > top_p  # keep the smallest prefix whose mass reaches top_p
    sorted_p = sorted_p.masked_fill(drop, 0.0)
    out = torch.zeros_like(probs).scatter(-1, idx, sorted_p)
    return out / out.sum(dim=-1, keepdim=True)


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    cuts = [text.find(s) for s in stop if s and s in text]
    return text[:min(cuts)] if cuts else text


def decode_batch(lm: Loaded, ids: list[list[int]], seeds: list[int], *, temperature: float, top_p: float,
                 max_new_tokens: int, stop: Sequence[str]) -> list[dict[str, Any]]:
    """Generate for a batch of token-id prompts (left padded). Returns per row
    ``{text, completion_tokens, finish_reason}``; ``text`` is cut at the first stop string."""
    import torch

    tok, model, dev = lm.tokenizer, lm.model, lm.device
    b = len(ids)
    width = max(len(x) for x in ids)
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    input_ids = torch.full((b, width), pad, dtype=torch.long)
    mask = torch.zeros((b, width), dtype=torch.long)
    for i, x in enumerate(ids):
        input_ids[i, width - len(x):] = torch.tensor(x, dtype=torch.long)
        mask[i, width - len(x):] = 1
    input_ids, mask = input_ids.to(dev), mask.to(dev)
    eos = tok.eos_token_id
    eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    gen_cfg = getattr(model, "generation_config", None)
    extra_eos = getattr(gen_cfg, "eos_token_id", None)
    eos_ids |= set(extra_eos if isinstance(extra_eos, list) else [extra_eos] if extra_eos is not None else [])
    gens = [torch.Generator(device="cpu").manual_seed(s) for s in seeds]
    out_tokens: list[list[int]] = [[] for _ in range(b)]
    finish: list[str | None] = [None] * b
    past = None
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    step_ids, step_pos = input_ids, pos
    with torch.inference_mode():
        for _ in range(max_new_tokens):
            outputs = model(input_ids=step_ids, attention_mask=mask, position_ids=step_pos, past_key_values=past,
                            use_cache=True)
            past = outputs.past_key_values
            logits = outputs.logits[:, -1, :].float().cpu()
            if temperature <= 0:
                nxt = logits.argmax(-1)
            else:
                probs = _filter_top_p(torch.softmax(logits / temperature, dim=-1), top_p)
                nxt = torch.stack([torch.multinomial(probs[i], 1, generator=gens[i])[0] for i in range(b)])
            for i in range(b):
                if finish[i] is not None:
                    continue
                t = int(nxt[i])
                if t in eos_ids:
                    finish[i] = "stop"
                    continue
                out_tokens[i].append(t)
                if stop:
                    text = tok.decode(out_tokens[i], skip_special_tokens=True)
                    if cut_at_stop(text, stop) != text:
                        finish[i] = "stop"
            if all(f is not None for f in finish):
                break
            nxt = nxt.masked_fill(torch.tensor([f is not None for f in finish]), pad).to(dev)
            step_ids = nxt[:, None]
            step_pos = step_pos[:, -1:] + 1
            mask = torch.cat([mask, torch.ones((b, 1), dtype=mask.dtype, device=dev)], dim=1)
    rows = []
    for i in range(b):
        text = cut_at_stop(tok.decode(out_tokens[i], skip_special_tokens=True), stop)
        rows.append({"text": text, "completion_tokens": len(out_tokens[i]), "finish_reason": finish[i] or "length"})
    return rows


class HFGenerate(Loader):
    """Sample responses from a local transformers model (chat template when it has one)."""

    class Config(ModelFields, GeneratorConfig):
        n: int = Field(4, ge=1, description="samples per prompt (the pipeline may pass its own n)")
        temperature: float = Field(1.0, ge=0.0, description="0 = greedy")
        top_p: float = Field(1.0, gt=0.0, le=1.0)
        max_new_tokens: int = Field(256, ge=1)
        seed: int = 0
        stop: list[str] = Field(default_factory=list)
        chat: Literal["auto"] | bool = "auto"
        system: str | None = Field(None, description="system prompt (chat templates only)")
        max_input_tokens: int | None = Field(None, ge=1, description="default: context length - max_new_tokens")
        batch_size: int = runtime_field(8, ge=1)

    def __init__(self, config: Config, ctx: Context) -> None:
        super().__init__(config, ctx)
        self.model_name = config.model
        self.use_chat(config.chat)

    def _use_chat(self, d: Decoding | None) -> bool:
        want: Any = d.chat if d is not None and d.chat is not None else self.c.chat
        return self.use_chat(want, ComponentError)

    def generate(self, prompts: Sequence[Prompt], n: int | None = None,
                 decoding: Decoding | None = None) -> list[list[Response]]:
        c = self.c
        n = n or c.n
        chat = self._use_chat(decoding)
        if decoding is not None:
            temperature, top_p, max_new = decoding.temperature, decoding.top_p, decoding.max_new_tokens
            stop = list(decoding.stop)
            seed = decoding.seed if decoding.seed is not None else c.seed
        else:
            temperature, top_p, max_new, stop, seed = c.temperature, c.top_p, c.max_new_tokens, list(c.stop), c.seed
        system = c.system if chat else None
        limit = c.max_input_tokens or max(1, self.lm.context_length - max_new)
        encoded: dict[str, list[int]] = {}
        for p in prompts:
            if p.text not in encoded:
                ids = encode_prompt(self.lm, p.text, chat, system)
                if len(ids) > limit:
                    raise ComponentError(
                        f"prompt '{p.id}' has {len(ids)} tokens; the limit is {limit} (model context "
                        f"{self.lm.context_length}, max_new_tokens {max_new})", key=self.ctx.key_for("max_input_tokens"))
                encoded[p.text] = ids
        params = {"temperature": temperature, "top_p": top_p, "max_new_tokens": max_new, "stop": stop,
                  "seed": seed, "chat": chat, "system": system}
        items = [(pi, k) for pi in range(len(prompts)) for k in range(n)]
        # longest first: similar lengths share a batch, and an OOM shows up in the first batch
        items.sort(key=lambda x: -len(encoded[prompts[x[0]].text]))
        inputs = [{"prompt": prompts[pi].text, "k": k} for pi, k in items]
        total = len(inputs)

        def run(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
            ids = [encoded[x["prompt"]] for x in batch]
            seeds = [row_seed(seed, x["prompt"], x["k"]) for x in batch]
            rows = decode_batch(self.lm, ids, seeds, temperature=temperature, top_p=top_p,
                                max_new_tokens=max_new, stop=stop)
            for r, x in zip(rows, ids, strict=True):
                r["prompt_tokens"] = len(x)
            self.ctx.progress(len(batch), total)
            return rows

        results = self.ctx.cache.map("hf/generate", model_key(c.model, self.adapter_id), inputs, params, run,
                                     batch_size=c.batch_size)
        by_item = dict(zip(items, results, strict=True))
        out: list[list[Response]] = []
        for pi, p in enumerate(prompts):
            row = []
            for k in range(n):
                r = by_item[(pi, k)]
                row.append(Response(id=f"{p.id}/r{k}", prompt_id=p.id, text=r["text"].strip(), topic=p.topic,
                                    sample=k, model=model_key(c.model, self.adapter_id),
                                    prompt_tokens=r["prompt_tokens"], completion_tokens=r["completion_tokens"],
                                    finish_reason=r["finish_reason"]))
            out.append(row)
        return out

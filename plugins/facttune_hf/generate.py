"""``hf/generate``: sample n responses per prompt from a local transformers model.

Sampling runs in our own decode loop (:mod:`facttune_hf.decode`: KV cache, left padding, one
prefill per distinct prompt) over batches of (prompt, sample) items across prompts, longest prompts
first, with one ``torch.Generator`` per row seeded from (seed, prompt, sample index): a sample does
not depend on which batch it ran in, so a rerun reproduces it and the call cache hits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

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

from .decode import auto_batch_size, cut_at_stop, decode_batch
from .models import Loaded, adapter_identity, load

__all__ = ["HFGenerate", "Loader", "ModelFields", "cut_at_stop", "decode_batch", "encode_prompt", "model_key"]

Dtype = Literal["auto", "bf16", "fp16", "fp32", "bfloat16", "float16", "float32"]


class ModelFields(BaseModel):
    """Fields every hf component shares (model, adapter, dtype, device, trust_remote_code)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    model: str = Field("smollm2-135m-instruct", description="packaged alias, hub id or local path")
    adapter: str | None = Field(None, description="a LoRA directory applied on top (peft), or a run folder: its "
                                "trained adapter")
    dtype: Dtype = runtime_field("auto", description="auto: bf16 on cuda / CPUs with native bf16, else fp32")
    device: str = runtime_field("auto", description="auto: cuda when available")
    merge_adapter: bool = runtime_field(True, description="fold the adapter into the weights (W + BA) at load: "
                                        "no extra matmuls per layer; false: peft's unmerged LoRA layers")
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
                       adapter=config.adapter, trust_remote_code=config.trust_remote_code,
                       merge_adapter=config.merge_adapter)
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
        batch_size: Annotated[int, Field(ge=1)] | Literal["auto"] = runtime_field(
            "auto", description="(prompt, sample) rows decoded together, across prompts; auto: as many as fit "
            "1 GiB of KV cache on a CPU (40% of free memory on CUDA), at most 64")

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

        batch_size = c.batch_size if c.batch_size != "auto" else auto_batch_size(
            self.lm, max((len(x) for x in encoded.values()), default=1) + max_new)
        results = self.ctx.cache.map("hf/generate", model_key(c.model, self.adapter_id), inputs, params, run,
                                     batch_size=batch_size)
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

"""``hf/reward-model``: a sequence-classification reward model's score per response (FLAME's
instruction-following reward). No reward model is packaged: name a hub id or a local directory."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from facttune_core import ConfigError, Context, Reward, ScoredResponse, runtime_field

from .generate import ModelFields, model_key
from .models import choose_device, choose_dtype, resolve_model_path

_RMS: dict[tuple[str, str, str, bool], tuple[Any, Any, Any]] = {}
_LOCK = threading.Lock()


class RewardModel:
    """Score each (prompt, response) with an AutoModelForSequenceClassification reward model."""

    class Config(ModelFields):
        model: str = Field(..., description="reward model: hub id or local directory")
        name: str = Field("instruction", description="the reward's name (FLAME: 'instruction')")
        label: int = Field(0, ge=0, description="which output logit is the reward")
        chat: Literal["auto"] | bool = Field("auto", description="render prompt + response with the chat template")
        max_length: int = Field(2048, ge=16, description="longer inputs are truncated from the left")
        batch_size: int = runtime_field(8, ge=1)

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx
        if config.adapter:
            raise ConfigError("adapters are not supported for reward models", key=ctx.key_for("adapter"))
        path = resolve_model_path(config.model, ctx.key_for("model"))
        dev = choose_device(config.device)
        key = (path, config.dtype, dev, config.trust_remote_code)
        with _LOCK:
            if key not in _RMS:
                from transformers import AutoModelForSequenceClassification, AutoTokenizer

                try:
                    tok = AutoTokenizer.from_pretrained(path, trust_remote_code=config.trust_remote_code)
                    model = AutoModelForSequenceClassification.from_pretrained(
                        path, dtype=choose_dtype(config.dtype, dev), trust_remote_code=config.trust_remote_code)
                except (OSError, ValueError) as exc:
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    raise ConfigError(f"cannot load reward model '{config.model}': {first}",
                                      key=ctx.key_for("model")) from None
                model.to(dev).eval()
                if tok.pad_token_id is None:
                    tok.pad_token = tok.eos_token
                if model.config.pad_token_id is None:
                    model.config.pad_token_id = tok.pad_token_id
                _RMS[key] = (model, tok, dev)
        self.model, self.tok, self.dev = _RMS[key]
        n_labels = int(getattr(self.model.config, "num_labels", 1))
        if config.label >= n_labels:
            raise ConfigError(f"the reward model has {n_labels} output(s)", key=ctx.key_for("label"))
        has_template = bool(getattr(self.tok, "chat_template", None))
        self.chat = has_template if config.chat == "auto" else bool(config.chat)
        if self.chat and not has_template:
            raise ConfigError(f"chat = true but '{config.model}' has no chat template", key=ctx.key_for("chat"))

    def _text(self, prompt: str, response: str) -> str:
        if self.chat:
            return self.tok.apply_chat_template([{"role": "user", "content": prompt},
                                                 {"role": "assistant", "content": response}], tokenize=False)
        return f"{prompt}\n\n{response}"

    def _run(self, batch: list[dict[str, str]]) -> list[float]:
        import torch

        texts = [self._text(x["prompt"], x["response"]) for x in batch]
        self.tok.padding_side = "left"
        self.tok.truncation_side = "left"
        enc = self.tok(texts, return_tensors="pt", padding=True, truncation=True, max_length=self.c.max_length,
                       add_special_tokens=not self.chat).to(self.dev)
        with torch.inference_mode():
            logits = self.model(**enc).logits.float()
        return [float(v) for v in logits[:, self.c.label].tolist()]

    def score(self, items: Sequence[ScoredResponse]) -> list[list[Reward]]:
        inputs = [{"prompt": it.prompt.text, "response": it.response.text} for it in items]
        params = {"label": self.c.label, "chat": self.chat, "max_length": self.c.max_length}
        values = self.ctx.cache.map("hf/reward-model", model_key(self.c.model, None), inputs, params, self._run,
                                    batch_size=self.c.batch_size)
        return [[Reward(response_id=it.response.id, prompt_id=it.prompt.id, name=self.c.name, value=float(v),
                        details={"model": self.c.model})] for it, v in zip(items, values, strict=True)]

"""The ``fluency`` feature of rewards/instruction-following: the mean log-probability per token of a
response given its instruction under a small causal LM (the packaged SmolLM2-135M-Instruct by
default, in its chat template). A 135M policy sampled at temperature 1.0 often drifts into text no
model would write; measured on the labelled pairs it is the strongest single cue of the five others
(docs/rewards.md). Calls go through the call cache."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from facttune_core import CallCache, ComponentError, native_bf16, resolve_model

MAX_TOKENS = 192  # response tokens scored (the recipes generate at most 128)


class Fluency:
    """Mean token log-probability of responses under ``model`` (loaded on first use)."""

    def __init__(self, model: str, cache: CallCache, key: str | None, batch_size: int = 8) -> None:
        self.model_name = model
        self.cache = cache
        self.key = key
        self.batch_size = batch_size
        self._lm: Any = None
        self._tok: Any = None

    def _load(self) -> None:
        if self._lm is not None:
            return
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = resolve_model(self.model_name)
        try:
            self._tok = AutoTokenizer.from_pretrained(path)
            dtype = torch.bfloat16 if native_bf16(torch.cuda.is_available()) else torch.float32
            self._lm = AutoModelForCausalLM.from_pretrained(path, dtype=dtype).eval()
        except (OSError, ValueError) as err:
            raise ComponentError(f"cannot load fluency model '{self.model_name}': {err}".splitlines()[0],
                                 key=self.key) from None

    def _context(self, instruction: str) -> list[int]:
        tok = self._tok
        if getattr(tok, "chat_template", None):
            text = tok.apply_chat_template([{"role": "user", "content": instruction}], add_generation_prompt=True,
                                           tokenize=False)
        else:
            text = instruction.strip() + "\n"
        return list(tok(text, add_special_tokens=False)["input_ids"])

    def _run(self, batch: list[dict[str, str]]) -> list[float]:
        import torch

        self._load()
        out = []
        for row in batch:  # one row at a time: no padding to get wrong, and short texts
            ctx = self._context(row["instruction"])
            resp = list(self._tok(row["response"], add_special_tokens=False)["input_ids"])[:MAX_TOKENS]
            if not resp:
                out.append(0.0)
                continue
            ids = torch.tensor([ctx + resp])
            with torch.inference_mode():
                logits = self._lm(ids).logits[0, len(ctx) - 1:-1].float()
            lp = torch.log_softmax(logits, -1).gather(1, torch.tensor(resp)[:, None])[:, 0]
            out.append(float(lp.mean()))
        return out

    def score(self, instructions: Sequence[str], responses: Sequence[str]) -> list[float]:
        rows = [{"instruction": i.strip(), "response": r.strip()} for i, r in zip(instructions, responses, strict=True)]
        return self.cache.map("rewards/instruction-following:fluency", self.model_name, rows,
                              {"max_tokens": MAX_TOKENS}, self._run, self.batch_size)

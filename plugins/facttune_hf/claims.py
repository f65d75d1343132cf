"""``hf/claims``: FActScore's atomic facts: split into sentences, ask the judge for ``- fact`` lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from facttune_core import (
    Claim,
    Context,
    Response,
    extract_prompt,
    parse_fact_lines,
    runtime_field,
    sentence_claims,
)

from .generate import Loader, ModelFields, decode_batch, encode_prompt, model_key


class HFClaims(Loader):
    """Atomic claims per sentence from a local judge (few-shot ``- fact`` lines, parsed robustly)."""

    class Config(ModelFields):
        model: str = Field("gemma3-270m", description="packaged alias, hub id or local path")
        merge_short: int = Field(0, ge=0, description="merge sentences of <= N words into the next (FactTune: 11)")
        min_words: int = Field(3, ge=1, description="sentences shorter than this are skipped (counted)")
        max_new_tokens: int = Field(128, ge=8)
        max_facts: int = Field(16, ge=1, description="per sentence")
        fallback_sentence: bool = Field(True, description="a sentence the judge yields no fact for is one claim")
        chat: Literal["auto"] | bool = Field(False, description="wrap the few-shot prompt in the chat template")
        batch_size: int = runtime_field(8, ge=1)

    def __init__(self, config: Config, ctx: Context) -> None:
        super().__init__(config, ctx)
        self.chat = self.use_chat(config.chat)

    def _facts(self, sentences: list[str]) -> list[str]:
        """The judge's raw answer per sentence (greedy), through the call cache."""
        prompts = [extract_prompt(s) for s in sentences]
        encoded = {p: encode_prompt(self.lm, p, self.chat, None) for p in prompts}
        order = sorted(range(len(prompts)), key=lambda i: -len(encoded[prompts[i]]))
        inputs = [{"prompt": prompts[i]} for i in order]
        params = {"greedy": True, "max_new_tokens": self.c.max_new_tokens, "chat": self.chat,
                  "stop": ["\n\n", "Sentence:"]}
        total = len(inputs)

        def run(batch: list[dict[str, Any]]) -> list[str]:
            rows = decode_batch(self.lm, [encoded[x["prompt"]] for x in batch], [0] * len(batch), temperature=0.0,
                                top_p=1.0, max_new_tokens=self.c.max_new_tokens, stop=["\n\n", "Sentence:"])
            self.ctx.progress(len(batch), total)
            return [r["text"] for r in rows]

        got = self.ctx.cache.map("hf/claims", model_key(self.c.model, self.adapter_id), inputs, params, run,
                                 batch_size=self.c.batch_size)
        out = [""] * len(prompts)
        for i, text in zip(order, got, strict=True):
            out[i] = text
        return out

    def extract(self, responses: Sequence[Response]) -> list[list[Claim]]:
        return sentence_claims(responses, self._parsed, self.ctx, merge_short=self.c.merge_short,
                               min_words=self.c.min_words)

    def _parsed(self, sentences: list[tuple[Response, str]]) -> list[list[str]]:
        """The facts of each sentence (each distinct sentence asked once)."""
        uniq = list(dict.fromkeys(s for _, s in sentences))
        answers = dict(zip(uniq, self._facts(uniq), strict=True)) if uniq else {}
        out = []
        for _, s in sentences:
            facts, dropped = parse_fact_lines(answers[s], max_facts=self.c.max_facts)
            if dropped:
                self.ctx.count("dropped_lines", dropped)
            if not facts and self.c.fallback_sentence:
                self.ctx.count("fallback_sentences")
                facts = [s]
            out.append(facts)
        return out

"""Anthropic Messages API components.

Batching, caching, limits, retries and accounting are the core's API runner; the prompts and parsers
are the core's judge prompts; the wire format is :mod:`.backend`. The Messages API returns no
logprobs and takes no seeds, so the verifier reads the text (FActScore's rule) and there is no belief
scorer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from facttune_core import (
    CHAT_EXTRACT_SYSTEM,
    CHAT_TRUE_FALSE_SYSTEM,
    ApiConfig,
    ApiRunner,
    CallEstimate,
    ChatClaimsMixin,
    ChatRequest,
    Claim,
    ConfigError,
    Context,
    Decoding,
    Evidence,
    GeneratorConfig,
    PriceTable,
    Prompt,
    Response,
    Verdict,
    estimate_requests,
    parse_true_false,
    sampled_responses,
    verify_prompt,
)

from .backend import AnthropicBackend

PRICES = Path(__file__).with_name("prices.json")


class _Fields(ApiConfig):
    """What every Anthropic component's table shares."""

    model: str = Field("claude-haiku-4-5", description="Anthropic model name (e.g. claude-haiku-4-5, "
                                                       "claude-sonnet-4-5)")
    api_key_env: str = Field("ANTHROPIC_API_KEY", description="environment variable holding the API key")


class _Anthropic:
    """A config, a context, the backend and the runner."""

    def __init__(self, config: _Fields, ctx: Context) -> None:
        self.ctx = ctx
        self.model_name = config.model
        self.judge_name = f"anthropic:{config.model}"
        self.backend = AnthropicBackend(config, ctx)
        self.runner = ApiRunner(ctx, config, self.backend, PriceTable.from_json(PRICES, config.prices))


class Messages(_Anthropic):
    """Anthropic Messages API: n samples per prompt, one call each (no seeds: the API has none)."""

    class Config(_Fields, GeneratorConfig):
        temperature: float = Field(1.0, ge=0.0, le=2.0)
        top_p: float = Field(1.0, gt=0.0, le=1.0)
        max_tokens: int = Field(512, ge=1)
        seed: int | None = Field(None, description="ignored: the Messages API takes no seed")
        system: str | None = Field(None, description="system prompt")
        stop: list[str] = Field(default_factory=list)
        adapter: str | None = Field(None, description="not supported by API generators")

    def __init__(self, config: Config, ctx: Context) -> None:
        if config.adapter:
            raise ConfigError("an API generator cannot apply a LoRA adapter; serve it as a model "
                              "(e.g. vLLM --lora-modules name=dir) and set model", key=ctx.key_for("adapter"))
        super().__init__(config, ctx)
        self.c = config

    def generate(self, prompts: Sequence[Prompt], n: int = 1, decoding: Decoding | None = None
                 ) -> list[list[Response]]:
        c = self.c
        d = decoding or Decoding(temperature=c.temperature, top_p=c.top_p, max_new_tokens=c.max_tokens,
                                 stop=tuple(c.stop), seed=c.seed)
        values = self.runner.run([ChatRequest.for_sample(p.text, c.system, d, k, seeds=False)
                                  for p in prompts for k in range(n)])
        return sampled_responses(prompts, n, values, c.model)


class Claims(ChatClaimsMixin, _Anthropic):
    """Atomic claims per sentence by a Claude judge (few-shot, ``- fact`` lines)."""

    class Config(_Fields):
        max_tokens: int = Field(256, ge=1)
        merge_short: int = Field(0, ge=0, description="merge sentences of <= N words into the next (FactTune: 11)")
        max_facts: int = Field(32, ge=1, description="facts kept per sentence")
        system: str | None = Field(CHAT_EXTRACT_SYSTEM, description="system prompt (None: none)")

    def __init__(self, config: Config, ctx: Context) -> None:
        super().__init__(config, ctx)
        self.c = config


class TrueFalse(_Anthropic):
    """True/False verdict over the evidence by a Claude judge (FActScore's rule on the text)."""

    class Config(_Fields):
        max_tokens: int = Field(16, ge=1, description="room for a chatty 'The statement is true.'")
        logprobs: bool = Field(False, description="the Messages API has no logprobs: always false")
        top_logprobs: int = Field(20, ge=1, le=20, description="unused: the Messages API has no logprobs")
        system: str | None = Field(CHAT_TRUE_FALSE_SYSTEM, description="system prompt (None: none)")

    def __init__(self, config: Config, ctx: Context) -> None:
        super().__init__(config, ctx)
        self.c = config
        if config.logprobs:
            raise ConfigError("anthropic does not return logprobs; set logprobs = false",
                              key=ctx.key_for("logprobs"))

    def _requests(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[ChatRequest]:
        c = self.c
        return [ChatRequest(user=verify_prompt(cl.text, cl.topic, ev.passages if ev else ()), system=c.system,
                            max_tokens=c.max_tokens, temperature=c.temperature)
                for cl, ev in zip(claims, evidence, strict=True)]

    def estimate(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> CallEstimate:
        """What ``verify`` would send (one call per claim), sending nothing."""
        return estimate_requests(self.runner, self._requests(claims, evidence))

    def verify(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[Verdict]:
        values = self.runner.run(self._requests(claims, evidence))
        out: list[Verdict] = []
        for cl, v in zip(claims, values, strict=True):
            text = v["text"] or ""
            self.ctx.count("verdicts_by_text")
            out.append(Verdict(claim_id=cl.id, supported=parse_true_false(text), judge=self.judge_name, raw=text))
        return out

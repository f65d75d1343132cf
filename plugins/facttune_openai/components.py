"""OpenAI chat-completions components (and every OpenAI-compatible server via ``base_url``).

Batching, caching, limits, retries and accounting are the core's API runner; the prompts and parsers
are the core's judge prompts (the same question the hf judge asks); the wire format is
:mod:`.backend`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

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
    ComponentError,
    ConfigError,
    Context,
    Decoding,
    Evidence,
    GeneratorConfig,
    PriceTable,
    Prompt,
    Response,
    Verdict,
    belief_prompt,
    estimate_requests,
    p_true_from_logprobs,
    parse_true_false,
    sampled_responses,
    verify_prompt,
)

from .backend import OpenAIBackend

PRICES = Path(__file__).with_name("prices.json")
MODEL_DOC = "model name as the server knows it (vLLM: the served name; Ollama: e.g. llama3.2)"


class _Fields(ApiConfig):
    """What every OpenAI component's table shares."""

    model: str = Field("gpt-4o-mini", description=MODEL_DOC)
    api_key_env: str = Field("OPENAI_API_KEY", description="environment variable holding the key; optional "
                                                           "when base_url points at a local server")


class _OpenAI:
    """A config, a context, the backend and the runner."""

    def __init__(self, config: _Fields, ctx: Context) -> None:
        self.ctx = ctx
        self.model_name = config.model
        self.judge_name = f"openai:{config.model}"
        self.backend = OpenAIBackend(config, ctx)
        self.runner = ApiRunner(ctx, config, self.backend, PriceTable.from_json(PRICES, config.prices))


class Chat(_OpenAI):
    """OpenAI chat completions (or any compatible server): n samples per prompt, one call each."""

    class Config(_Fields, GeneratorConfig):
        temperature: float = Field(1.0, ge=0.0, le=2.0)
        top_p: float = Field(1.0, gt=0.0, le=1.0)
        max_tokens: int = Field(512, ge=1)
        seed: int | None = Field(None, description="sample k is sent seed + k")
        system: str | None = Field(None, description="system prompt")
        stop: list[str] = Field(default_factory=list)
        adapter: str | None = Field(None, description="not supported by API generators: serve the adapter "
                                                      "as a model (vLLM --lora-modules) and set model")

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
        values = self.runner.run([ChatRequest.for_sample(p.text, c.system, d, k) for p in prompts for k in range(n)])
        return sampled_responses(prompts, n, values, c.model)


class Claims(ChatClaimsMixin, _OpenAI):
    """Atomic claims per sentence by an OpenAI-compatible chat judge (few-shot, ``- fact`` lines)."""

    class Config(_Fields):
        max_tokens: int = Field(256, ge=1)
        merge_short: int = Field(0, ge=0, description="merge sentences of <= N words into the next (FactTune: 11)")
        max_facts: int = Field(32, ge=1, description="facts kept per sentence")
        system: str | None = Field(CHAT_EXTRACT_SYSTEM, description="system prompt (None: none)")

    def __init__(self, config: Config, ctx: Context) -> None:
        super().__init__(config, ctx)
        self.c = config


class TrueFalse(_OpenAI):
    """True/False verdict over the evidence: P(True) from the first token's logprobs when the server
    returns them, else FActScore's rule on the text."""

    belief = False  # a belief scorer asks without evidence

    class Config(_Fields):
        max_tokens: int = Field(16, ge=1, description="room for a chatty 'The statement is true.'")
        logprobs: Literal["auto"] | bool = Field(
            "auto", description="P(True) from the first token's top logprobs: auto (when the server gives "
                                "them), true (required), false (parse the text)")
        top_logprobs: int = Field(20, ge=1, le=20)
        system: str | None = Field(CHAT_TRUE_FALSE_SYSTEM, description="system prompt (None: none)")

    def __init__(self, config: Config, ctx: Context) -> None:
        super().__init__(config, ctx)
        self.c = config

    def _requests(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[ChatRequest]:
        c = self.c
        users = [belief_prompt(cl.text, cl.topic) if self.belief else
                 verify_prompt(cl.text, cl.topic, ev.passages if ev is not None else ())
                 for cl, ev in zip(claims, evidence, strict=True)]
        return [ChatRequest(user=u, system=c.system, max_tokens=c.max_tokens, temperature=c.temperature,
                            top_logprobs=c.top_logprobs if c.logprobs is not False else 0) for u in users]

    def estimate(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> CallEstimate:
        """What ``verify`` would send (one call per claim), sending nothing."""
        return estimate_requests(self.runner, self._requests(claims, evidence))

    def verify(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[Verdict]:
        c = self.c
        values = self.runner.run(self._requests(claims, evidence))
        out: list[Verdict] = []
        for cl, v in zip(claims, values, strict=True):
            text = v["text"] or ""
            p = next((q for pos in v.get("top") or [] if (q := p_true_from_logprobs([(t, lp) for t, lp in pos]))
                      is not None), None)
            if p is not None:
                self.ctx.count("verdicts_by_logprobs")
                out.append(Verdict(claim_id=cl.id, supported=p >= 0.5, p_true=p, judge=self.judge_name, raw=text))
                continue
            if c.logprobs is True:
                raise ComponentError("the server returned no True/False logprobs; set logprobs = 'auto' or false",
                                     key=self.ctx.key_for("logprobs"))
            ok = parse_true_false(text)
            self.ctx.count("verdicts_by_text")
            out.append(Verdict(claim_id=cl.id, supported=ok, p_true=(1.0 if ok else 0.0) if self.belief else None,
                               judge=self.judge_name, raw=text))
        return out


class Belief(TrueFalse):
    """The judge's own P(True) per claim from logprobs, no evidence (Curious Case's belief score)."""

    belief = True

    class Config(TrueFalse.Config):
        max_tokens: int = Field(4, ge=1)

"""Provider-independent chat components; a plugin subclasses them with its backend and defaults."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from ..contract.context import Context
from ..contract.errors import ComponentError, ConfigError
from ..contract.protocols import GeneratorConfig as BaseGeneratorConfig
from ..contract.records import Claim, Decoding, Evidence, Prompt, Response, Verdict
from ..prompts import (
    CHAT_EXTRACT_SYSTEM,
    CHAT_TRUE_FALSE_SYSTEM,
    belief_prompt,
    extract_prompt,
    p_true_from_logprobs,
    parse_fact_lines,
    parse_true_false,
    verify_prompt,
)
from ..text import merge_short_sentences, split_sentences
from .prices import PriceTable
from .retry import Failure, MalformedResponse, connection_failure, http_failure
from .runner import ApiConfig, ApiRunner, ChatBackend, ChatRequest


class _ApiComponent:
    """Base: a config, a context, a backend and a runner. Subclasses set ``Config`` and
    implement ``make_backend``; ``price_file`` names the plugin's default price table."""

    Config: ClassVar[type[ApiConfig]] = ApiConfig
    price_file: ClassVar[Path | None] = None

    def __init__(self, config: ApiConfig, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx
        self.model_name = config.model
        self.backend = self.make_backend()
        prices = (PriceTable.from_json(self.price_file, config.prices) if self.price_file
                  else PriceTable(config.prices))
        self.runner = ApiRunner(ctx, config, self.backend, prices, secrets=self._secrets)

    def make_backend(self) -> ChatBackend:
        raise NotImplementedError

    def _secrets(self) -> Sequence[str]:
        import os

        v = os.environ.get(self.c.api_key_env)
        return (v,) if v else ()

    @property
    def judge_name(self) -> str:
        return f"{self.backend.provider}:{self.c.model}"


class GeneratorConfig(ApiConfig, BaseGeneratorConfig):
    n: int = Field(1, ge=1, description="responses per prompt")
    temperature: float = Field(1.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(512, ge=1)
    seed: int | None = Field(None, description="sample k is sent seed + k (where the API supports seeds)")
    system: str | None = Field(None, description="system prompt")
    stop: list[str] = Field(default_factory=list)
    adapter: str | None = Field(None, description="not supported by API generators: serve the adapter "
                                                  "as a model (vLLM --lora-modules) and set model")


class ChatGenerator(_ApiComponent):
    """Samples n responses per prompt from a chat API (one call per sample)."""

    Config: ClassVar[type[ApiConfig]] = GeneratorConfig
    supports_seed: ClassVar[bool] = True

    def __init__(self, config: GeneratorConfig, ctx: Context) -> None:
        if config.adapter:
            raise ConfigError("an API generator cannot apply a LoRA adapter; serve it as a model "
                              "(e.g. vLLM --lora-modules name=dir) and set model", key=f"{ctx.key}.adapter"
                              if ctx.key else "adapter")
        super().__init__(config, ctx)
        self.gc = config

    def generate(self, prompts: Sequence[Prompt], n: int = 1, decoding: Decoding | None = None
                 ) -> list[list[Response]]:
        c = self.gc
        d = decoding or Decoding(temperature=c.temperature, top_p=c.top_p, max_new_tokens=c.max_tokens,
                                 stop=tuple(c.stop), seed=c.seed)
        reqs = [ChatRequest(user=p.text, system=c.system, max_tokens=d.max_new_tokens, temperature=d.temperature,
                            top_p=d.top_p if d.top_p < 1.0 else None, stop=tuple(d.stop),
                            seed=(d.seed + k) if (d.seed is not None and self.supports_seed) else None, sample=k)
                for p in prompts for k in range(n)]
        values = iter(self.runner.run(reqs))
        out: list[list[Response]] = []
        for p in prompts:
            row = []
            for k in range(n):
                v = next(values)
                row.append(Response(id=f"{p.id}/r{k}", prompt_id=p.id, text=v["text"].strip(), topic=p.topic,
                                    sample=k, model=c.model, prompt_tokens=v["tokens_in"],
                                    completion_tokens=v["tokens_out"], finish_reason=v["finish_reason"]))
            out.append(row)
        return out


class ClaimsConfig(ApiConfig):
    max_tokens: int = Field(256, ge=1)
    merge_short: int = Field(0, ge=0, description="merge sentences of <= N words into the next (FactTune: 11)")
    max_facts: int = Field(32, ge=1, description="facts kept per sentence")
    system: str | None = Field(CHAT_EXTRACT_SYSTEM, description="system prompt (None: none)")


class ChatClaimExtractor(_ApiComponent):
    """Splits each sentence into atomic claims with a chat judge (few-shot, ``- fact`` lines)."""

    Config: ClassVar[type[ApiConfig]] = ClaimsConfig

    def __init__(self, config: ClaimsConfig, ctx: Context) -> None:
        super().__init__(config, ctx)
        self.cc = config

    def extract(self, responses: Sequence[Response]) -> list[list[Claim]]:
        c = self.cc
        sents: list[list[str]] = []
        reqs: list[ChatRequest] = []
        for r in responses:
            ss = split_sentences(r.text)
            if c.merge_short:
                ss = merge_short_sentences(ss, c.merge_short)
            sents.append(ss)
            reqs += [ChatRequest(user=extract_prompt(s, r.topic), system=c.system, max_tokens=c.max_tokens,
                                 temperature=c.temperature) for s in ss]
        values = iter(self.runner.run(reqs))
        out: list[list[Claim]] = []
        for r, ss in zip(responses, sents, strict=True):
            claims: list[Claim] = []
            for i, s in enumerate(ss):
                facts, dropped = parse_fact_lines(next(values)["text"], max_facts=c.max_facts)
                if dropped:
                    self.ctx.count("dropped_lines", dropped)
                for f in facts:
                    claims.append(Claim(id=f"{r.id}/c{len(claims)}", response_id=r.id, prompt_id=r.prompt_id,
                                        text=f, topic=r.topic, sentence=s, sentence_index=i))
            out.append(claims)
        return out


class VerifierConfig(ApiConfig):
    max_tokens: int = Field(16, ge=1, description="room for a chatty 'The statement is true.'")
    logprobs: Literal["auto"] | bool = Field(
        "auto", description="P(True) from the first token's top logprobs: auto (when the server gives "
                            "them), true (required), false (parse the text)")
    top_logprobs: int = Field(20, ge=1, le=20)
    system: str | None = Field(CHAT_TRUE_FALSE_SYSTEM, description="system prompt (None: none)")


class ChatVerifier(_ApiComponent):
    """True/False judge over the claim's evidence: P(True) from logprobs when the server returns
    them, else FActScore's text rule."""

    Config: ClassVar[type[ApiConfig]] = VerifierConfig
    belief: ClassVar[bool] = False  # belief scorers ask without evidence
    supports_logprobs: ClassVar[bool] = True

    def __init__(self, config: VerifierConfig, ctx: Context) -> None:
        super().__init__(config, ctx)
        self.vc = config
        if config.logprobs is True and not self.supports_logprobs:
            raise ConfigError(f"{self.backend.provider} does not return logprobs; set logprobs = false",
                              key=self.runner.key("logprobs"))

    def _user(self, claim: Claim, ev: Evidence | None) -> str:
        if self.belief:
            return belief_prompt(claim.text, claim.topic)
        return verify_prompt(claim.text, claim.topic, ev.passages if ev is not None else ())

    def verify(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[Verdict]:
        c = self.vc
        want = c.logprobs is not False and self.supports_logprobs
        reqs = [ChatRequest(user=self._user(cl, ev), system=c.system, max_tokens=c.max_tokens,
                            temperature=c.temperature, top_logprobs=c.top_logprobs if want else 0)
                for cl, ev in zip(claims, evidence, strict=True)]
        values = self.runner.run(reqs)
        out: list[Verdict] = []
        for cl, v in zip(claims, values, strict=True):
            text = v["text"] or ""
            p = None
            for pos in v.get("top") or []:
                p = p_true_from_logprobs([(t, lp) for t, lp in pos])
                if p is not None:
                    break
            if p is not None:
                self.ctx.count("verdicts_by_logprobs")
                out.append(Verdict(claim_id=cl.id, supported=p >= 0.5, p_true=p, judge=self.judge_name,
                                   raw=text))
                continue
            if c.logprobs is True:
                raise ComponentError("the server returned no True/False logprobs; set logprobs = 'auto' or false",
                                     key=self.runner.key("logprobs"))
            ok = parse_true_false(text)
            self.ctx.count("verdicts_by_text")
            out.append(Verdict(claim_id=cl.id, supported=ok, p_true=(1.0 if ok else 0.0) if self.belief else None,
                               judge=self.judge_name, raw=text))
        return out


class BeliefConfig(VerifierConfig):
    max_tokens: int = Field(4, ge=1)


class ChatBelief(ChatVerifier):
    """The judge's own P(True) for each claim, no evidence (Curious Case's belief score)."""

    Config: ClassVar[type[ApiConfig]] = BeliefConfig
    belief: ClassVar[bool] = True


def usage_summary(runners: Sequence[ApiRunner]) -> dict[str, Any]:
    """Totals over runners (handy for benches and tests)."""
    out: dict[str, Any] = {"calls": 0, "cached": 0, "retries": 0, "tokens_in": 0, "tokens_out": 0, "cost_usd": 0.0}
    for r in runners:
        u = r.usage
        out["calls"] += u.calls
        out["cached"] += u.cached
        out["retries"] += u.retries
        out["tokens_in"] += u.tokens_in
        out["tokens_out"] += u.tokens_out
        out["cost_usd"] += u.cost_usd
    return out


def classify_sdk_error(exc: BaseException, sdk: Any, url: str, timeout: float, api_key_env: str) -> Failure | None:
    """Map an exception of a Stainless-generated SDK (``openai``, ``anthropic``: same exception names)
    to a Failure; the SDK module is passed in, so the core imports neither."""
    if isinstance(exc, sdk.APITimeoutError):
        return Failure(True, f"no answer from {url} within {timeout:g}s", kind="timeout")
    if isinstance(exc, sdk.APIConnectionError):
        return connection_failure(exc, url)
    if isinstance(exc, sdk.APIStatusError):
        return http_failure(exc.status_code, exc.message, exc.response.headers, api_key_env)
    if isinstance(exc, sdk.APIResponseValidationError | json.JSONDecodeError | MalformedResponse):
        return Failure(True, f"malformed answer from {url}: {exc}", kind="malformed")
    return None

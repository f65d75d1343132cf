"""The chat components, provider-neutral: a generator, a claim extractor, a True/False verifier and a
belief scorer over the core's API runner, asking the core's judge prompts. A provider plugin
subclasses them and supplies only what is its own: the backend (wire format, SDK errors), its name,
price table and defaults, and whether its API takes seeds and returns logprobs::

    class _OpenAI(ChatComponent):
        provider, prices, backend_class = "openai", PRICES, OpenAIBackend

    class Chat(_OpenAI, ChatGenerator):
        class Config(ChatGenerator.Config, _Fields, GeneratorConfig): ...

Each component's ``Config`` here holds only its own fields (a mixin); the provider's table puts it
first, then the provider's shared fields (an ``ApiConfig`` with its default model and key variable),
so a field both define takes the component's default (pydantic takes each field from the first base
that has it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from ..contract.context import Context
from ..contract.errors import ComponentError, ConfigError
from ..contract.records import Claim, Decoding, Evidence, Prompt, Response, Verdict
from ..scoring.prompts import (
    CHAT_EXTRACT_SYSTEM,
    CHAT_TRUE_FALSE_SYSTEM,
    belief_prompt,
    extract_prompt,
    p_true_from_logprobs,
    parse_fact_lines,
    parse_true_false,
    verify_prompt,
)
from ..scoring.text import merge_short_sentences, sentence_claims, split_sentences
from .estimate import CallEstimate, estimate_requests
from .prices import PriceTable
from .runner import ApiRunner, ChatBackend, ChatRequest


def sampled_responses(prompts: Sequence[Prompt], n: int, values: Sequence[dict[str, Any]],
                      model: str | None) -> list[list[Response]]:
    """``n`` responses per prompt from the runner's answers, in request order (prompt-major)."""
    it = iter(values)
    out: list[list[Response]] = []
    for p in prompts:
        row = []
        for k in range(n):
            v = next(it)
            row.append(Response(id=f"{p.id}/r{k}", prompt_id=p.id, text=v["text"].strip(), topic=p.topic,
                                sample=k, model=model, prompt_tokens=v["tokens_in"],
                                completion_tokens=v["tokens_out"], finish_reason=v["finish_reason"]))
        out.append(row)
    return out


class ChatClaimsMixin:
    """A claim extractor over a chat runner: one few-shot call per sentence, ``- fact`` lines back.
    The component provides ``runner``, ``ctx`` and ``c`` (max_tokens, merge_short, max_facts, system,
    temperature)."""

    runner: Any
    ctx: Any
    c: Any

    def extract(self, responses: Sequence[Response]) -> list[list[Claim]]:
        return sentence_claims(responses, self._facts, self.ctx, merge_short=self.c.merge_short)

    def estimate(self, responses: Sequence[Response]) -> CallEstimate:
        """What ``extract`` would send (one call per sentence), sending nothing."""
        sentences = []
        for r in responses:
            sents = split_sentences(r.text)
            if self.c.merge_short:
                sents = merge_short_sentences(sents, self.c.merge_short)
            sentences += [(r, s) for s in sents]
        return estimate_requests(self.runner, self._requests(sentences))

    def _requests(self, sentences: list[tuple[Response, str]]) -> list[ChatRequest]:
        c = self.c
        return [ChatRequest(user=extract_prompt(s, r.topic), system=c.system, max_tokens=c.max_tokens,
                            temperature=c.temperature) for r, s in sentences]

    def _facts(self, sentences: list[tuple[Response, str]]) -> list[list[str]]:
        out = []
        for v in self.runner.run(self._requests(sentences)):
            facts, dropped = parse_fact_lines(v["text"], max_facts=self.c.max_facts)
            if dropped:
                self.ctx.count("dropped_lines", dropped)
            out.append(facts)
        return out


class ChatComponent:
    """A config, a context, the provider's backend and the core's runner. A provider sets
    ``provider`` (the judge name's prefix), ``prices`` (its price table), ``backend_class``, and
    ``seeds`` / ``logprobs``: whether its API takes seeds and returns top logprobs."""

    provider: ClassVar[str]
    prices: ClassVar[Path]
    backend_class: ClassVar[Callable[[Any, Context], ChatBackend]]
    seeds: ClassVar[bool] = True
    logprobs: ClassVar[bool] = True

    def __init__(self, config: Any, ctx: Context) -> None:
        self.ctx = ctx
        self.c = config
        self.model_name = config.model
        self.judge_name = f"{self.provider}:{config.model}"
        self.backend = type(self).backend_class(config, ctx)
        self.runner = ApiRunner(ctx, config, self.backend, PriceTable.from_json(self.prices, config.prices))


class ChatGenerator(ChatComponent):
    """n samples per prompt, one call each (sample k is sent seed + k where the API takes seeds)."""

    class Config(BaseModel):
        temperature: float = Field(1.0, ge=0.0, le=2.0)
        top_p: float = Field(1.0, gt=0.0, le=1.0)
        max_tokens: int = Field(512, ge=1)
        seed: int | None = Field(None, description="sample k is sent seed + k")
        system: str | None = Field(None, description="system prompt")
        stop: list[str] = Field(default_factory=list)
        adapter: str | None = Field(None, description="not supported by API generators: serve the adapter "
                                                      "as a model (vLLM --lora-modules) and set model")

    def __init__(self, config: Any, ctx: Context) -> None:
        if config.adapter:
            raise ConfigError("an API generator cannot apply a LoRA adapter; serve it as a model "
                              "(e.g. vLLM --lora-modules name=dir) and set model", key=ctx.key_for("adapter"))
        super().__init__(config, ctx)

    def generate(self, prompts: Sequence[Prompt], n: int = 1, decoding: Decoding | None = None
                 ) -> list[list[Response]]:
        c = self.c
        d = decoding or Decoding(temperature=c.temperature, top_p=c.top_p, max_new_tokens=c.max_tokens,
                                 stop=tuple(c.stop), seed=c.seed)
        values = self.runner.run([ChatRequest.for_sample(p.text, c.system, d, k, seeds=self.seeds)
                                  for p in prompts for k in range(n)])
        return sampled_responses(prompts, n, values, c.model)


class ChatClaims(ChatClaimsMixin, ChatComponent):
    """Atomic claims per sentence by a chat judge (few-shot, ``- fact`` lines)."""

    class Config(BaseModel):
        max_tokens: int = Field(256, ge=1)
        merge_short: int = Field(0, ge=0, description="merge sentences of <= N words into the next (FactTune: 11)")
        max_facts: int = Field(32, ge=1, description="facts kept per sentence")
        system: str | None = Field(CHAT_EXTRACT_SYSTEM, description="system prompt (None: none)")


class ChatTrueFalse(ChatComponent):
    """True/False verdict over the evidence: P(True) from the first token's logprobs when the API
    returns them, else FActScore's rule on the text."""

    belief: ClassVar[bool] = False  # a belief scorer asks without evidence

    class Config(BaseModel):
        max_tokens: int = Field(16, ge=1, description="room for a chatty 'The statement is true.'")
        logprobs: Literal["auto"] | bool = Field(
            "auto", description="P(True) from the first token's top logprobs: auto (when the server gives "
                                "them), true (required), false (parse the text)")
        top_logprobs: int = Field(20, ge=1, le=20)
        system: str | None = Field(CHAT_TRUE_FALSE_SYSTEM, description="system prompt (None: none)")

    def __init__(self, config: Any, ctx: Context) -> None:
        super().__init__(config, ctx)
        if config.logprobs and not self.logprobs:
            raise ConfigError(f"{self.provider} does not return logprobs; set logprobs = false",
                              key=ctx.key_for("logprobs"))

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


class ChatBelief(ChatTrueFalse):
    """The judge's own P(True) per claim from logprobs, no evidence (Curious Case's belief score)."""

    belief = True

    class Config(ChatTrueFalse.Config):
        max_tokens: int = Field(4, ge=1)

"""Client-side machinery for API components (no SDK import here).

Shared by every plugin that talks to a hosted or self-hosted model over HTTP (``openai``,
``anthropic``, a third-party provider), so each plugin only writes a thin *backend*: how to open a
client, send one :class:`ChatRequest`, and classify an SDK exception.

- :class:`RateLimiter`: a token bucket for requests-per-minute and tokens-per-minute limits.
- :func:`backoff_delay`, :func:`retry_after_seconds`, :func:`http_failure`: retry policy
  (exponential backoff with jitter, honouring ``Retry-After``) and HTTP status semantics.
- :class:`PriceTable`: usage → estimated cost ($ per 1M tokens in/out, overridable per model).
- :class:`ApiRunner`: runs a batch of requests concurrently (bounded by ``max_concurrency``),
  every call through the call cache, each answer stored as soon as it arrives, so a kill mid-batch
  loses only in-flight calls; a non-retryable error stops the batch with one line naming the
  recipe key, keeping everything already answered.
- :func:`run_sync`: runs a coroutine from synchronous code, also when an event loop is running.
- :class:`ApiConfig`, :class:`ChatGenerator`, :class:`ChatClaimExtractor`, :class:`ChatVerifier`:
  provider-independent components; a plugin subclasses them with its backend and defaults.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import math
import random
import re
import threading
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from .cache import call_key
from .contract.config import runtime_field
from .contract.context import Context
from .contract.errors import ComponentError, ConfigError
from .contract.protocols import GeneratorConfig as BaseGeneratorConfig
from .contract.records import Claim, Decoding, Evidence, Prompt, Response, Verdict
from .prompts import (
    CHAT_EXTRACT_SYSTEM,
    CHAT_TRUE_FALSE_SYSTEM,
    belief_prompt,
    extract_prompt,
    p_true_from_logprobs,
    parse_fact_lines,
    parse_true_false,
    verify_prompt,
)
from .text import merge_short_sentences, split_sentences

T = TypeVar("T")

# ---------------------------------------------------------------------------- sync bridge


def run_sync(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``make()`` to completion. Uses ``asyncio.run`` normally; when this thread already runs
    an event loop (a notebook, an async caller), runs it on a fresh loop in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(make())
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    th = threading.Thread(target=target, name="facttune-api", daemon=True)
    th.start()
    th.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- rate limits


class RateLimiter:
    """A token bucket refilled at ``per_minute / 60`` units per second, holding at most
    ``burst_seconds`` worth (at least one request's amount). ``acquire(n)`` waits for n units;
    ``settle(delta)`` corrects an estimate after the fact (tokens actually used)."""

    def __init__(self, per_minute: float, burst_seconds: float = 1.0) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_seconds)
        self.level = self.capacity
        self.stamp = time.monotonic()
        self._lock: asyncio.Lock | None = None

    def _refill(self) -> None:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    async def acquire(self, amount: float = 1.0) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        amount = min(float(amount), self.capacity)  # one oversized request waits for a full bucket
        async with self._lock:  # FIFO: waiters are served in order
            while True:
                self._refill()
                if self.level >= amount:
                    self.level -= amount
                    return
                await asyncio.sleep((amount - self.level) / self.rate)

    def settle(self, delta: float) -> None:
        self._refill()
        self.level = min(self.capacity, self.level - delta)


# ---------------------------------------------------------------------------- retry policy


@dataclass(frozen=True)
class Failure:
    """What to do about one failed call (a plugin's ``classify`` maps SDK exceptions to this).

    ``field``: the config field the user should fix (``base_url``, ``model``, ``api_key_env``),
    or None for the component's table. ``kind`` names the retry counter (``429``, ``5xx``,
    ``timeout``, ``connection``, ``malformed``); ``refused``: the connection was refused (server
    down or wrong ``base_url``): after a couple of quick tries with nothing answered yet, stop."""

    retry: bool
    message: str
    kind: str = "error"
    field: str | None = None
    retry_after: float | None = None
    refused: bool = False


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    try:
        return max(0.0, float(ra))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(ra)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_delay(attempt: int, base: float = 0.5, cap: float = 30.0, retry_after: float | None = None,
                  rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: half of ``min(cap, base·2^attempt)`` plus a random half.
    A server's ``Retry-After`` is a floor (plus up to 10% jitter so waiters do not stampede)."""
    r = rng or random
    d = min(cap, base * (2 ** attempt))
    delay = d / 2 + r.uniform(0, d / 2)
    if retry_after is not None and math.isfinite(retry_after):
        ra = min(retry_after, 300.0)
        delay = ra + r.uniform(0, 0.1 * ra + 0.01)
    return delay


def _one_line(text: str, limit: int = 240) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def http_failure(status: int, message: str, headers: Mapping[str, str] | None = None,
                 key_env: str = "the API key variable") -> Failure:
    """HTTP status semantics shared by every provider: 408/409/429/5xx (and Anthropic's 529) are
    retried, honouring Retry-After; 401/403 blame the key; 404 the model or the base_url; other
    4xx stop the batch."""
    msg = _one_line(message)
    ra = retry_after_seconds(headers)
    if status == 429:
        return Failure(True, f"rate limited (429): {msg}", kind="429", retry_after=ra)
    if status in (408, 409) or status >= 500:
        return Failure(True, f"server error ({status}): {msg}", kind="5xx", retry_after=ra)
    if status in (401, 403):
        what = "rejected the API key" if status == 401 else "refused access with the API key"
        return Failure(False, f"the server {what} in ${key_env} ({status}): {msg}", field="api_key_env")
    if status == 404:
        if re.search(r"model", msg, re.I):
            return Failure(False, f"model not found (404): {msg}", field="model")
        return Failure(False, f"the server answered 404 Not Found (wrong base_url?): {msg}", field="base_url")
    return Failure(False, f"request rejected ({status}): {msg}")


class MalformedResponse(Exception):
    """A 200 answer a backend cannot read (no choices, no text, broken JSON): retried."""


# ---------------------------------------------------------------------------- prices


class PriceTable:
    """$ per 1M tokens (input, output) per model. A model matches its exact name, else the
    longest key it starts with (``gpt-4o-mini-2024-07-18`` → ``gpt-4o-mini``). Unknown → None."""

    def __init__(self, table: Mapping[str, Sequence[float]] | None = None) -> None:
        self.table = {k: (float(v[0]), float(v[1])) for k, v in (table or {}).items()}

    @classmethod
    def from_json(cls, path: Path | str, overrides: Mapping[str, Sequence[float]] | None = None) -> PriceTable:
        p = Path(path)
        data = json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}
        table = {k: v for k, v in data.items() if not k.startswith("_")}
        table.update(overrides or {})
        return cls(table)

    def price(self, model: str) -> tuple[float, float] | None:
        if model in self.table:
            return self.table[model]
        best = max((k for k in self.table if model.startswith(k)), key=len, default=None)
        return self.table[best] if best else None

    def cost_usd(self, model: str, tokens_in: int, tokens_out: int) -> float | None:
        p = self.price(model)
        if p is None:
            return None
        return (tokens_in * p[0] + tokens_out * p[1]) / 1e6


# ---------------------------------------------------------------------------- chat requests


@dataclass(frozen=True)
class ChatRequest:
    """One chat call, provider-neutral. ``sample`` only tells apart repeated samples of the same
    request in the cache (it is not sent). ``top_logprobs`` 0 asks for no logprobs."""

    user: str
    system: str | None = None
    max_tokens: int = 256
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    top_logprobs: int = 0
    sample: int = 0

    def cache_input(self) -> dict[str, Any]:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d

    def estimate_tokens(self) -> int:
        """A rough count for the tokens-per-minute limiter (≈ 4 characters a token)."""
        return (len(self.user) + len(self.system or "")) // 4 + 8 + self.max_tokens


@dataclass
class ChatResult:
    """What a backend returns (and what the cache keeps). ``top``: for the first few output
    positions, the top alternatives as ``[token, logprob]`` (None when the server gave none)."""

    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    finish_reason: str | None = None
    top: list[list[tuple[str, float]]] | None = None

    def to_value(self) -> dict[str, Any]:
        return {"text": self.text, "tokens_in": self.tokens_in, "tokens_out": self.tokens_out,
                "finish_reason": self.finish_reason,
                "top": [[[t, lp] for t, lp in pos] for pos in self.top] if self.top is not None else None}


class ChatBackend(Protocol):
    """What a provider plugin implements (thin: SDK client, one call, error mapping)."""

    provider: str  # "openai": the cache namespace

    def open(self) -> Any:
        """Create the SDK's async client (inside the running loop). Raise ConfigError when the
        key is missing. Only called when some call is not cached."""
        ...

    async def close(self, client: Any) -> None: ...

    async def complete(self, client: Any, req: ChatRequest) -> ChatResult:
        """Send one request; raise the SDK's exceptions (or MalformedResponse) on failure."""
        ...

    def classify(self, exc: BaseException) -> Failure | None:
        """Map an exception from ``complete`` to a Failure; None = a bug, re-raised."""
        ...


# ---------------------------------------------------------------------------- config


class ApiConfig(BaseModel):
    """Fields every API component shares. Subclasses set provider defaults."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="model name as the server knows it")
    base_url: str | None = Field(None, description="another server speaking this API (vLLM, llama.cpp, Ollama...)")
    api_key_env: str = Field("OPENAI_API_KEY", description="environment variable holding the API key")
    max_tokens: int = Field(256, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_concurrency: int = runtime_field(32, ge=1, description="calls in flight at once")
    rpm: float | None = runtime_field(None, gt=0, description="requests per minute (None: no limit)")
    tpm: float | None = runtime_field(None, gt=0, description="tokens per minute, estimated (None: no limit)")
    timeout: float = runtime_field(60.0, gt=0, description="seconds per call before it is retried")
    max_retries: int = runtime_field(8, ge=0, description="retries per call on 429/5xx/timeouts/connection errors")
    backoff_base: float = runtime_field(0.5, gt=0, description="first backoff delay, doubled per retry (s)")
    backoff_max: float = runtime_field(30.0, gt=0, description="longest backoff delay (s)")
    prices: dict[str, tuple[float, float]] | None = runtime_field(
        None, description="$ per 1M tokens [in, out] per model, over the plugin's table")


# ---------------------------------------------------------------------------- the runner


@dataclass
class Usage:
    calls: int = 0
    cached: int = 0
    retries: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class ApiRunner:
    """Runs chat requests for one component: cache → bounded concurrent calls → cache."""

    def __init__(self, ctx: Context, config: ApiConfig, backend: ChatBackend, prices: PriceTable | None = None,
                 secrets: Callable[[], Sequence[str]] | None = None, rng: random.Random | None = None) -> None:
        self.ctx = ctx
        self.c = config
        self.backend = backend
        self.prices = prices or PriceTable(config.prices)
        self.secrets = secrets or (lambda: ())
        self.rng = rng or random.Random()
        self.usage = Usage()
        self.rpm = RateLimiter(config.rpm) if config.rpm else None
        self.tpm = RateLimiter(config.tpm) if config.tpm else None
        self.answered_ok = False  # any call answered in this component's life (refused → stop early)

    # -- naming
    def key(self, name: str | None) -> str:
        base = self.ctx.key
        if not name:
            return base
        return f"{base}.{name}" if base else name

    def _scrub(self, text: str) -> str:
        for s in self.secrets():
            if s and len(s) >= 4:
                text = text.replace(s, "***")
        return text

    def cache_key(self, req: ChatRequest) -> str:
        params = {"base_url": self.c.base_url} if self.c.base_url else None
        return call_key(f"{self.backend.provider}/chat", self.c.model, req.cache_input(), params)

    # -- public
    def run(self, requests: Sequence[ChatRequest]) -> list[dict[str, Any]]:
        """Answers aligned with ``requests`` (dicts as :meth:`ChatResult.to_value`)."""
        if not requests:
            return []
        keys = [self.cache_key(r) for r in requests]
        found = self.ctx.cache.get_many(keys)
        todo: dict[str, ChatRequest] = {}
        for k, r in zip(keys, requests, strict=True):
            if k not in found and k not in todo:
                todo[k] = r
        hits = len(requests) - sum(1 for k in keys if k not in found)
        if hits:
            self.usage.cached += hits
            self.ctx.count("api_cache_hits", hits)
        if todo:
            run_sync(lambda: self._run_async(todo, found, total=len(requests)))
        return [found[k] for k in keys]

    async def _run_async(self, todo: dict[str, ChatRequest], found: dict[str, Any], total: int) -> None:
        client = self.backend.open()
        items = list(todo.items())
        it = iter(items)
        answered = 0
        self.ctx.progress(0, total)

        async def worker() -> None:
            nonlocal answered
            for k, req in it:
                value = await self._call(client, req)
                self.ctx.cache.put(k, value, f"{self.backend.provider}/chat")
                found[k] = value
                answered += 1
                self.ctx.progress(1, total)

        n_workers = min(self.c.max_concurrency, len(items))
        tasks = [asyncio.ensure_future(worker()) for _ in range(n_workers)]
        try:
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            for t in done:
                exc = t.exception()
                if exc is not None:
                    if isinstance(exc, ComponentError) and found:
                        raise ComponentError(f"{exc.message} ({len(found)} answered calls are kept in the cache; "
                                             "rerun to resume)", key=exc.key) from None
                    raise exc
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            try:
                await self.backend.close(client)
            except Exception:  # closing must not hide the real error
                pass

    async def _call(self, client: Any, req: ChatRequest) -> dict[str, Any]:
        attempt = 0
        refused = 0
        est = req.estimate_tokens()
        while True:
            if self.rpm is not None:
                await self.rpm.acquire(1)
            if self.tpm is not None:
                await self.tpm.acquire(est)
            try:
                res = await self.backend.complete(client, req)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failure = self.backend.classify(exc)
                if failure is None:
                    if isinstance(exc, MalformedResponse):
                        failure = Failure(True, f"malformed answer: {exc}", kind="malformed")
                    else:
                        raise
                if self.tpm is not None:
                    self.tpm.settle(-est)  # nothing was used: give the estimate back
                if failure.refused:
                    refused += 1
                retry_ok = failure.retry and attempt < self.c.max_retries
                if failure.refused and not self.answered_ok and refused > 2:
                    retry_ok = False  # server down or wrong base_url: say so now, not in minutes
                if not retry_ok:
                    why = self._scrub(failure.message)
                    if failure.retry and not (failure.refused and not self.answered_ok):
                        why = f"gave up after {attempt} retries: {why}"
                    raise ComponentError(why, key=self.key(failure.field)) from None
                delay = backoff_delay(attempt, self.c.backoff_base, self.c.backoff_max, failure.retry_after,
                                      self.rng)
                if failure.refused and not self.answered_ok:
                    delay = min(delay, 0.5)
                attempt += 1
                self.usage.retries += 1
                self.usage.by_kind[failure.kind] = self.usage.by_kind.get(failure.kind, 0) + 1
                self.ctx.count("api_retries")
                self.ctx.count(f"api_retries_{failure.kind}")
                await asyncio.sleep(delay)
                continue
            self.answered_ok = True
            if self.tpm is not None:
                self.tpm.settle(res.tokens_in + res.tokens_out - est)
            self._account(res)
            return res.to_value()

    def _account(self, res: ChatResult) -> None:
        u = self.usage
        u.calls += 1
        u.tokens_in += res.tokens_in
        u.tokens_out += res.tokens_out
        self.ctx.count("api_calls")
        self.ctx.count("tokens_in", res.tokens_in)
        self.ctx.count("tokens_out", res.tokens_out)
        cost = self.prices.cost_usd(self.c.model, res.tokens_in, res.tokens_out)
        if cost is None:
            u.unpriced_calls += 1
            self.ctx.count("api_calls_unpriced")
        else:
            u.cost_usd += cost
            self.ctx.count("cost_microusd", int(round(cost * 1e6)))


# ---------------------------------------------------------------------------- components


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


@functools.lru_cache(maxsize=1)
def shared_ssl_context() -> Any:
    """One SSL context per process for every API client: building one loads the CA bundle
    (~0.1 s), and a component opens a client per batch. Pass it as the HTTP client's ``verify``."""
    try:
        import httpx2 as hx  # what the current SDKs use
    except ImportError:  # pragma: no cover - older SDKs use httpx
        import httpx as hx  # type: ignore[no-redef]
    return hx.create_ssl_context()


def connection_refused(exc: BaseException) -> bool:
    """True when the exception (or what caused it) is a refused connection: server down or a
    wrong host/port in ``base_url``. SDK-neutral: walks the cause chain."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, ConnectionRefusedError) or type(e).__name__ in ("ConnectError", "ConnectionRefusedError"):
            return True
        e = e.__cause__ or e.__context__
    return False


def connection_failure(exc: BaseException, url: str) -> Failure:
    """A retryable Failure for a connection error (dropped, reset, refused), blaming base_url."""
    refused = connection_refused(exc)
    cause = exc.__cause__ or exc.__context__
    detail = _one_line(f"{type(cause).__name__}: {cause}" if cause is not None else str(exc), 160)
    msg = (f"cannot connect to {url} (server down or wrong base_url?): {detail}" if refused
           else f"connection error talking to {url}: {detail}")
    return Failure(True, msg, kind="connection", field="base_url", refused=refused)


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


__all__ = [
    "classify_sdk_error",
    "ApiConfig", "ApiRunner", "BeliefConfig", "ChatBackend", "ChatBelief", "ChatClaimExtractor", "ChatGenerator",
    "ChatRequest", "ChatResult", "ChatVerifier", "ClaimsConfig", "Failure", "connection_failure",
    "connection_refused", "shared_ssl_context", "GeneratorConfig", "MalformedResponse",
    "PriceTable", "RateLimiter", "Usage", "VerifierConfig", "backoff_delay", "http_failure", "retry_after_seconds",
    "run_sync", "usage_summary",
]

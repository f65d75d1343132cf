"""The API runner: chat requests through the call cache, run concurrently (bounded by
``max_concurrency``), rate-limited and retried; each answer stored as soon as it arrives."""

from __future__ import annotations

import asyncio
import functools
import os
import random
import threading
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ..contract.cache import call_key
from ..contract.config import runtime_field
from ..contract.context import Context
from ..contract.errors import ComponentError
from ..contract.records import Decoding
from .limits import RateLimiter
from .prices import PriceTable
from .retry import Failure, MalformedResponse, backoff_delay

T = TypeVar("T")


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

    @classmethod
    def for_sample(cls, user: str, system: str | None, d: Decoding, k: int, seeds: bool = True) -> ChatRequest:
        """Sample ``k`` of a prompt under ``d``: seed ``d.seed + k`` where the API takes seeds."""
        return cls(user=user, system=system, max_tokens=d.max_new_tokens, temperature=d.temperature,
                   top_p=d.top_p if d.top_p < 1.0 else None, stop=tuple(d.stop),
                   seed=d.seed + k if d.seed is not None and seeds else None, sample=k)

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

    provider: str  # the cache namespace (the plugin's name)

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
    api_key_env: str = Field(description="environment variable holding the API key")
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
    """Runs chat requests for one component: cache → bounded concurrent calls → cache. Error
    messages never show the key in ``$api_key_env``."""

    def __init__(self, ctx: Context, config: ApiConfig, backend: ChatBackend, prices: PriceTable | None = None,
                 rng: random.Random | None = None) -> None:
        self.ctx = ctx
        self.c = config
        self.backend = backend
        self.prices = prices or PriceTable(config.prices)
        self.rng = rng or random.Random()
        self.usage = Usage()
        self.rpm = RateLimiter(config.rpm) if config.rpm else None
        self.tpm = RateLimiter(config.tpm) if config.tpm else None
        self.answered_ok = False  # any call answered in this component's life (refused → stop early)

    # -- naming
    def key(self, name: str | None) -> str:
        return self.ctx.key_for(name) if name else self.ctx.key

    def _scrub(self, text: str) -> str:
        secret = os.environ.get(self.c.api_key_env, "")
        return text.replace(secret, "***") if len(secret) >= 4 else text

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


@functools.lru_cache(maxsize=1)
def shared_ssl_context() -> Any:
    """One SSL context per process for every API client: building one loads the CA bundle
    (~0.1 s), and a component opens a client per batch. Pass it as the HTTP client's ``verify``."""
    try:
        import httpx2 as hx  # what the current SDKs use
    except ImportError:  # pragma: no cover - older SDKs use httpx
        import httpx as hx  # type: ignore[no-redef]
    return hx.create_ssl_context()

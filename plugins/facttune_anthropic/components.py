"""Anthropic Messages API components.

Only the backend is Anthropic-specific; batching, caching, limits, retries and accounting live in
``facttune_core.concurrency``. The Messages API returns no logprobs, so the verifier reads the text
(FActScore's rule) and there is no belief scorer. The SDK is imported when a call is made.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from facttune_core import ConfigError, Context
from facttune_core.api.chat import (
    ApiConfig,
    ChatBackend,
    ChatClaimExtractor,
    ChatGenerator,
    ChatRequest,
    ChatVerifier,
    ClaimsConfig,
    Failure,
    GeneratorConfig,
    MalformedResponse,
    VerifierConfig,
    classify_sdk_error,
)
from facttune_core.api.runner import ChatResult, shared_ssl_context

PRICES = Path(__file__).with_name("prices.json")
DEFAULT_MODEL = "claude-haiku-4-5"
MODEL_DOC = "Anthropic model name (e.g. claude-haiku-4-5, claude-sonnet-4-5)"
KEY_DOC = "environment variable holding the API key"
OFFICIAL_URL = "https://api.anthropic.com"


@functools.lru_cache(maxsize=1)
def _sdk_takes_sampling() -> bool:
    import inspect

    from anthropic.resources.messages import AsyncMessages

    return "temperature" in inspect.signature(AsyncMessages.create).parameters


class AnthropicBackend:
    """One Messages call with ``anthropic.AsyncAnthropic`` (SDK retries off: ours run)."""

    provider = "anthropic"

    def __init__(self, config: ApiConfig, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx
        self.url = config.base_url or os.environ.get("ANTHROPIC_BASE_URL") or OFFICIAL_URL

    def _key(self, name: str) -> str:
        return f"{self.ctx.key}.{name}" if self.ctx.key else name

    def open(self) -> Any:
        import anthropic

        key = os.environ.get(self.c.api_key_env)
        if not key:
            raise ConfigError(f"environment variable {self.c.api_key_env} is not set (the Anthropic API key); "
                              "export it, or name another variable here", key=self._key("api_key_env"))
        return anthropic.AsyncAnthropic(api_key=key, base_url=self.c.base_url, timeout=self.c.timeout,
                                        max_retries=0,
                                        http_client=anthropic.DefaultAsyncHttpxClient(verify=shared_ssl_context()))

    async def close(self, client: Any) -> None:
        await client.close()

    async def complete(self, client: Any, req: ChatRequest) -> ChatResult:
        kw: dict[str, Any] = {"model": self.c.model, "max_tokens": req.max_tokens,
                              "messages": [{"role": "user", "content": req.user}]}
        if req.system:
            kw["system"] = req.system
        if _sdk_takes_sampling():  # SDKs up to 1.x; the 2.x SDK dropped temperature / top_p (API default)
            if req.top_p is not None:  # models of 2025 refuse temperature and top_p together
                kw["top_p"] = req.top_p
            elif req.temperature is not None:
                kw["temperature"] = req.temperature
        if req.stop:
            kw["stop_sequences"] = [s for s in req.stop if s.strip()]
        resp = await client.messages.create(**kw)
        if isinstance(resp, str) or getattr(resp, "content", None) is None:
            raise MalformedResponse("no content in the answer")
        text = "".join(getattr(b, "text", "") for b in resp.content if getattr(b, "type", "") == "text")
        usage = resp.usage
        return ChatResult(text=text, tokens_in=int(getattr(usage, "input_tokens", 0) or 0),
                          tokens_out=int(getattr(usage, "output_tokens", 0) or 0),
                          finish_reason=getattr(resp, "stop_reason", None))

    def classify(self, exc: BaseException) -> Failure | None:
        import anthropic

        return classify_sdk_error(exc, anthropic, self.url, self.c.timeout, self.c.api_key_env)


class _Fields(BaseModel):
    """The fields whose defaults differ per provider; the rest come from the shared configs."""

    model: str = Field(DEFAULT_MODEL, description=MODEL_DOC)
    api_key_env: str = Field("ANTHROPIC_API_KEY", description=KEY_DOC)


class _Anthropic:
    price_file = PRICES

    def make_backend(self) -> ChatBackend:
        return AnthropicBackend(self.c, self.ctx)  # type: ignore[attr-defined]


class Messages(_Anthropic, ChatGenerator):
    """Anthropic Messages API: n samples per prompt (no seeds: the API has none)."""

    supports_seed: ClassVar[bool] = False

    class Config(_Fields, GeneratorConfig):
        pass


class Claims(_Anthropic, ChatClaimExtractor):
    """Atomic claims per sentence by a Claude judge."""

    class Config(_Fields, ClaimsConfig):
        pass


class TrueFalse(_Anthropic, ChatVerifier):
    """True/False verdict over the evidence by a Claude judge (text: the API has no logprobs)."""

    supports_logprobs: ClassVar[bool] = False

    class Config(_Fields, VerifierConfig):
        logprobs: bool = Field(False, description="the Messages API has no logprobs: always false")

"""The Anthropic backend: one Messages API call with the ``anthropic`` SDK, and what its exceptions
mean. The SDK is imported when a call is made."""

from __future__ import annotations

import functools
import json
import os
from typing import Any

from facttune_core import (
    ApiConfig,
    ChatRequest,
    ChatResult,
    ConfigError,
    Context,
    Failure,
    MalformedResponse,
    connection_failure,
    http_failure,
    shared_ssl_context,
)

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

    def open(self) -> Any:
        import anthropic

        key = os.environ.get(self.c.api_key_env)
        if not key:
            raise ConfigError(f"environment variable {self.c.api_key_env} is not set (the Anthropic API key); "
                              "export it, or name another variable here", key=self.ctx.key_for("api_key_env"))
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

        if isinstance(exc, anthropic.APITimeoutError):
            return Failure(True, f"no answer from {self.url} within {self.c.timeout:g}s", kind="timeout")
        if isinstance(exc, anthropic.APIConnectionError):
            return connection_failure(exc, self.url)
        if isinstance(exc, anthropic.APIStatusError):  # 529 "overloaded" is a 5xx: retried
            return http_failure(exc.status_code, exc.message, exc.response.headers, self.c.api_key_env)
        if isinstance(exc, anthropic.APIResponseValidationError | json.JSONDecodeError | MalformedResponse):
            return Failure(True, f"malformed answer from {self.url}: {exc}", kind="malformed")
        return None


"""The OpenAI backend: one chat-completions call with the ``openai`` SDK (also every OpenAI-compatible
server via ``base_url``), and what its exceptions mean. The SDK is imported when a call is made."""

from __future__ import annotations

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

OFFICIAL_URL = "https://api.openai.com/v1"


def parse_chat_completion(resp: Any) -> ChatResult:
    """A chat.completion JSON body → ChatResult (first choice; top logprobs of the first 3 tokens)."""
    try:
        ch = resp["choices"][0]
        msg = ch["message"]
        text = msg.get("content") or ""
        top = None
        content = (ch.get("logprobs") or {}).get("content") or []
        if content:
            top = [[(str(t["token"]), float(t["logprob"])) for t in (pos.get("top_logprobs") or [])]
                   or [(str(pos["token"]), float(pos["logprob"]))] for pos in content[:3]]
        usage = resp.get("usage") or {}
        return ChatResult(text=str(text), tokens_in=int(usage.get("prompt_tokens") or 0),
                          tokens_out=int(usage.get("completion_tokens") or 0),
                          finish_reason=ch.get("finish_reason"), top=top)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedResponse(f"not a chat.completion ({type(exc).__name__}: {exc})") from None


class OpenAIBackend:
    """One chat-completions call with ``openai.AsyncOpenAI`` (SDK retries off: ours run)."""

    provider = "openai"

    def __init__(self, config: ApiConfig, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx
        self.no_logprobs = False  # set when the server rejects the logprobs parameters
        self.url = config.base_url or os.environ.get("OPENAI_BASE_URL") or OFFICIAL_URL

    def open(self) -> Any:
        import openai

        key = os.environ.get(self.c.api_key_env)
        if not key:
            if self.c.base_url is None:
                raise ConfigError(f"environment variable {self.c.api_key_env} is not set (the OpenAI API key); "
                                  "export it, or name another variable here", key=self.ctx.key_for("api_key_env"))
            key = "no-key"  # local servers (vLLM, llama.cpp, Ollama) accept any key unless started with one
        return openai.AsyncOpenAI(api_key=key, base_url=self.c.base_url, timeout=self.c.timeout, max_retries=0,
                                  http_client=openai.DefaultAsyncHttpxClient(verify=shared_ssl_context()))

    async def close(self, client: Any) -> None:
        await client.close()

    async def complete(self, client: Any, req: ChatRequest) -> ChatResult:
        import openai

        messages: list[dict[str, str]] = []
        if req.system:
            messages.append({"role": "system", "content": req.system})
        messages.append({"role": "user", "content": req.user})
        kw: dict[str, Any] = {"model": self.c.model, "messages": messages, "max_tokens": req.max_tokens}
        if req.temperature is not None:
            kw["temperature"] = req.temperature
        if req.top_p is not None:
            kw["top_p"] = req.top_p
        if req.stop:
            kw["stop"] = list(req.stop)
        if req.seed is not None:
            kw["seed"] = req.seed
        if req.top_logprobs and not self.no_logprobs:
            kw["logprobs"] = True
            kw["top_logprobs"] = req.top_logprobs
        try:
            # The SDK's client (auth, base_url, timeouts, typed errors) without its per-call param
            # transform and response models: a third less CPU per call, and lenient with the
            # small deviations of compatible servers. The body is exactly chat.completions.create's.
            resp = await client.post("/chat/completions", body=kw, cast_to=object)
        except openai.BadRequestError as exc:
            if "logprobs" in kw and "logprob" in str(exc).lower():
                self.no_logprobs = True  # this model/server has none: ask without, read the text
                self.ctx.count("logprobs_unsupported")
                return await self.complete(client, req)
            raise
        return parse_chat_completion(resp)

    def classify(self, exc: BaseException) -> Failure | None:
        import openai

        if isinstance(exc, openai.APITimeoutError):
            return Failure(True, f"no answer from {self.url} within {self.c.timeout:g}s", kind="timeout")
        if isinstance(exc, openai.APIConnectionError):
            return connection_failure(exc, self.url)
        if isinstance(exc, openai.APIStatusError):
            return http_failure(exc.status_code, exc.message, exc.response.headers, self.c.api_key_env)
        if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError | MalformedResponse):
            return Failure(True, f"malformed answer from {self.url}: {exc}", kind="malformed")
        return None


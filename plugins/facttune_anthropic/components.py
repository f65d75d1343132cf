"""Anthropic Messages API components.

The components themselves are the core's chat components (the runner, the judge prompts and
parsers); this plugin supplies what is Anthropic's: the wire format (:mod:`.backend`), the price
table and the defaults. The Messages API returns no logprobs and takes no seeds, so the verifier
reads the text (FActScore's rule) and there is no belief scorer.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from facttune_core import ApiConfig, ChatClaims, ChatComponent, ChatGenerator, ChatTrueFalse, GeneratorConfig

from .backend import AnthropicBackend

PRICES = Path(__file__).with_name("prices.json")


class _Fields(ApiConfig):
    """What every Anthropic component's table shares."""

    model: str = Field("claude-haiku-4-5", description="Anthropic model name (e.g. claude-haiku-4-5, "
                                                       "claude-sonnet-4-5)")
    api_key_env: str = Field("ANTHROPIC_API_KEY", description="environment variable holding the API key")


class _Anthropic(ChatComponent):
    provider, prices, backend_class = "anthropic", PRICES, AnthropicBackend
    seeds = logprobs = False


class Messages(_Anthropic, ChatGenerator):
    """Anthropic Messages API: n samples per prompt, one call each (no seeds: the API has none)."""

    class Config(ChatGenerator.Config, _Fields, GeneratorConfig):
        seed: int | None = Field(None, description="ignored: the Messages API takes no seed")
        adapter: str | None = Field(None, description="not supported by API generators")


class Claims(_Anthropic, ChatClaims):
    """Atomic claims per sentence by a Claude judge (few-shot, ``- fact`` lines)."""

    class Config(ChatClaims.Config, _Fields):
        pass


class TrueFalse(_Anthropic, ChatTrueFalse):
    """True/False verdict over the evidence by a Claude judge (FActScore's rule on the text)."""

    class Config(ChatTrueFalse.Config, _Fields):
        logprobs: bool = Field(False, description="the Messages API has no logprobs: always false")  # type: ignore[assignment]
        top_logprobs: int = Field(20, ge=1, le=20, description="unused: the Messages API has no logprobs")

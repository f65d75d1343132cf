"""OpenAI chat-completions components (and every OpenAI-compatible server via ``base_url``).

The components themselves are the core's chat components (``ChatGenerator``, ``ChatClaims``,
``ChatTrueFalse``, ``ChatBelief``: the runner, the judge prompts and parsers); this plugin supplies
what is OpenAI's: the wire format (:mod:`.backend`), the price table and the defaults.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from facttune_core import (
    ApiConfig,
    ChatBelief,
    ChatClaims,
    ChatComponent,
    ChatGenerator,
    ChatTrueFalse,
    GeneratorConfig,
)

from .backend import OpenAIBackend

PRICES = Path(__file__).with_name("prices.json")
MODEL_DOC = "model name as the server knows it (vLLM: the served name; Ollama: e.g. llama3.2)"


class _Fields(ApiConfig):
    """What every OpenAI component's table shares."""

    model: str = Field("gpt-4o-mini", description=MODEL_DOC)
    api_key_env: str = Field("OPENAI_API_KEY", description="environment variable holding the key; optional "
                                                           "when base_url points at a local server")


class _OpenAI(ChatComponent):
    provider, prices, backend_class = "openai", PRICES, OpenAIBackend


class Chat(_OpenAI, ChatGenerator):
    """OpenAI chat completions (or any compatible server): n samples per prompt, one call each."""

    class Config(ChatGenerator.Config, _Fields, GeneratorConfig):
        pass


class Claims(_OpenAI, ChatClaims):
    """Atomic claims per sentence by an OpenAI-compatible chat judge (few-shot, ``- fact`` lines)."""

    class Config(ChatClaims.Config, _Fields):
        pass


class TrueFalse(_OpenAI, ChatTrueFalse):
    """True/False verdict over the evidence: P(True) from the first token's logprobs when the server
    returns them, else FActScore's rule on the text."""

    class Config(ChatTrueFalse.Config, _Fields):
        pass


class Belief(_OpenAI, ChatBelief):
    """The judge's own P(True) per claim from logprobs, no evidence (Curious Case's belief score)."""

    class Config(ChatBelief.Config, _Fields):
        pass

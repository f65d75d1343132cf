"""facttune bundled plugin 'openai': OpenAI chat completions and every OpenAI-compatible server
(vLLM, llama.cpp, Ollama...) through ``base_url``. The SDK loads only when a call is made."""

from __future__ import annotations

from facttune_core import Register, hookimpl

from .components import Belief, Chat, Claims, TrueFalse

__version__ = "0.1.0"


@hookimpl
def register_generators(register: Register) -> None:
    register("chat", Chat)


@hookimpl
def register_claim_extractors(register: Register) -> None:
    register("claims", Claims)


@hookimpl
def register_claim_verifiers(register: Register) -> None:
    register("true-false", TrueFalse)
    register("belief", Belief)

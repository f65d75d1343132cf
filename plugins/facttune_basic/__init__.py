"""facttune's own model-free components (plugin name ``core``), bundled like every other plugin and
registered through the same ``facttune`` entry-point group: ``core/jsonl`` (prompts, and optionally
given responses, from JSONL), ``core/responses`` (the responses ``facttune score`` scores) and
``core/sentences`` (each sentence one claim)."""

from __future__ import annotations

from facttune_core import Register, hookimpl

from .components import GivenResponses, JsonlPrompts, SentenceClaims

PLUGIN_NAME = "core"


@hookimpl
def register_prompt_sources(register: Register) -> None:
    register("jsonl", JsonlPrompts)
    register("responses", GivenResponses)


@hookimpl
def register_claim_extractors(register: Register) -> None:
    register("sentences", SentenceClaims)


__all__ = ["GivenResponses", "JsonlPrompts", "SentenceClaims"]

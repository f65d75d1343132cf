"""facttune bundled plugin 'anthropic': the Anthropic Messages API (Claude) as generator, claim
extractor and True/False verifier. The SDK loads only when a call is made."""

from __future__ import annotations

from facttune_core import Register, hookimpl

from .components import Claims, Messages, TrueFalse

__version__ = "0.1.0"


@hookimpl
def register_generators(register: Register) -> None:
    register("messages", Messages)


@hookimpl
def register_claim_extractors(register: Register) -> None:
    register("claims", Claims)


@hookimpl
def register_claim_verifiers(register: Register) -> None:
    register("true-false", TrueFalse)

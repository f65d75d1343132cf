"""facttune bundled plugin ``hf``: local transformers models (CPU or GPU), offline by default.

Components: ``hf/generate`` (generator), ``hf/claims`` (FActScore claim extractor),
``hf/true-false`` (verifier: P(True) from True/False next-token logits, shared-prefix KV reuse),
``hf/belief`` (the model's own P(True), no evidence), ``hf/reward-model`` (a sequence-classification
reward model's score, FLAME's instruction-following reward). Model aliases: ``smollm2-135m-instruct``
(default policy) and ``gemma3-270m`` (default judge), converted once from the packaged GGUF files.

Nothing heavy is imported here: torch / transformers load when a component is built.
"""

from __future__ import annotations

from facttune_core import Register, hookimpl

from .claims import HFClaims
from .generate import HFGenerate
from .judge import Belief, TrueFalse
from .models import PACKAGED, alias_resolver
from .reward_model import RewardModel

__version__ = "0.1.0"


@hookimpl
def register_models(register: Register) -> None:
    for alias, pm in PACKAGED.items():
        register(alias, alias_resolver(alias), description=pm.description)


@hookimpl
def register_generators(register: Register) -> None:
    register("generate", HFGenerate)


@hookimpl
def register_claim_extractors(register: Register) -> None:
    register("claims", HFClaims)


@hookimpl
def register_claim_verifiers(register: Register) -> None:
    register("true-false", TrueFalse)
    register("belief", Belief)


@hookimpl
def register_reward_combiners(register: Register) -> None:
    register("reward-model", RewardModel)

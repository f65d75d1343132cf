"""One ``typing.Protocol`` per component kind. All are batch-first: a batch in, aligned results out.

A component is built by its factory from a validated ``Config`` (a pydantic model whose fields are
the recipe's ``args``) and a :class:`~facttune_core.context.Context`.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from .records import (
    Claim,
    Decoding,
    Evidence,
    Pair,
    Prompt,
    Response,
    Reward,
    ScoredResponse,
    SFTExample,
    Verdict,
)


@dataclass
class DataBundle:
    """What a prompt source provides. Besides prompts it may carry records of later stages
    (e.g. FActScore's labelled data provides responses, claims and verdicts); the pipeline then
    starts after the last stage the bundle provides."""

    prompts: list[Prompt]
    responses: list[Response] | None = None
    claims: list[Claim] | None = None
    evidence: list[Evidence] | None = None
    verdicts: list[Verdict] | None = None
    info: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class PromptSource(Protocol):
    def load(self) -> DataBundle: ...


class GeneratorConfig(BaseModel):
    """What every generator's Config declares (subclass it; override defaults as you like): the
    pipeline samples ``n`` responses per prompt from ``model``, passes ``model`` to the trainer as
    the policy, and the evaluate stage sets ``adapter`` to the trained LoRA folder (a generator that
    cannot apply one says so when it is built)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    model: str | None = Field(None, description="the model to sample from")
    n: int = Field(1, ge=1, description="responses per prompt")
    adapter: str | None = Field(None, description="a LoRA adapter folder applied on top of the model")


@runtime_checkable
class Generator(Protocol):
    """Samples responses. ``model_name`` identifies the model (cache keys, the trainer's base)."""

    model_name: str

    def generate(
        self, prompts: Sequence[Prompt], n: int = 1, decoding: Decoding | None = None
    ) -> list[list[Response]]:
        """``n`` responses per prompt, aligned with ``prompts``."""
        ...


@runtime_checkable
class ClaimExtractor(Protocol):
    def extract(self, responses: Sequence[Response]) -> list[list[Claim]]:
        """The atomic claims of each response, aligned with ``responses``. A response with no
        claims (an abstention) gets an empty list."""
        ...


@runtime_checkable
class EvidenceRetriever(Protocol):
    def retrieve(self, claims: Sequence[Claim]) -> list[Evidence]:
        """Evidence per claim, aligned; passages best last."""
        ...


@runtime_checkable
class ClaimVerifier(Protocol):
    def verify(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[Verdict]:
        """A verdict per claim, aligned. ``evidence`` entries are None when no retriever ran
        (belief scorers ignore evidence by design)."""
        ...


@runtime_checkable
class RewardCombiner(Protocol):
    def score(self, items: Sequence[ScoredResponse]) -> list[list[Reward]]:
        """Named rewards per response, aligned. Several names per response are allowed (FLAME
        keeps ``factuality`` and ``instruction`` apart)."""
        ...


@dataclass
class TrainData:
    pairs: list[Pair] = field(default_factory=list)
    sft: list[SFTExample] = field(default_factory=list)
    base_model: str | None = None  # the policy's model name (the generate stage's ``model``)


@dataclass
class TrainResult:
    adapter_dir: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)


@runtime_checkable
class Trainer(Protocol):
    def train(self, data: TrainData, out_dir: Path) -> TrainResult:
        """Train and save an adapter under ``out_dir`` (resuming from a checkpoint there)."""
        ...


def missing_members(obj: Any, protocol: type) -> list[str]:
    """The members of ``protocol`` that ``obj`` lacks: its methods for a class (attributes such as
    ``model_name`` are set in ``__init__``), methods and attributes for a built component."""
    methods = [n for n, v in vars(protocol).items() if callable(v) and not n.startswith("_")]
    attributes = [] if inspect.isclass(obj) else list(getattr(protocol, "__annotations__", {}))
    return ([n for n in methods if not callable(getattr(obj, n, None))]
            + [n for n in attributes if not hasattr(obj, n)])

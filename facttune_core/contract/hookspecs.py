"""The plugin contract: one ``register_<kind>s(register)`` hook per component kind.

A plugin is a module with ``@hookimpl`` functions, listed in the ``facttune`` entry-point group of
its package (``[project.entry-points.facttune] myplugin = "my_module"``). Each hook receives a
``register`` callable::

    register(name, factory, config=None, version=None, description=None)

``name`` is the short name (``"true-false"``); the registry prefixes it with the plugin's name
(``"hf/true-false"``). ``factory(config, ctx)`` gets the validated config (an instance of
``config``, a pydantic model with ``extra="forbid"``; default: ``factory.Config``) and a
:class:`facttune_core.Context`, and returns the component, which must follow its kind's Protocol
(:mod:`facttune_core.contract.protocols`; the registry checks). Import heavy libraries inside the
factory (or the component's ``__init__``), never at module import: ``facttune plugins`` and
``facttune validate`` must stay instant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import pluggy
from pydantic import BaseModel

from .context import Context
from .protocols import (
    ClaimExtractor,
    ClaimVerifier,
    EvidenceRetriever,
    Generator,
    PromptSource,
    RewardCombiner,
    Trainer,
)

PROJECT = "facttune"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

C = TypeVar("C", contravariant=True)


class Register(Protocol[C]):
    """What a ``register_<kind>s`` hook receives: ``Register[ClaimVerifier]`` takes factories that
    build claim verifiers (the registry checks the product against the kind's Protocol)."""

    def __call__(self, name: str, factory: Callable[[Any, Context], C], config: type[BaseModel] | None = None,
                 version: str | None = None, description: str | None = None) -> None: ...


class RegisterModel(Protocol):
    """What ``register_models`` receives: ``register(alias, resolver, description=...)``."""

    def __call__(self, name: str, resolver: Callable[[], str], description: str = "") -> None: ...


@hookspec
def register_prompt_sources(register: Register[PromptSource]) -> None:
    """Register prompt sources (the ``[data]`` table). The component has ``load() -> DataBundle``:
    prompts with ids, topics and splits, and optionally records of later stages (responses,
    claims, verdicts) when the data is already generated or labelled."""


@hookspec
def register_generators(register: Register[Generator]) -> None:
    """Register generators (``[generate]``). The component has ``model_name`` and
    ``generate(prompts, n, decoding) -> list[list[Response]]``. Its Config subclasses
    :class:`~facttune_core.GeneratorConfig` (``model``, ``n``, and ``adapter``: the LoRA folder the
    evaluate stage applies on top of the model)."""


@hookspec
def register_claim_extractors(register: Register[ClaimExtractor]) -> None:
    """Register claim extractors (``[extract]``): ``extract(responses) -> list[list[Claim]]``.
    Lines that are not claims are dropped and counted with ``ctx.count("dropped_lines")``."""


@hookspec
def register_evidence_retrievers(register: Register[EvidenceRetriever]) -> None:
    """Register evidence retrievers (``[retrieve]``): ``retrieve(claims) -> list[Evidence]``,
    passages ordered best last."""


@hookspec
def register_claim_verifiers(register: Register[ClaimVerifier]) -> None:
    """Register claim verifiers (``[verify]``): ``verify(claims, evidence) -> list[Verdict]``.
    Belief scorers (the model's own P(True), no evidence) are verifiers that ignore evidence; one
    that needs evidence says ``needs = ("evidence",)``. Evidence without passages is NS (not
    supported); IR is for a claim the verifier cannot or should not judge."""


@hookspec
def register_reward_combiners(register: Register[RewardCombiner]) -> None:
    """Register reward combiners (``[reward]``): ``score(scored_responses) ->
    list[list[Reward]]``; several named rewards per response are allowed (the FLAME split)."""


@hookspec
def register_trainers(register: Register[Trainer]) -> None:
    """Register trainers (``[train]``): ``train(TrainData, out_dir) -> TrainResult``. The Config
    receives ``{"args": <[train.args]>, "model": <[train.model]>}``, plus ``"launcher"`` when the recipe
    sets ``[train] launcher`` (how to start a training process; a trainer without one rejects it)."""


@hookspec
def register_models(register: RegisterModel) -> None:
    """Register model aliases: ``register(alias, resolver, description=...)`` where
    ``resolver()`` returns a local directory (or hub id) that transformers can load. Lets every
    plugin resolve ``"smollm2-135m-instruct"`` without importing the plugin that packages it."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add subcommands to the ``facttune`` CLI (a ``typer.Typer``), e.g. ``facttune kb``."""


@dataclass(frozen=True)
class Kind:
    """A component kind: its registry name, how messages name it, the hook that registers it and the
    Protocol each of its components follows."""

    name: str
    label: str
    hook: str
    protocol: type


KINDS: tuple[Kind, ...] = (
    Kind("prompt_source", "prompt source", "register_prompt_sources", PromptSource),
    Kind("generator", "generator", "register_generators", Generator),
    Kind("claim_extractor", "claim extractor", "register_claim_extractors", ClaimExtractor),
    Kind("evidence_retriever", "evidence retriever", "register_evidence_retrievers", EvidenceRetriever),
    Kind("claim_verifier", "claim verifier", "register_claim_verifiers", ClaimVerifier),
    Kind("reward_combiner", "reward combiner", "register_reward_combiners", RewardCombiner),
    Kind("trainer", "trainer", "register_trainers", Trainer),
)
KIND_OF: dict[type | str, Kind] = {**{k.protocol: k for k in KINDS}, **{k.name: k for k in KINDS}}
"""A kind by its Protocol (``ClaimVerifier``) or by its name (``"claim_verifier"``, as `facttune plugins
--json` lists kinds)."""

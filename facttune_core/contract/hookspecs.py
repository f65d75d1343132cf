"""The plugin contract: one ``register_<kind>s(register)`` hook per component kind.

A plugin is a module with ``@hookimpl`` functions, listed in the ``facttune`` entry-point group of
its package (``[project.entry-points.facttune] myplugin = "my_module"``). Each hook receives a
``register`` callable::

    register(name, factory, config=None, version=None, description=None)

``name`` is the short name (``"true-false"``); the registry prefixes it with the plugin's name
(``"hf/true-false"``). ``factory(config, ctx)`` gets the validated config (an instance of
``config``, a pydantic model with ``extra="forbid"``; default: ``factory.Config``) and a
:class:`facttune_core.Context`, and returns the component. Import heavy libraries inside the
factory (or the component's ``__init__``), never at module import: ``facttune plugins`` and
``facttune validate`` must stay instant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT = "facttune"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[..., None]


@hookspec
def register_prompt_sources(register: Register) -> None:
    """Register prompt sources (the ``[data]`` table). The component has ``load() -> DataBundle``:
    prompts with ids, topics and splits, and optionally records of later stages (responses,
    claims, verdicts) when the data is already generated or labelled."""


@hookspec
def register_generators(register: Register) -> None:
    """Register generators (``[generate]``). The component has ``model_name`` and
    ``generate(prompts, n, decoding) -> list[list[Response]]``. To serve the evaluate stage its
    Config should accept ``adapter`` (a LoRA directory applied on top of the model)."""


@hookspec
def register_claim_extractors(register: Register) -> None:
    """Register claim extractors (``[extract]``): ``extract(responses) -> list[list[Claim]]``.
    Lines that are not claims are dropped and counted with ``ctx.count("dropped_lines")``."""


@hookspec
def register_evidence_retrievers(register: Register) -> None:
    """Register evidence retrievers (``[retrieve]``): ``retrieve(claims) -> list[Evidence]``,
    passages ordered best last."""


@hookspec
def register_claim_verifiers(register: Register) -> None:
    """Register claim verifiers (``[verify]``): ``verify(claims, evidence) -> list[Verdict]``.
    Belief scorers (the model's own P(True), no evidence) are verifiers that ignore evidence."""


@hookspec
def register_reward_combiners(register: Register) -> None:
    """Register reward combiners (``[reward]``): ``score(scored_responses) ->
    list[list[Reward]]``; several named rewards per response are allowed (the FLAME split)."""


@hookspec
def register_trainers(register: Register) -> None:
    """Register trainers (``[train]``): ``train(TrainData, out_dir) -> TrainResult``. The Config
    receives ``{"args": <[train.args]>, "model": <[train.model]>}``."""


@hookspec
def register_models(register: Register) -> None:
    """Register model aliases: ``register(alias, resolver, description=...)`` where
    ``resolver()`` returns a local directory (or hub id) that transformers can load. Lets every
    plugin resolve ``"smollm2-135m-instruct"`` without importing the plugin that packages it."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add subcommands to the ``facttune`` CLI (a ``typer.Typer``), e.g. ``facttune kb``."""


KINDS: dict[str, str] = {
    # hook name -> component kind
    "register_prompt_sources": "prompt_source",
    "register_generators": "generator",
    "register_claim_extractors": "claim_extractor",
    "register_evidence_retrievers": "evidence_retriever",
    "register_claim_verifiers": "claim_verifier",
    "register_reward_combiners": "reward_combiner",
    "register_trainers": "trainer",
}

"""facttune bundled plugin ``rewards``: verdicts → rewards (docs/rewards.md).

- ``rewards/factscore`` (γ length penalty), ``rewards/f1k`` (SAFE), ``rewards/belief`` (Curious Case)
- ``rewards/aq``, ``rewards/ne``: FactTune's reference-free confidence rewards
- ``rewards/flame``: FLAME's split (fact_seeking / instruction / factuality); generator
  ``rewards/flame-sft`` (SFT-fact data)
- ``rewards/fact-seeking``: FLAME's fact-seeking classifier (fitted over MiniLM embeddings)
- ``rewards/instruction-following``: an instruction-following reward (fitted on labelled pairs)
- prompt source ``rewards/factscore-labeled`` and the ``facttune labeled`` command
"""

from __future__ import annotations

from typing import Any

from facttune_core import Register, hookimpl

from .confidence import AQReward, NEReward
from .fact_seeking import FactSeekingClassifier
from .factscore import BeliefReward, F1KReward, FactScoreReward
from .flame import FlameReward, FlameSFT
from .instruction import InstructionFollowing
from .labeled import FactScoreLabeled

__version__ = "0.1.0"


@hookimpl
def register_reward_combiners(register: Register) -> None:
    register("factscore", FactScoreReward)
    register("f1k", F1KReward)
    register("belief", BeliefReward)
    register("aq", AQReward)
    register("ne", NEReward)
    register("flame", FlameReward)
    register("fact-seeking", FactSeekingClassifier)
    register("instruction-following", InstructionFollowing)


@hookimpl
def register_generators(register: Register) -> None:
    register("flame-sft", FlameSFT)


@hookimpl
def register_prompt_sources(register: Register) -> None:
    register("factscore-labeled", FactScoreLabeled)


@hookimpl
def register_commands(cli: Any) -> None:
    from .cli import labeled

    cli.command("labeled")(labeled)

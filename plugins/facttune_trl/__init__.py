"""facttune bundled plugin ``trl``: QLoRA DPO and SFT trainers on TRL + peft + bitsandbytes.

``trl/dpo`` and ``trl/sft`` (see docs/training.md). Importing this package stays light: TRL, torch
and friends load only inside the training worker process.
"""

from __future__ import annotations

from facttune_core import Register, hookimpl

from .components import DPOTrainerComponent, SFTTrainerComponent

__all__ = ["DPOTrainerComponent", "SFTTrainerComponent"]


@hookimpl
def register_trainers(register: Register) -> None:
    register("dpo", DPOTrainerComponent)
    register("sft", SFTTrainerComponent)

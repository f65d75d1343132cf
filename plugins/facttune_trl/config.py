"""The trainers' recipe tables, validated without importing TRL.

``[train.args]`` passes through to TRL's ``DPOConfig`` / ``SFTConfig`` (keys checked against the
static field lists in :mod:`facttune_trl.trl_fields`); ``[train.model]`` holds what TRL keeps
outside its config: the base model, LoRA, 4-bit quantisation, dtype, chat formatting.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from facttune_core import ConfigError, FacttuneError, did_you_mean, runtime_field, trained_adapter

from .trl_fields import DPO_CONFIG_TYPES, SFT_CONFIG_TYPES, type_problem

TABLE = "train"  # the trainer's recipe table (ctx.key)

# Keys facttune sets itself: the user may not.
RESERVED_ARGS: dict[str, str] = {
    "output_dir": "facttune writes checkpoints under the stage folder (out_dir/checkpoints)",
    "resume_from_checkpoint": "facttune resumes from the last checkpoint in out_dir/checkpoints by itself",
}

# Names from older TRL releases that users copy from tutorials.
REMOVED_ARGS: dict[str, str] = {
    "max_prompt_length": "removed in TRL 1.x; set max_length (the whole prompt + completion)",
    "max_completion_length": "removed in TRL 1.x; set max_length (the whole prompt + completion)",
    "max_seq_length": "renamed max_length in TRL",
    "generate_during_eval": "removed in TRL 1.x",
}

# facttune's defaults for [train.args]: CPU-friendly, a few hundred pairs in minutes. Anything the
# recipe sets wins. See docs/training.md for the reasoning (LoRA DPO: lr 1e-5..5e-5).
_COMMON: dict[str, Any] = {
    "per_device_train_batch_size": 4,
    "gradient_accumulation_steps": 1,
    "num_train_epochs": 1,
    "max_length": 512,
    "logging_steps": 1,
    "save_steps": 10,
    "save_total_limit": 2,
    "report_to": "none",
    "disable_tqdm": True,
    "include_num_input_tokens_seen": True,
}
DPO_DEFAULTS: dict[str, Any] = {"learning_rate": 5e-5, "beta": 0.1, **_COMMON}
SFT_DEFAULTS: dict[str, Any] = {"learning_rate": 1e-4, **_COMMON, "completion_only_loss": True, "packing": False}

TRL_CLASSES: dict[str, tuple[str, dict[str, str]]] = {"dpo": ("DPOConfig", DPO_CONFIG_TYPES),
                                                      "sft": ("SFTConfig", SFT_CONFIG_TYPES)}


def check_args(args: dict[str, Any], kind: str, table: str = TABLE) -> dict[str, Any]:
    """Unknown, reserved or removed keys, and values of the wrong type (TRL's own field types) → a
    one-line ConfigError naming ``train.args.<key>``, before anything loads."""
    cls_name, known = TRL_CLASSES[kind]
    for key in args:
        where = f"{table}.args.{key}"
        if key in RESERVED_ARGS:
            raise ConfigError(f"set by facttune, not the recipe: {RESERVED_ARGS[key]}", key=where)
        if key in known:
            if (why := type_problem(args[key], known[key])):
                raise ConfigError(f"TRL {cls_name}.{key} {why}", key=where)
            continue
        if key in REMOVED_ARGS:
            raise ConfigError(f"unknown TRL {cls_name} argument: {REMOVED_ARGS[key]}", key=where)
        hint = did_you_mean(key, sorted(known))
        other = "sft" if kind == "dpo" else "dpo"
        if not hint and key in TRL_CLASSES[other][1]:
            hint = f" It is a {TRL_CLASSES[other][0]} argument: use trl/{other}?"
        raise ConfigError(f"unknown TRL {cls_name} argument.{hint}", key=where)
    return args


class ModelConfig(BaseModel):
    """The ``[train.model]`` table: base model, LoRA, quantisation, dtype, data formatting."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        None, description="model alias (smollm2-135m-instruct), local dir or hub id; default: the generate "
        "stage's model")
    load_in_4bit: bool | Literal["auto"] = Field(
        False, description="QLoRA: load the base in 4 bit (bitsandbytes). 'auto': 4 bit on CUDA, plain LoRA on a CPU "
        "(where 4 bit is slower: bitsandbytes dequantises every weight at every step)")
    bnb_4bit_quant_type: Literal["nf4", "fp4"] = "nf4"
    bnb_4bit_use_double_quant: bool = True
    bnb_4bit_compute_dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field(
        "auto", description="'auto': as dtype")
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field(
        "auto", description="weights / compute dtype. 'auto': bfloat16 where the hardware has it (Ampere+ "
        "GPUs; CPUs with AVX512-BF16 or AMX), else float32 (emulated bf16 is ~10x slower on an AVX2 CPU)")
    init_adapter: str | None = Field(
        None, description="continue training this LoRA adapter (a folder, or a run folder: its trained adapter) "
        "instead of a new one; DPO's reference is then a frozen copy of it (FLAME: DPO from the SFT model); the "
        "lora_* settings are the adapter's own")
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: str | list[str] = Field("all-linear", description="peft target_modules")
    lora_bias: Literal["none", "all", "lora_only"] = "none"
    use_rslora: bool = False
    chat: bool | None = Field(
        None, description="None: conversational format when the tokenizer has a chat template; "
        "True: require one; False: plain prompt + completion strings")
    too_long: Literal["error", "truncate", "drop"] = Field(
        "error", description="a pair/example longer than train.args.max_length: stop with an error naming "
        "it, let TRL truncate it (keep_start), or drop it")
    device_map: str | None = Field(
        "auto", description="'auto': the process's GPU under CUDA (one per accelerate process), none on CPU; "
        "or a transformers device_map string")
    attn_implementation: str | None = None
    trust_remote_code: bool = False

    @field_validator("init_adapter")
    @classmethod
    def _init_adapter(cls, v: str | None) -> str | None:
        """A run folder → the adapter its train stage wrote (the job's fingerprint follows a retrained one)."""
        if not v:
            return None
        if not (Path(v).expanduser() / "run.json").is_file():
            return str(Path(v).expanduser().resolve())  # the worker runs in another folder
        try:
            return str(trained_adapter(v))
        except FacttuneError as err:
            raise ValueError(err.message) from None

    @field_validator("target_modules")
    @classmethod
    def _targets(cls, v: str | list[str]) -> str | list[str]:
        if isinstance(v, list) and not v:
            raise ValueError("target_modules is empty")
        if isinstance(v, list) and "lm_head" in v:
            raise ValueError("TRL cannot train a LoRA adapter on lm_head; remove it")
        return v


class _TrainerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    args: dict[str, Any] = Field(default_factory=dict, description="[train.args]: TRL config arguments")
    lm_head: Literal["auto", "trl"] = runtime_field(
        "auto", description="DPO log-probabilities on a CPU: 'auto' projects only the completion positions and "
        "takes log_softmax (same values, 3-6x faster there); 'trl': TRL's fused LM head everywhere")
    model: ModelConfig = Field(default_factory=ModelConfig, description="[train.model]")
    launcher: str | None = Field(None, description="[train] launcher: the command that starts the training "
                                 "worker, e.g. 'accelerate launch --num_processes 2' (default: this Python)")

    @field_validator("launcher")
    @classmethod
    def _launcher(cls, v: str | None) -> str | None:
        if v is not None and not shlex.split(v):
            raise ValueError("launcher is empty")
        return v


class DPOConfigTable(_TrainerConfig):
    """``trl/dpo``: ``{"args": <[train.args]> → DPOConfig, "model": <[train.model]>}``."""

    @field_validator("args")
    @classmethod
    def _args(cls, v: dict[str, Any]) -> dict[str, Any]:
        return check_args(v, "dpo")


class SFTConfigTable(_TrainerConfig):
    """``trl/sft``: ``{"args": <[train.args]> → SFTConfig, "model": <[train.model]>}``."""

    @field_validator("args")
    @classmethod
    def _args(cls, v: dict[str, Any]) -> dict[str, Any]:
        return check_args(v, "sft")

"""Per-device choices the training worker makes, none of which changes what is trained (beyond float
rounding): the dtype, 4 bit or not for ``load_in_4bit = "auto"``, whether DPO's reference
log-probabilities are computed once up front, and the CPU path for TRL's fused LM head.
Measured on SmolLM2-135M (bench/cpu_speed.py, docs/training.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from facttune_core import native_bf16

from .config import ModelConfig

# precompute the reference log-probs when training visits the pairs at least this many times over
# (the pass costs one reference forward per pair, as in-loop; it pays back only on repeat visits)
PRECOMPUTE_MIN_EPOCHS = 1.25


def resolve_dtype(mc: ModelConfig, use_cuda: bool) -> str:
    """The weights / compute dtype: the recipe's, or for 'auto' bfloat16 where native, else float32."""
    want = mc.bnb_4bit_compute_dtype if mc.load_in_4bit and mc.bnb_4bit_compute_dtype != "auto" else mc.dtype
    if want != "auto":
        return want
    return "bfloat16" if native_bf16(use_cuda) else "float32"


def resolve_4bit(mc: ModelConfig, use_cuda: bool) -> bool:
    """``load_in_4bit = "auto"``: QLoRA on CUDA (memory), plain LoRA on a CPU. Measured on SmolLM2-135M,
    DPO batch 4: nf4 took 1.22x the CPU time of plain LoRA per step with fp32 (AVX2) and 1.12x with bf16
    (AMX), as bitsandbytes dequantises every weight at every forward and backward."""
    return use_cuda if mc.load_in_4bit == "auto" else bool(mc.load_in_4bit)


def planned_epochs(args: dict[str, Any], n_examples: int, world_size: int = 1) -> float:
    """How many times over training visits the examples (max_steps wins over num_train_epochs)."""
    per_step = int(args.get("per_device_train_batch_size", 8)) * int(args.get("gradient_accumulation_steps", 1)) \
        * max(1, world_size)
    steps = int(args.get("max_steps", -1) or -1)
    if steps > 0:
        return steps * per_step / max(1, n_examples)
    return float(args.get("num_train_epochs", 3.0))


def precompute_ref(args: dict[str, Any], n_examples: int, world_size: int = 1, cpu_4bit: bool = False) -> bool:
    """The recipe's ``precompute_ref_log_probs``, else true when the pairs are visited at least
    PRECOMPUTE_MIN_EPOCHS times over (each later visit then skips its reference forward). Never by
    default for a 4-bit model on a CPU: an inference pass there makes bitsandbytes repack the weights
    for CPU inference, after which training fails or goes silently wrong (docs/training.md)."""
    if "precompute_ref_log_probs" in args:
        return bool(args["precompute_ref_log_probs"])
    return not cpu_4bit and planned_epochs(args, n_examples, world_size) >= PRECOMPUTE_MIN_EPOCHS


@contextlib.contextmanager
def cpu_lm_head(enabled: bool) -> Iterator[dict[str, bool]]:
    """While a DPOTrainer is built: every model TRL gives its fused LM head also gets the CPU path
    (:mod:`facttune_trl.lm_head`), so the reference pass TRL runs inside ``__init__`` (precompute)
    uses it too. Yields ``{"installed": bool}``."""
    state = {"installed": False}
    mod: Any = None
    original: Any = None
    if enabled:
        try:
            import trl.trainer.dpo_trainer as mod

            original = mod.add_fused_lm_head
        except (ImportError, AttributeError):  # a TRL without the fused head: nothing to speed up
            mod = None
    if mod is None:
        yield state
        return
    from .lm_head import install_on

    def patched(model: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(model, *args, **kwargs)
        state["installed"] = install_on(model, want_sq="log_sum_sq_probs" in tuple(kwargs.get("outputs", ()))) \
            or state["installed"]
        return result

    mod.add_fused_lm_head = patched
    try:
        yield state
    finally:
        mod.add_fused_lm_head = original


def adapters_to_float32(model: Any) -> int:
    """The trainable (LoRA) weights in float32, whatever the base's dtype. TRL casts them to bf16 for a
    4-bit base with bf16 on, while a resume loads them from the checkpoint in float32: without this an
    interrupted and resumed training would run at another precision than an uninterrupted one."""
    import torch

    n = 0
    for p in model.parameters():
        if p.requires_grad and p.is_floating_point() and p.dtype != torch.float32:
            p.data = p.data.float()
            n += 1
    return n

"""A real QLoRA (nf4) DPO of a few steps on the packaged SmolLM2-135M-Instruct, on CPU (slow: CI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _trl_tiny import tiny_pairs
from facttune_trl import DPOTrainerComponent

from facttune_core import Context, TrainData, model_aliases, resolve_model

ALIAS = "smollm2-135m-instruct"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smollm2() -> str:
    if ALIAS not in model_aliases():
        pytest.skip(f"model alias '{ALIAS}' is not registered (the hf plugin provides it)")
    return resolve_model(ALIAS)


def test_qlora_nf4_dpo_on_smollm2_cpu(smollm2: str, tmp_path: Path) -> None:
    from facttune_trl.logprobs import pair_margins

    pairs = tiny_pairs(8)
    # a few-step demo: a large LoRA lr (5e-4) so that 3 steps move the model (see docs/training.md)
    cfg = DPOTrainerComponent.Config.model_validate({
        "args": {"max_steps": 3, "per_device_train_batch_size": 2, "learning_rate": 5e-4, "max_length": 128,
                 "save_steps": 3, "beta": 0.1},
        "model": {"name": ALIAS, "load_in_4bit": True, "lora_r": 8, "lora_alpha": 16}})
    res = DPOTrainerComponent(cfg, Context(key="train")).train(TrainData(pairs=pairs), tmp_path)
    m = res.metrics
    print(json.dumps(m, indent=1))
    assert m["load_in_4bit"] is True and m["chat_format"] is True and m["steps"] == 3
    losses = [e["loss"] for e in res.log]
    assert len(losses) == 3 and losses[-1] < losses[0] - 0.01  # the loss moves
    assert all("rewards/accuracies" in e and "rewards/margins" in e for e in res.log)
    assert res.log[-1]["rewards/margins"] > 0
    marker = json.loads((tmp_path / "adapter" / "facttune_adapter.json").read_text())
    assert marker["load_in_4bit"] is True and marker["base_model"] == ALIAS
    adapter_cfg = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert adapter_cfg["r"] == 8 and adapter_cfg["base_model_name_or_path"] == smollm2
    # the saved adapter raises the chosen-minus-rejected log-prob margin over the base (adapter off)
    mg = pair_margins(smollm2, tmp_path / "adapter", pairs, dtype="float32")
    gain = [t - b for t, b in zip(mg["tuned"], mg["base"], strict=True)]
    print("margin gain per pair", [round(g, 3) for g in gain])
    assert sum(gain) / len(gain) > 0.1
    assert sum(g > 0 for g in gain) >= 6


def test_worker_runs_under_accelerate_launch(tmp_path: Path) -> None:
    import shutil

    from _trl_tiny import make_tiny_model

    if shutil.which("accelerate") is None:
        pytest.skip("the accelerate CLI is not on PATH")
    model = make_tiny_model(tmp_path / "tiny")
    cfg = DPOTrainerComponent.Config.model_validate({
        "args": {"max_steps": 2, "learning_rate": 5e-3, "max_length": 64}, "model": {"name": str(model)},
        "launcher": "accelerate launch --num_processes 1 --cpu"})
    res = DPOTrainerComponent(cfg, Context(key="train")).train(TrainData(pairs=tiny_pairs(8)), tmp_path / "out")
    assert res.metrics["steps"] == 2 and (res.adapter_dir / "adapter_model.safetensors").exists()
    assert (tmp_path / "out" / "worker.log").read_text().startswith("$ accelerate launch --num_processes 1 --cpu")

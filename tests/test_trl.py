"""The ``trl`` plugin: config checks, data errors, and real (tiny-model) DPO / SFT runs in the worker."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from _trl_tiny import make_tiny_model, tiny_pairs, tiny_sft
from facttune_trl import DPOTrainerComponent, SFTTrainerComponent
from facttune_trl.components import worker_command
from facttune_trl.worker import TRL_MAX_LENGTH_DEFAULT

from facttune_core import (
    ComponentError,
    ConfigError,
    Context,
    DataError,
    FacttuneError,
    Pipeline,
    SFTExample,
    TrainData,
    Trainer,
    get_registry,
    load_recipe,
)
from facttune_core.run.stages import TRAIN
from facttune_core.testing import fake_recipe_text

FAST_DPO = {"max_steps": 4, "learning_rate": 5e-3, "per_device_train_batch_size": 4, "save_steps": 2,
            "max_length": 64, "beta": 0.1}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "chat")


ABORT = Path(__file__).with_name("_trl_abort.py")


def dpo(args: dict | None = None, model: dict | None = None, key: str = "train",
        launcher: str | None = None) -> DPOTrainerComponent:
    cfg = DPOTrainerComponent.Config.model_validate({"args": args or {}, "model": model or {}, "launcher": launcher})
    return DPOTrainerComponent(cfg, Context(key=key))


# ---------------------------------------------------------------------------- registry / config (no TRL)
def test_registered_and_import_is_light():
    reg = get_registry()
    assert reg.get(Trainer, "trl/dpo").factory is DPOTrainerComponent
    assert reg.get(Trainer, "trl/sft").factory is SFTTrainerComponent
    code = ("import sys, facttune_trl, facttune_trl.config, facttune_trl.components; "
            "heavy = [m for m in ('torch', 'transformers', 'trl', 'peft', 'datasets', 'bitsandbytes', 'matplotlib') "
            "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_unknown_trl_argument_is_one_line_naming_the_key():
    with pytest.raises(ConfigError) as e:
        dpo({"bta": 0.2})
    assert str(e.value) == "train.args.bta: unknown TRL DPOConfig argument. Did you mean 'beta'?"
    with pytest.raises(ConfigError, match=r"^train\.args\.max_prompt_length: .*max_length"):
        dpo({"max_prompt_length": 128})
    with pytest.raises(ConfigError, match=r"^train\.args\.output_dir: set by facttune"):
        dpo({"output_dir": "/tmp/x"})
    with pytest.raises(ConfigError, match=r"^train\.args\.completion_only_loss: .*SFTConfig argument: use trl/sft"):
        dpo({"completion_only_loss": True})
    with pytest.raises(ConfigError, match=r"^train\.args\.beta: unknown TRL SFTConfig argument"):
        SFTTrainerComponent.Config.model_validate({"args": {"beta": 0.1}})
    # loss types incl. IPO and cDPO label smoothing, optim etc. pass
    dpo({"loss_type": "ipo", "label_smoothing": 0.1, "optim": "rmsprop", "warmup_steps": 150})


@pytest.mark.parametrize("key, value, want", [
    ("max_steps", "eight", "must be a whole number, got 'eight'"),
    ("max_steps", 8.5, "must be a whole number"),
    ("learning_rate", "fast", "must be a number"),
    ("bf16", "yes", "must be true or false (or left out)"),
    ("gradient_checkpointing", 1, "must be true or false"),
    ("lr_scheduler_type", 3, "must be a string"),
])
def test_trl_argument_of_the_wrong_type_is_one_line_naming_the_key(key, value, want):
    """TRL's own field types, checked before anything loads (not 9 s later, after the model)."""
    for make in (dpo, lambda a: SFTTrainerComponent.Config.model_validate({"args": a})):
        with pytest.raises(ConfigError) as e:
            make({key: value})
        assert str(e.value).startswith(f"train.args.{key}: TRL ") and want in str(e.value)
    # the right types pass: ints where floats are expected, None where a field may be None
    dpo({"learning_rate": 1, "max_steps": 8, "bf16": None, "lr_scheduler_type": "cosine", "report_to": "none"})


def test_recipe_validation_reports_train_keys(tmp_path):
    from facttune_core.contract.registry import validate_args

    spec = get_registry().get(Trainer, "trl/dpo")
    with pytest.raises(ConfigError) as e:
        validate_args(spec, {"args": {"lerning_rate": 1e-5}, "model": {}}, "train")
    assert str(e.value).splitlines() == ["train.args.lerning_rate: unknown TRL DPOConfig argument. "
                                         "Did you mean 'learning_rate'?"]
    with pytest.raises(FacttuneError) as e2:
        validate_args(spec, {"args": {}, "model": {"lora_rr": 8}}, "train")
    assert str(e2.value).startswith("train.model.lora_rr: unknown key. Did you mean 'lora_r'?")


def test_static_field_tables_match_installed_trl():
    import trl
    from facttune_trl.trl_fields import DPO_CONFIG_TYPES, SFT_CONFIG_TYPES, TRL_VERSION, field_table
    from trl import DPOConfig, SFTConfig

    dpo_now, sft_now = field_table(DPOConfig), field_table(SFTConfig)
    assert DPO_CONFIG_TYPES == dpo_now, (f"trl {trl.__version__} (tables from {TRL_VERSION}): regenerate with "
                                         "python -m facttune_trl.trl_fields")
    assert SFT_CONFIG_TYPES == sft_now
    assert DPO_CONFIG_TYPES["max_steps"] == "int" and DPO_CONFIG_TYPES["learning_rate"] == "float"
    assert DPOConfig.__dataclass_fields__["max_length"].default == TRL_MAX_LENGTH_DEFAULT
    assert SFTConfig.__dataclass_fields__["max_length"].default == TRL_MAX_LENGTH_DEFAULT


def test_launcher_is_a_recipe_key(fake_registry, tmp_path):
    """``[train] launcher`` reaches the trainer's config, its worker command, the manifest and the
    stage key; no environment variable takes part."""
    assert worker_command(tmp_path / "job.json") == [sys.executable, "-m", "facttune_trl.worker",
                                                     str(tmp_path / "job.json")]
    assert worker_command(tmp_path / "job.json", "accelerate launch --num_processes 2") == [
        "accelerate", "launch", "--num_processes", "2", "-m", "facttune_trl.worker", str(tmp_path / "job.json")]
    recipe = tmp_path / "r.toml"
    recipe.write_text(fake_recipe_text().replace('component = "fake/trainer"', 'component = "trl/dpo"'))
    plain = load_recipe(recipe)
    launched = load_recipe(recipe, ['train.launcher="accelerate launch --num_processes 2"'])
    assert plain.configs["train"].launcher is None
    assert launched.configs["train"].launcher == "accelerate launch --num_processes 2"
    assert launched.stage_config("train")["config"]["launcher"] == "accelerate launch --num_processes 2"

    def train_key(resolved):
        pipe = Pipeline(resolved, tmp_path / "run")
        return pipe.executor.key(pipe.plan(TRAIN), "upstream")

    assert train_key(launched) != train_key(plain)
    with pytest.raises(FacttuneError, match=r"train\.launcher: unknown key"):
        load_recipe(tmp_path / "r.toml", ['train.component="fake/trainer"', 'train.launcher="accelerate launch"'])


# ---------------------------------------------------------------------------- data errors (no worker)
def test_empty_and_malformed_pairs(tmp_path):
    with pytest.raises(DataError) as e:
        dpo().train(TrainData(pairs=[]), tmp_path / "a")
    assert str(e.value) == "train: no preference pairs to train on"
    with pytest.raises(DataError, match="got 8 SFT examples: train them with trl/sft"):
        dpo().train(TrainData(sft=tiny_sft()), tmp_path / "a")
    good = tiny_pairs(2)
    bad = replace(good[1], chosen="  ")
    with pytest.raises(DataError) as e2:
        dpo().train(TrainData(pairs=[good[0], bad]), tmp_path / "b")
    assert str(e2.value) == "train: pair 'p1': empty 'chosen'"
    same = replace(good[1], rejected=good[1].chosen)
    with pytest.raises(DataError, match="pair 'p1': chosen and rejected are the same text"):
        dpo().train(TrainData(pairs=[same]), tmp_path / "c")
    notext = replace(good[0], prompt=None)
    with pytest.raises(DataError, match="pair 'p0': 'prompt' is NoneType, not text"):
        dpo().train(TrainData(pairs=[notext]), tmp_path / "d")
    with pytest.raises(ConfigError, match=r"^train\.model\.name: no base model to train"):
        dpo().train(TrainData(pairs=tiny_pairs(2)), tmp_path / "f")
    with pytest.raises(DataError, match="^train: no SFT examples"):
        SFTTrainerComponent(SFTTrainerComponent.Config(), Context(key="train")).train(TrainData(), tmp_path / "e")
    for d in ("a", "b", "c", "d", "e"):
        assert not (tmp_path / d / "adapter").exists()


def test_malformed_data_file_in_worker(tmp_path):
    from facttune_trl.worker import read_rows

    p = tmp_path / "train_data.jsonl"
    p.write_text('{"id": "p0", "prompt": "x", "chosen": "a", "rejected": "b"}\n{"id": "p1", "prompt": \n')
    with pytest.raises(DataError) as e:
        read_rows(p)
    assert str(e.value).startswith(f"{p}: line 2: not valid JSON")
    p.write_text("\n")
    with pytest.raises(DataError, match="no examples"):
        read_rows(p)


# ---------------------------------------------------------------------------- worker runs (tiny model)
def test_too_long_pair_names_it(tiny_model, tmp_path):
    pairs = tiny_pairs(3)
    long = replace(pairs[2], chosen=" ".join(["lisbon"] * 80))
    with pytest.raises(DataError) as e:
        dpo({"max_length": 40}, {"name": str(tiny_model)}).train(TrainData(pairs=[*pairs[:2], long]), tmp_path)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith("train.args.max_length: pair 'p2' is ") and "longer than max_length 40" in msg
    assert not (tmp_path / "adapter").exists()


def test_bad_model_is_one_line(tmp_path):
    with pytest.raises(ConfigError) as e:
        dpo({}, {"name": str(tmp_path / "no-such-model")}).train(TrainData(pairs=tiny_pairs(2)), tmp_path / "a")
    assert str(e.value).startswith("train.model.name: cannot load model") and "\n" not in str(e.value)
    assert not (tmp_path / "a" / "adapter").exists()


def test_bad_arg_value_is_one_line(tiny_model, tmp_path):
    with pytest.raises(ConfigError) as e:
        dpo({"lr_scheduler_type": "bogus"}, {"name": str(tiny_model)}).train(TrainData(pairs=tiny_pairs(2)), tmp_path)
    assert str(e.value).startswith("train.args: TRL DPOConfig rejected the arguments: ") and "\n" not in str(e.value)
    assert not (tmp_path / "adapter").exists()


def test_dpo_kill_resume_and_learns(tiny_model, tmp_path):
    from facttune_trl.logprobs import pair_margins

    out = tmp_path / "train"
    pairs = tiny_pairs(8)
    # 1) a run killed right after the checkpoint of step 2: an error, no adapter, a checkpoint
    killed = dpo(FAST_DPO, {"name": str(tiny_model), "lora_r": 8}, launcher=f"{sys.executable} {ABORT} 2")
    with pytest.raises(ComponentError) as e:
        killed.train(TrainData(pairs=pairs), out)
    assert "\n" not in str(e.value) and "exit code 3" in str(e.value)
    assert not (out / "adapter").exists()
    assert (out / "checkpoints" / "checkpoint-2" / "trainer_state.json").exists()
    # 2) the rerun resumes from step 2 and finishes
    comp = dpo(FAST_DPO, {"name": str(tiny_model), "lora_r": 8})
    res = comp.train(TrainData(pairs=pairs), out)
    m = res.metrics
    assert res.adapter_dir == out / "adapter"
    assert m["resumed_from_step"] == 2 and m["steps"] == 4
    for f in ("adapter_config.json", "adapter_model.safetensors", "tokenizer_config.json", "facttune_adapter.json"):
        assert (out / "adapter" / f).exists(), f
    assert (out / "curves.png").stat().st_size > 1000
    cfg = json.loads((out / "train_config.json").read_text())
    assert cfg["trl_args"]["beta"] == 0.1 and cfg["trl_args"]["use_cpu"] is True
    assert cfg["lora"]["r"] == 8 and cfg["chat_format"] is True
    # the log covers all steps (restored from the checkpoint), with DPO's reward metrics
    steps = [e["step"] for e in res.log]
    assert steps == [1, 2, 3, 4]
    assert all("rewards/accuracies" in e and "rewards/margins" in e for e in res.log)
    assert res.log[-1]["loss"] < res.log[0]["loss"] - 1e-3  # the loss moves (down)
    assert res.log[-1]["rewards/margins"] > 0
    # 3) the adapter moves the chosen-minus-rejected log-prob margin up, vs the base
    mg = pair_margins(tiny_model, out / "adapter", pairs)
    gain = [t - b for t, b in zip(mg["tuned"], mg["base"], strict=True)]
    assert sum(gain) / len(gain) > 0.05, mg
    assert sum(g > 0 for g in gain) >= 6
    # 4) a finished adapter is returned without training again
    t0 = time.perf_counter()
    again = dpo(FAST_DPO, {"name": str(tiny_model), "lora_r": 8}).train(TrainData(pairs=pairs), out)
    assert time.perf_counter() - t0 < 2 and again.metrics == m
    # ... but not for other settings
    with pytest.raises(ComponentError, match="trained with other settings"):
        dpo({**FAST_DPO, "beta": 0.5}, {"name": str(tiny_model), "lora_r": 8}).train(TrainData(pairs=pairs), out)


def test_sft_plain_text_and_drop_too_long(tmp_path):
    model = make_tiny_model(tmp_path / "plain", chat=False)
    data = tiny_sft(8)
    long = SFTExample(id="long", prompt_id="x", prompt="Write me a paragraph biography of Ada Quill.",
                      completion=" ".join(["oslo"] * 80))
    cfg = SFTTrainerComponent.Config.model_validate({
        "args": {"max_steps": 3, "learning_rate": 1e-2, "max_length": 48, "per_device_train_batch_size": 4},
        "model": {"name": str(model), "too_long": "drop"}})
    res = SFTTrainerComponent(cfg, Context(key="train")).train(TrainData(sft=[*data, long]), tmp_path / "out")
    assert res.metrics["dropped"] == 1 and res.metrics["examples"] == 8
    assert res.metrics["chat_format"] is False
    assert [e["step"] for e in res.log] == [1, 2, 3]
    assert res.log[-1]["loss"] < res.log[0]["loss"]
    assert (res.adapter_dir / "adapter_model.safetensors").exists()
    cfg_json = json.loads((tmp_path / "out" / "train_config.json").read_text())
    assert cfg_json["trl_args"]["completion_only_loss"] is True


def test_resumed_qlora_training_runs_at_the_precision_of_an_uninterrupted_one(tiny_model, tmp_path):
    """4-bit base with bf16 compute: TRL casts the LoRA weights to bf16 while a resume loads them in
    float32; both now train in float32, so the resumed steps repeat the uninterrupted ones exactly."""
    model = {"name": str(tiny_model), "lora_r": 8, "load_in_4bit": True, "dtype": "bfloat16"}
    pairs = tiny_pairs(8)
    whole = dpo(FAST_DPO, model).train(TrainData(pairs=pairs), tmp_path / "whole")
    with pytest.raises(ComponentError):
        dpo(FAST_DPO, model, launcher=f"{sys.executable} {ABORT} 2").train(TrainData(pairs=pairs), tmp_path / "cut")
    resumed = dpo(FAST_DPO, model).train(TrainData(pairs=pairs), tmp_path / "cut")
    assert resumed.metrics["resumed_from_step"] == 2 and whole.metrics["adapter_dtype"] == "float32"
    norms = [(a["grad_norm"], b["grad_norm"]) for a, b in zip(whole.log, resumed.log, strict=True)]
    assert all(a == pytest.approx(b, rel=1e-6) for a, b in norms), norms


PARENT = """
import sys
sys.path[:0] = {paths!r}
from pathlib import Path
from _trl_tiny import tiny_pairs
from facttune_core import Context, TrainData
from facttune_trl import DPOTrainerComponent
cfg = DPOTrainerComponent.Config.model_validate({{"args": {{"max_steps": 100000, "save_steps": 100000,
    "per_device_train_batch_size": 2, "max_length": 64}}, "model": {{"name": {model!r}, "lora_r": 4}},
    "launcher": {launcher!r}}})
DPOTrainerComponent(cfg, Context(key="train")).train(TrainData(pairs=tiny_pairs(8)), Path({out!r}))
"""


# a worker that never writes to its pipe (as in a long step of a big model): it cannot die of a broken pipe
QUIET = """
import os, sys
from facttune_trl import worker
null = os.open(os.devnull, os.O_WRONLY)
os.dup2(null, 1)
os.dup2(null, 2)
sys.exit(worker.main([sys.argv[-1]]))
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"  # a zombie has finished
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_the_parent_leaves_no_worker_and_one_writer_per_folder(tiny_model, tmp_path):
    import os
    import signal

    out = tmp_path / "train"
    here = str(Path(__file__).parent)
    (tmp_path / "quiet.py").write_text(QUIET)
    code = PARENT.format(paths=[here, *sys.path], model=str(tiny_model), out=str(out),
                         launcher=f"{sys.executable} {tmp_path / 'quiet.py'}")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lock = out / ".worker.lock"
    deadline = time.time() + 240
    worker = None
    while time.time() < deadline and worker is None:  # the worker writes its pid into its folder lock
        time.sleep(0.3)
        try:
            worker = json.loads(lock.read_text() or "{}").get("pid")
        except (OSError, ValueError):
            pass
    assert worker and worker != parent.pid and _alive(worker), "the worker never started"
    # a second worker on the same folder waits for the lock, then says who holds it
    from facttune_core import FolderLock

    with pytest.raises(DataError, match=rf"in use by another training worker \(pid {worker}"):
        FolderLock(out, name=".worker.lock", what="training worker", wait=0.5).acquire()
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 30
    while time.time() < deadline and _alive(worker):
        time.sleep(0.2)
    assert not _alive(worker), "kill -9 of the parent left the training worker running"
    # free again (a short wait: the kernel closes a dying process's files a moment after its main thread)
    with FolderLock(out, name=".worker.lock", what="training worker", wait=10):
        pass


def test_dpo_plus_the_chosen_nll_is_one_recipe_key(tiny_model, tmp_path):
    """Round 2's loss (recipes/paper/facttune-fs-r2.toml): loss_type = ["sigmoid", "sft"] reaches TRL as a
    list and adds the chosen response's NLL to DPO's loss: at step 1 (policy = reference) DPO alone is
    log 2, with the NLL term it is log 2 plus a positive NLL."""
    pairs = tiny_pairs(4)
    args = {**FAST_DPO, "max_steps": 1, "save_steps": 1}
    alone = dpo(args, {"name": str(tiny_model), "lora_r": 8}).train(TrainData(pairs=pairs), tmp_path / "a")
    both = dpo({**args, "loss_type": ["sigmoid", "sft"]}, {"name": str(tiny_model), "lora_r": 8}).train(
        TrainData(pairs=pairs), tmp_path / "b")
    assert alone.log[0]["loss"] == pytest.approx(math.log(2), abs=1e-4)
    assert both.log[0]["loss"] > math.log(2) + 0.5  # + the chosen responses' mean token NLL
    cfg = json.loads((tmp_path / "b" / "train_config.json").read_text())
    assert cfg["trl_args"]["loss_type"] == ["sigmoid", "sft"]

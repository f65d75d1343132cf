"""The training process: ``python -m facttune_trl.worker <job.json>``.

Started by ``trl/dpo`` / ``trl/sft`` in a fresh process (or by ``accelerate launch -m
facttune_trl.worker job.json`` for several GPUs). It loads the model (optionally 4-bit nf4), wraps it
with LoRA, trains with TRL, checkpoints under ``out_dir/checkpoints`` (resuming from the last complete
one), and saves ``adapter/`` last, through a temporary folder, so a killed run never leaves a folder
that looks finished. Progress and errors go to stdout as ``@facttune-trl {json}`` lines.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from facttune_core import (
    ConfigError,
    DataError,
    FacttuneError,
    FolderLock,
    atomic_write_json,
    atomic_write_text,
    iter_jsonl,
    plot_curves,
    read_json_file,
)

from .components import ADAPTER, DONE_MARKER, PROTOCOL
from .config import ModelConfig
from .process import watch_parent
from .speed import adapters_to_float32, cpu_lm_head, precompute_ref, resolve_4bit, resolve_dtype

TRL_MAX_LENGTH_DEFAULT = 1024  # DPOConfig / SFTConfig default (tests/test_trl.py checks it)
CKPT_RE = re.compile(r"^checkpoint-(\d+)$")


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def emit(event: str, **kw: Any) -> None:
    if rank() == 0:
        print(PROTOCOL + json.dumps({"event": event, **kw}, default=str), flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


# ---------------------------------------------------------------------------- checkpoints
def last_checkpoint(ckpt_dir: Path) -> Path | None:
    """The newest complete ``checkpoint-N`` (trainer_state.json is written last); incomplete ones go."""
    if not ckpt_dir.is_dir():
        return None
    found: list[tuple[int, Path]] = []
    for d in ckpt_dir.iterdir():
        m = CKPT_RE.match(d.name)
        if not m or not d.is_dir():
            continue
        try:
            json.loads((d / "trainer_state.json").read_text(encoding="utf-8"))
            found.append((int(m.group(1)), d))
        except (OSError, json.JSONDecodeError):
            if rank() == 0:
                shutil.rmtree(d, ignore_errors=True)  # killed while saving
    return max(found)[1] if found else None


def prepare_checkpoints(ckpt_dir: Path, fingerprint: str) -> Path | None:
    """Checkpoints of other settings or data are discarded; returns the one to resume from."""
    fp = ckpt_dir / "fingerprint.json"
    if ckpt_dir.exists() and rank() == 0:
        old = json.loads(fp.read_text(encoding="utf-8")).get("fingerprint") if fp.exists() else None
        if old != fingerprint:
            shutil.rmtree(ckpt_dir)
    if rank() == 0:
        atomic_write_json(fp, {"fingerprint": fingerprint})
    return last_checkpoint(ckpt_dir)


# ---------------------------------------------------------------------------- data
def read_rows(path: Path) -> list[dict[str, Any]]:
    rows = [row for _, row in iter_jsonl(path)]
    if not rows:
        raise DataError("no examples", where=str(path))
    return rows


def use_chat(tokenizer: Any, chat: bool | None, table: str) -> bool:
    has = bool(getattr(tokenizer, "chat_template", None))
    if chat is True and not has:
        raise ConfigError("chat = true but the model's tokenizer has no chat template", key=f"{table}.model.chat")
    return has if chat is None else chat


def to_example(row: dict[str, Any], kind: str, chat: bool) -> dict[str, Any]:
    """TRL's formats: conversational (message lists) for chat models, plain strings otherwise."""
    outs = ("chosen", "rejected") if kind == "dpo" else ("completion",)
    if chat:
        ex: dict[str, Any] = {"prompt": [{"role": "user", "content": row["prompt"]}]}
        for k in outs:
            ex[k] = [{"role": "assistant", "content": row[k]}]
        return ex
    return {"prompt": row["prompt"], **{k: row[k] for k in outs}}


def seq_len(tokenizer: Any, prompt: Any, completion: Any, chat: bool) -> int:
    """Tokens of prompt + completion as TRL tokenizes them (+1 for the EOS TRL appends to plain text)."""
    if chat:
        out = tokenizer.apply_chat_template(prompt + completion, tokenize=True, return_dict=True)
        return len(out["input_ids"])
    eos = tokenizer.eos_token or ""
    text = prompt + completion
    return len(tokenizer(text=text if text.endswith(eos) else text + eos)["input_ids"])


def check_lengths(rows: list[dict[str, Any]], examples: list[dict[str, Any]], tokenizer: Any, kind: str,
                  chat: bool, max_length: int | None, too_long: str, table: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """A pair longer than max_length: an error naming it, or truncated / dropped as the recipe asks."""
    counts = {"too_long": 0, "dropped": 0, "truncated": 0, "max_tokens": 0}
    if max_length is None:
        return examples, counts
    keep = []
    what = "pair" if kind == "dpo" else "example"
    outs = ("chosen", "rejected") if kind == "dpo" else ("completion",)
    for row, ex in zip(rows, examples, strict=True):
        n = max(seq_len(tokenizer, ex["prompt"], ex[k], chat) for k in outs)
        counts["max_tokens"] = max(counts["max_tokens"], n)
        if n <= max_length:
            keep.append(ex)
            continue
        counts["too_long"] += 1
        if too_long == "error":
            raise DataError(f"{what} '{row.get('id')}' is {n} tokens, longer than max_length {max_length} (raise "
                            f"{table}.args.max_length, or set {table}.model.too_long = \"truncate\" or \"drop\")",
                            key=f"{table}.args.max_length")
        if too_long == "drop":
            counts["dropped"] += 1
        else:
            counts["truncated"] += 1
            keep.append(ex)
    if not keep:
        raise DataError(f"all {len(rows)} {what}s are longer than max_length {max_length}",
                        key=f"{table}.args.max_length")
    return keep, counts


# ---------------------------------------------------------------------------- model
def load_model(path: str, mc: ModelConfig, dtype_name: str, use_cuda: bool, gradient_checkpointing: bool,
               table: str) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"trust_remote_code": mc.trust_remote_code}
    if mc.attn_implementation:
        kwargs["attn_implementation"] = mc.attn_implementation
    if mc.device_map == "auto":
        if use_cuda:  # one GPU per process (accelerate launch sets LOCAL_RANK)
            kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", "0"))}
    elif mc.device_map:
        kwargs["device_map"] = mc.device_map
    if mc.load_in_4bit:
        from transformers import BitsAndBytesConfig

        compute = getattr(torch, dtype_name)
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type=mc.bnb_4bit_quant_type,
            bnb_4bit_use_double_quant=mc.bnb_4bit_use_double_quant, bnb_4bit_compute_dtype=compute,
            bnb_4bit_quant_storage=compute)
        kwargs["dtype"] = compute
    else:
        kwargs["dtype"] = getattr(torch, dtype_name)
    try:
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load model '{path}': {str(exc).splitlines()[0]}", key=f"{table}.model.name") from exc
    if mc.load_in_4bit:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)
    return model


def lora_config(mc: ModelConfig) -> Any:
    from peft import LoraConfig

    return LoraConfig(r=mc.lora_r, lora_alpha=mc.lora_alpha, lora_dropout=mc.lora_dropout,
                      target_modules=mc.target_modules, bias=mc.lora_bias, use_rslora=mc.use_rslora,
                      task_type="CAUSAL_LM")


def trl_config(kind: str, args: dict[str, Any], ckpt_dir: Path, use_cuda: bool, dtype_name: str, table: str) -> Any:
    if kind == "dpo":
        from trl import DPOConfig as Cls
    else:
        from trl import SFTConfig as Cls
    a = dict(args)
    if not use_cuda:
        a.setdefault("use_cpu", True)
    # gradient checkpointing saves GPU memory; on CPU memory is rarely the limit and it costs ~30%
    a.setdefault("gradient_checkpointing", use_cuda)
    if "bf16" not in a and "fp16" not in a:
        # bf16 mixed precision where the weights are bf16 (TRL defaults to bf16 = true everywhere)
        a["bf16"] = dtype_name == "bfloat16"
    try:
        return Cls(output_dir=str(ckpt_dir), **a)
    except (TypeError, ValueError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"TRL {Cls.__name__} rejected the arguments: {msg}", key=f"{table}.args") from exc


def progress_callback(log_path: Path, total_hint: list[int]) -> Any:
    from transformers import TrainerCallback

    class Progress(TrainerCallback):  # type: ignore[misc]
        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            total_hint[0] = int(state.max_steps)
            emit("start", step=state.global_step, total_steps=state.max_steps,
                 device="cuda" if not args.use_cpu and _cuda() else "cpu")

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            emit("step", step=state.global_step, total_steps=state.max_steps)

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
                   **kw: Any) -> None:
            if not logs or "loss" not in logs or not state.is_world_process_zero:
                return
            entry = {"step": state.global_step, **logs}
            with open(log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, default=str) + "\n")
            emit("log", **entry)

    return Progress()


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


# ---------------------------------------------------------------------------- main
def run(job: dict[str, Any]) -> dict[str, Any]:
    t_start = time.perf_counter()
    import torch
    from transformers import AutoTokenizer

    kind: str = job["kind"]
    table: str = job.get("table", "train")
    out = Path(job["out_dir"])
    mc = ModelConfig.model_validate(job["model"])
    args: dict[str, Any] = dict(job["args"])
    use_cuda = torch.cuda.is_available() and not args.get("use_cpu", False)
    four_bit_setting = mc.load_in_4bit
    mc = mc.model_copy(update={"load_in_4bit": resolve_4bit(mc, use_cuda)})

    try:
        tokenizer = AutoTokenizer.from_pretrained(job["model_path"], trust_remote_code=mc.trust_remote_code)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load model '{job['model_name']}' ({job['model_path']}): "
                          f"{str(exc).splitlines()[0]}", key=f"{table}.model.name") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    rows = read_rows(Path(job["data"]))
    chat = use_chat(tokenizer, mc.chat, table)
    examples = [to_example(r, kind, chat) for r in rows]
    # check lengths before importing TRL (10+ s): a too-long pair fails fast
    max_length = args.get("max_length", TRL_MAX_LENGTH_DEFAULT)
    examples, counts = check_lengths(rows, examples, tokenizer, kind, chat, max_length, mc.too_long, table)
    import trl

    dtype_name = resolve_dtype(mc, use_cuda)
    if kind == "dpo":
        args["precompute_ref_log_probs"] = precompute_ref(args, len(examples), int(os.environ.get("WORLD_SIZE", "1")),
                                                          cpu_4bit=mc.load_in_4bit is True and not use_cuda)
    config = trl_config(kind, args, out / "checkpoints", use_cuda, dtype_name, table)

    ckpt_dir = out / "checkpoints"
    resume = prepare_checkpoints(ckpt_dir, job["fingerprint"])
    log_path = out / "train_log.jsonl"
    resumed_step = 0
    if rank() == 0:  # the log restarts from what the checkpoint saw
        history: list[dict[str, Any]] = []
        if resume is not None:
            state = json.loads((resume / "trainer_state.json").read_text(encoding="utf-8"))
            resumed_step = int(state.get("global_step", 0))
            history = [{"step": h.get("step"), **h} for h in state.get("log_history", []) if "loss" in h]
        atomic_write_text(log_path, "".join(json.dumps(h, default=str) + "\n" for h in history))

    from datasets import Dataset

    dataset = Dataset.from_list(examples)
    model = load_model(job["model_path"], mc, dtype_name, use_cuda, bool(config.gradient_checkpointing), table)
    peft_config = lora_config(mc)
    if mc.init_adapter:  # continue that adapter; DPO: TRL keeps a frozen copy of it as the reference
        from peft import PeftModel
        model, peft_config = PeftModel.from_pretrained(model, mc.init_adapter, is_trainable=True), None
    total: list[int] = [0]
    t_init = time.perf_counter()
    callbacks = [progress_callback(log_path, total)]
    head = {"installed": False}
    if kind == "dpo":
        from trl import DPOTrainer

        if config.precompute_ref_log_probs:
            emit("log", note=f"reference log-probs of {len(examples)} pairs, computed once before training")
        with cpu_lm_head(job.get("lm_head", "auto") == "auto" and not use_cuda) as head:
            trainer = DPOTrainer(model=model, ref_model=None, args=config, train_dataset=dataset,
                                 processing_class=tokenizer, peft_config=peft_config, callbacks=callbacks)
    else:
        from trl import SFTTrainer

        trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer,
                             peft_config=peft_config, callbacks=callbacks)
    adapters_to_float32(trainer.model)
    init_seconds = time.perf_counter() - t_init  # includes the reference pass when precomputed
    if use_cuda:
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=str(resume) if resume is not None else None)
    seconds = time.perf_counter() - t0

    # save: adapter + tokenizer into a temporary folder, the marker last, then one rename
    tmp = out / f".{ADAPTER}.tmp"
    if rank() == 0 and tmp.exists():
        shutil.rmtree(tmp)
    trainer.save_model(str(tmp))
    if not trainer.is_world_process_zero():
        return {}
    tokenizer.save_pretrained(str(tmp))
    state = trainer.state
    steps_run = max(0, state.global_step - resumed_step)
    step_logs = [{"step": h.get("step"), **h} for h in state.log_history if "loss" in h]
    last = step_logs[-1] if step_logs else {}
    metrics: dict[str, Any] = {
        "kind": kind,
        "base_model": job["model_name"],
        "examples": len(examples),
        **{k: v for k, v in counts.items() if v},
        "chat_format": chat,
        "load_in_4bit": mc.load_in_4bit,
        **({"load_in_4bit_setting": four_bit_setting} if four_bit_setting == "auto" else {}),
        **({"lm_head": "cpu log_softmax" if head["installed"] else "trl",
            "precompute_ref_log_probs": bool(config.precompute_ref_log_probs)} if kind == "dpo" else {}),
        "device": "cuda" if use_cuda else "cpu",
        "dtype": dtype_name,
        "adapter_dtype": "float32",
        "torch_threads": torch.get_num_threads(),
        "steps": state.global_step,
        "resumed_from_step": resumed_step,
        "train_loss": (sum(e["loss"] for e in step_logs) / len(step_logs)) if step_logs else output.training_loss,
        "first_loss": step_logs[0].get("loss") if step_logs else None,
        "last_loss": last.get("loss"),
        "seconds": round(seconds, 2),
        "trainer_init_seconds": round(init_seconds, 2),
        "seconds_per_step": round(seconds / steps_run, 3) if steps_run else None,
        "worker_seconds": round(time.perf_counter() - t_start, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "trl_version": trl.__version__,
        "torch_version": torch.__version__,
    }
    for k in ("rewards/accuracies", "rewards/margins", "rewards/chosen", "rewards/rejected", "mean_token_accuracy"):
        if k in last:
            metrics[k] = last[k]
    tokens = getattr(state, "num_input_tokens_seen", 0) or 0
    if tokens and seconds > 0 and steps_run:
        metrics["tokens_per_second"] = round(tokens * steps_run / max(state.global_step, 1) / seconds, 1)
    if use_cuda:
        metrics["peak_gpu_memory_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        metrics["gpu"] = torch.cuda.get_device_name()
    atomic_write_text(log_path, "".join(json.dumps(h, default=str) + "\n" for h in step_logs))
    atomic_write_json(out / "metrics.json", metrics)
    atomic_write_json(out / "train_config.json", {
        "component": f"trl/{kind}", "base_model": job["model_name"], "base_model_path": job["model_path"],
        "model": mc.model_dump(mode="json"), "dtype": dtype_name, "args": job["args"], "chat_format": chat,
        "trl_args": json.loads(config.to_json_string()), "lora": _jsonable(lora_config(mc)),
        "fingerprint": job["fingerprint"]})
    try:
        plot_curves(step_logs, out / "curves.png", title=f"trl/{kind} · {job['model_name']}")
    except Exception as exc:  # a plot must not cost a finished training
        print(f"curves.png not written: {exc!r}", flush=True)
    atomic_write_json(tmp / DONE_MARKER, {
        "kind": kind, "base_model": job["model_name"], "base_model_path": job["model_path"],
        "load_in_4bit": mc.load_in_4bit, "chat_format": chat, "fingerprint": job["fingerprint"],
        "steps": state.global_step})
    final = out / ADAPTER
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return metrics


def _jsonable(obj: Any) -> Any:
    d = obj.to_dict() if hasattr(obj, "to_dict") else dict(vars(obj))
    return json.loads(json.dumps(d, default=lambda o: sorted(o) if isinstance(o, set) else str(o)))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m facttune_trl.worker <job.json>", file=sys.stderr)
        return 2
    job_path = Path(argv[0])
    watch_parent()
    try:
        job = read_json_file(job_path)
        # one writer per stage folder: a worker an earlier run left behind gets 30 s to go, else one line
        lock = FolderLock(Path(job["out_dir"]), name=".worker.lock", what="training worker", wait=30) \
            if rank() == 0 else None
        if lock is not None:
            lock.acquire()
        try:
            metrics = run(job)
        finally:
            if lock is not None:
                lock.release()
    except FacttuneError as err:
        emit("error", type=type(err).__name__ if type(err).__name__ in ("ConfigError", "DataError") else
             "ComponentError", message=err.message, key=err.key, where=err.where)
        return 2
    except Exception as exc:
        traceback.print_exc()
        first = (str(exc).strip().splitlines() or [""])[0]
        emit("error", type="ComponentError", message=f"training failed: {type(exc).__name__}: {first[:300]}",
             key=None, where=None)
        return 1
    emit("done", metrics=metrics)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``trl/dpo`` and ``trl/sft``: the parent side.

``train()`` checks the data, writes a job file and runs the training in a fresh process
(``python -m facttune_trl.worker job.json``), streaming its progress back. Training in a fresh process
keeps bitsandbytes away from a model that just ran ``generate()`` (docs/training.md) and hands all of
its memory back when it ends. Nothing heavy is imported here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from facttune_core import (
    ComponentError,
    ConfigError,
    Context,
    DataError,
    FacttuneError,
    Pair,
    SFTExample,
    TrainData,
    TrainResult,
    atomic_write_json,
    atomic_write_text,
    iter_jsonl,
    read_json_file,
    resolve_model,
    stable_json,
)

from .config import DPO_DEFAULTS, SFT_DEFAULTS, TABLE, DPOConfigTable, SFTConfigTable, check_args
from .process import PARENT_ENV, die_with_parent
from .trl_fields import TRL_VERSION

log = logging.getLogger("facttune_trl")

PROTOCOL = "@facttune-trl "  # prefix of the worker's event lines on stdout
ADAPTER = "adapter"
DONE_MARKER = "facttune_adapter.json"
ERRORS: dict[str, type[FacttuneError]] = {"ConfigError": ConfigError, "DataError": DataError,
                                          "ComponentError": ComponentError}


def adapter_complete(adapter_dir: Path) -> bool:
    """An adapter folder is finished when the marker written last inside it (before the rename) exists."""
    return (adapter_dir / DONE_MARKER).is_file() and (adapter_dir / "adapter_config.json").is_file()


def read_log(path: Path) -> list[dict[str, Any]]:
    """The training log (a killed run may have left a torn last line)."""
    return [row for _, row in iter_jsonl(path, tolerate_torn_tail=True)] if path.exists() else []


class _TRLTrainer:
    kind: ClassVar[str] = "dpo"
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, config: DPOConfigTable | SFTConfigTable, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx
        self.table = ctx.key or TABLE
        check_args(config.args, self.kind, self.table)

    # ------------------------------------------------------------------ data
    def rows(self, data: TrainData) -> list[dict[str, Any]]:
        raise NotImplementedError

    @staticmethod
    def _text(rec: Any, field: str, what: str, table: str) -> str:
        v = getattr(rec, field, None)
        rid = getattr(rec, "id", "?")
        if not isinstance(v, str):
            raise DataError(f"{what} '{rid}': '{field}' is {type(v).__name__}, not text", key=table)
        if not v.strip():
            raise DataError(f"{what} '{rid}': empty '{field}'", key=table)
        return v

    # ------------------------------------------------------------------ job
    def model_name(self, data: TrainData) -> str:
        name = self.c.model.name or data.base_model
        if name is None:
            raise ConfigError("no base model to train: set model.name (without a [generate] table there is no "
                              "policy to take it from)", key=f"{self.table}.model.name")
        return name

    def job(self, data: TrainData, out_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The worker's job (resolved config) and its data rows."""
        rows = self.rows(data)
        name = self.model_name(data)
        try:
            path = resolve_model(name)
        except FacttuneError as err:
            raise err.located(key=f"{self.table}.model.name") from None
        except Exception as err:  # a resolver failing (e.g. a broken package) is the model's problem
            raise ConfigError(f"cannot resolve model '{name}': {err}", key=f"{self.table}.model.name") from err
        args = {**self.defaults, "seed": self.ctx.seed, **self.c.args}
        model = self.c.model.model_dump(mode="json")
        start = self.c.model.init_adapter  # its weights, not its path, decide whether a finished adapter is reused
        start_sha = init_adapter_hash(start, f"{self.table}.model.init_adapter") if start else None
        fingerprint = hashlib.sha256(stable_json({"kind": self.kind, "model_name": name, "model": model, "args": args,
                                                  "rows": rows, "init_adapter_sha256": start_sha}).encode()).hexdigest()
        return {"kind": self.kind, "model_name": name, "model_path": str(path), "model": model, "args": args,
                "table": self.table, "out_dir": str(out_dir.resolve()), "data": str((out_dir / "train_data.jsonl").resolve()),
                "fingerprint": fingerprint, "n_examples": len(rows), "trl_version_expected": TRL_VERSION,
                "lm_head": self.c.lm_head}, rows

    # ------------------------------------------------------------------ train
    def train(self, data: TrainData, out_dir: Path) -> TrainResult:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        job, rows = self.job(data, out_dir)
        done = self._finished(out_dir, job["fingerprint"])
        if done is not None:
            log.info("trl/%s: %s is complete; not training again", self.kind, out_dir / ADAPTER)
            return done
        atomic_write_text(Path(job["data"]), _jsonl(rows))
        job_path = out_dir / "job.json"
        atomic_write_json(job_path, job)
        run_worker(job_path, self.ctx, self.table, self.c.launcher)
        done = self._finished(out_dir, job["fingerprint"])
        if done is None:
            raise ComponentError(f"training ended without a finished adapter; see {out_dir / 'worker.log'}",
                                 key=self.table)
        return done

    def _finished(self, out_dir: Path, fingerprint: str) -> TrainResult | None:
        adapter = out_dir / ADAPTER
        if not adapter_complete(adapter):
            return None
        marker = read_json_file(adapter / DONE_MARKER, fix=f"delete {adapter} to train again")
        if marker.get("fingerprint") != fingerprint:
            raise ComponentError(f"{adapter} was trained with other settings or data; remove it or train into "
                                 "another folder", key=self.table)
        metrics_path = out_dir / "metrics.json"
        metrics = read_json_file(metrics_path) if metrics_path.exists() else {}
        return TrainResult(adapter_dir=adapter, metrics=metrics, log=read_log(out_dir / "train_log.jsonl"))


def init_adapter_hash(adapter: str, key: str) -> str:
    """sha256 of the adapter's config and weights; not an adapter folder: a one-line ConfigError."""
    path = Path(adapter).expanduser()
    files = [path / "adapter_config.json", *sorted(path.glob("adapter_model.*"))]
    if not files[0].is_file() or len(files) < 2:
        raise ConfigError(f"'{adapter}' is not a LoRA adapter (adapter_config.json and adapter_model.*) nor a run "
                          "folder that trained one: run that recipe first", key=key)
    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()


def _jsonl(rows: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


class DPOTrainerComponent(_TRLTrainer):
    """TRL DPOTrainer + LoRA (optionally QLoRA nf4); reference = the base with adapters off."""

    Config = DPOConfigTable
    kind = "dpo"
    defaults = DPO_DEFAULTS

    def rows(self, data: TrainData) -> list[dict[str, Any]]:
        if not data.pairs:
            extra = (f" (got {len(data.sft)} SFT examples: train them with trl/sft)" if data.sft else "")
            raise DataError(f"no preference pairs to train on{extra}", key=self.table)
        rows = []
        seen: set[str] = set()
        for p in data.pairs:
            if not isinstance(p, Pair):
                raise DataError(f"expected preference pairs, got {type(p).__name__}", key=self.table)
            prompt = self._text(p, "prompt", "pair", self.table)
            chosen = self._text(p, "chosen", "pair", self.table)
            rejected = self._text(p, "rejected", "pair", self.table)
            if chosen.strip() == rejected.strip():
                raise DataError(f"pair '{p.id}': chosen and rejected are the same text", key=self.table)
            if p.id in seen:
                raise DataError(f"pair '{p.id}' appears twice", key=self.table)
            seen.add(p.id)
            rows.append({"id": p.id, "prompt": prompt, "chosen": chosen, "rejected": rejected})
        return rows


class SFTTrainerComponent(_TRLTrainer):
    """TRL SFTTrainer (prompt/completion, loss on the completion only) + LoRA / QLoRA."""

    Config = SFTConfigTable
    kind = "sft"
    defaults = SFT_DEFAULTS

    def rows(self, data: TrainData) -> list[dict[str, Any]]:
        examples: list[SFTExample | Pair] = list(data.sft)
        if not examples:
            # preference pairs given to SFT: train on the chosen responses (each once)
            uniq: dict[str, Pair] = {}
            for p in data.pairs:
                uniq.setdefault(getattr(p, "chosen_id", p.id), p)
            examples = list(uniq.values())
        if not examples:
            raise DataError("no SFT examples to train on", key=self.table)
        rows = []
        seen: set[str] = set()
        for e in examples:
            prompt = self._text(e, "prompt", "example", self.table)
            field = "completion" if isinstance(e, SFTExample) else "chosen"
            completion = self._text(e, field, "example", self.table)
            rid = e.id if isinstance(e, SFTExample) else getattr(e, "chosen_id", e.id)
            if rid in seen:
                raise DataError(f"example '{rid}' appears twice", key=self.table)
            seen.add(rid)
            rows.append({"id": rid, "prompt": prompt, "completion": completion})
        return rows


# ---------------------------------------------------------------------------- the worker process
def worker_command(job_path: Path, launcher: str | None = None) -> list[str]:
    """``python -m facttune_trl.worker job.json``, or under the recipe's ``[train] launcher``
    (``accelerate launch --num_processes 2`` → ``accelerate launch --num_processes 2 -m facttune_trl.worker job.json``)."""
    return [*(shlex.split(launcher) if launcher else [sys.executable]), "-m", "facttune_trl.worker", str(job_path)]


def run_worker(job_path: Path, ctx: Context, table: str = TABLE, launcher: str | None = None) -> dict[str, Any]:
    """Run the worker, stream its events (progress, log lines) and turn its failure into one line."""
    out_dir = job_path.parent
    cmd = worker_command(job_path, launcher)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false",
           PARENT_ENV: str(os.getpid())}
    error: dict[str, Any] | None = None
    done: dict[str, Any] = {}
    tail: list[str] = []
    step = 0
    with open(out_dir / "worker.log", "a", encoding="utf-8") as wlog:
        wlog.write(f"$ {shlex.join(cmd)}\n")
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                                env=env, cwd=str(out_dir), preexec_fn=die_with_parent)
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                wlog.write(line)
                wlog.flush()
                if not line.startswith(PROTOCOL):
                    if line.strip():
                        tail = [*tail[-19:], line.rstrip()]
                    continue
                try:
                    ev = json.loads(line[len(PROTOCOL):])
                except json.JSONDecodeError:
                    continue
                kind = ev.get("event")
                if kind == "start":
                    step = int(ev.get("step") or 0)
                    ctx.progress(0, ev.get("total_steps"))
                    log.info("trl: training %s steps (from step %s) on %s", ev.get("total_steps"), step,
                             ev.get("device"))
                elif kind == "step":
                    new = int(ev.get("step") or 0)
                    ctx.progress(max(0, new - step), ev.get("total_steps"))
                    step = new
                elif kind == "log":
                    log.info("trl: %s", {k: v for k, v in ev.items() if k != "event"})
                elif kind == "error":
                    error = ev
                elif kind == "done":
                    done = ev
            rc = proc.wait()
        except BaseException:  # KeyboardInterrupt: stop the worker; its last checkpoint stays for a resume
            _stop(proc)
            raise
    if error is not None:
        cls = ERRORS.get(str(error.get("type")), ComponentError)
        raise cls(str(error.get("message")), where=error.get("where"), key=error.get("key") or table)
    if rc != 0:
        last = next((t for t in reversed(tail) if "Error" in t or "error" in t), tail[-1] if tail else "")
        why = f"killed by signal {-rc}" if rc < 0 else f"exit code {rc}"
        raise ComponentError(f"training worker failed ({why}): {last.strip()[:300]} "
                             f"(see {out_dir / 'worker.log'})", key=table)
    return done


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

"""The user's main job on the real packaged models, at a size CI can afford: sample, score, pair,
QLoRA-DPO, re-score, report; Ctrl-C mid-run and rerun resumes; a second rerun only reads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--set", "data.args.n_train=3", "--set", "data.args.n_test=2", "--set", "generate.args.n=4", "--set", "generate.chunk_size=1",
         "--set", "generate.args.max_new_tokens=64", "--set", "train.args.max_steps=1",
         "--set", "train.args.per_device_train_batch_size=2", "--set", "evaluate.n=1"]


def _cmd(run_dir: Path, cache: Path) -> list[str]:
    return [sys.executable, "-m", "facttune_core.cli", "run", str(ROOT / "recipes" / "bio.toml"),
            "--run-dir", str(run_dir), "--set", f"run.cache={cache}", *SMALL]


@pytest.mark.slow
def test_bio_recipe_end_to_end_with_interrupt_and_rerun(tmp_path):
    run_dir, cache = tmp_path / "run", tmp_path / "calls.sqlite"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    # 1. Ctrl-C while the policy is generating
    # SIG_DFL in the child: a shell's background job would otherwise inherit SIGINT ignored
    proc = subprocess.Popen(_cmd(run_dir, cache), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 600
    while time.time() < deadline and not list(run_dir.glob("01-generate-*/records.partial.jsonl")):
        time.sleep(0.2)
    partial = list(run_dir.glob("01-generate-*/records.partial.jsonl"))
    assert partial, "the generate stage never started"
    while time.time() < deadline and partial[0].exists() and partial[0].stat().st_size == 0:
        time.sleep(0.2)  # let one chunk finish so there is something to resume
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 130, out[-3000:]  # one prompt per chunk: Ctrl-C lands mid-generate
    assert "interrupted; finished work is kept" in out
    assert "Traceback" not in out
    assert not list(run_dir.glob("01-generate-*/manifest.json"))  # the stage is not taken for finished
    # 2. rerun: resumes and finishes
    t0 = time.time()
    done = subprocess.run(_cmd(run_dir, cache), env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    info = json.loads((run_dir / "run.json").read_text())
    assert info["stages"]["generate"]["status"] == "resumed"
    assert info["finished"] and list(info["stages"]) == ["data", "generate", "extract", "retrieve", "verify",
                                                         "reward", "pairs", "train", "evaluate"]
    for stage in info["stages"].values():
        assert (run_dir / stage["dir"] / "manifest.json").exists()
    train_dir = run_dir / info["stages"]["train"]["dir"]
    manifest = json.loads((train_dir / "manifest.json").read_text())
    adapter = train_dir / manifest["adapter_dir"]
    assert (adapter / "adapter_config.json").exists()
    summary = json.loads((run_dir / info["stages"]["evaluate"]["dir"] / "summary.json").read_text())
    assert set(summary["variants"]) == {"before", "after"} and "difference" in summary
    report = (run_dir / "report.html").read_text()
    assert len(report) > 10_000
    assert "Wikipedia Level-4 Vital Articles" in report  # credited by the prompt source and the retriever
    assert {p.name for p in (run_dir / "plots").glob("*.png")} >= {"scores.png", "score_vs_length.png", "training.png"}
    first = time.time() - t0
    # 3. the same command again: everything is done, nothing recomputed
    t1 = time.time()
    again = subprocess.run(_cmd(run_dir, cache), env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    info2 = json.loads((run_dir / "run.json").read_text())
    assert all(s["status"] == "done" for s in info2["stages"].values())
    assert time.time() - t1 < first

"""Staged runs: artifacts, stage keys, skip/resume, kill -9, force-from, evaluate."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from facttune_core import DataError, Pipeline, load_recipe
from facttune_core.contract.store import read_records
from facttune_core.run.folders import stage_key
from facttune_core.testing import fake_recipe_text


def _run(recipe: Path, run_dir: Path, **kw):
    return Pipeline(load_recipe(recipe, kw.pop("overrides", [])), run_dir, **kw).run()


def test_the_run_folder_says_which_overrides_ran(fake_registry, fake_recipe, tmp_path):
    """`--set` changes what runs; the folder's recipe.toml and run.json say so (a rerun can be repeated)."""
    _run(fake_recipe, tmp_path / "plain", until="data")
    assert (tmp_path / "plain" / "recipe.toml").read_text() == fake_recipe.read_text()
    assert json.loads((tmp_path / "plain" / "run.json").read_text())["overrides"] == []
    _run(fake_recipe, tmp_path / "set", until="data", overrides=["run.seed=7"])
    copy = (tmp_path / "set" / "recipe.toml").read_text()
    assert copy.startswith("# run with these overrides") and "#   --set run.seed=7\n" in copy
    assert copy.endswith(fake_recipe.read_text())
    assert json.loads((tmp_path / "set" / "run.json").read_text())["overrides"] == ["run.seed=7"]


def test_full_run_writes_every_stage(fake_registry, fake_recipe, tmp_path):
    res = _run(fake_recipe, tmp_path / "run")
    assert list(res) == ["data", "generate", "extract", "retrieve", "verify", "reward", "pairs", "train", "evaluate"]
    for r in res.values():
        assert (r.dir / "records.jsonl").exists() and (r.dir / "manifest.json").exists()
        assert not (r.dir / "records.partial.jsonl").exists()
        m = json.loads((r.dir / "manifest.json").read_text())
        assert m["key"] == r.key and r.dir.name.endswith(r.key)
    # 4 train prompts x 2 samples; 4 sentences each
    assert len(res["generate"].records) == 8 and len(res["extract"].records) == 32
    pairs = res["pairs"].records
    assert all(p.chosen_reward > p.rejected_reward for p in pairs)
    assert res["pairs"].counts["pairs"] == len(pairs)
    summary = res["evaluate"].manifest["summary"]
    assert set(summary["variants"]) == {"before", "after"}
    # the after chain samples with the trained adapter; the base model never sees it
    ev = res["evaluate"]
    adapter = str(res["train"].dir / res["train"].manifest["adapter_dir"])
    gen = {v: json.loads((ev.dir / v / ev.manifest["chains"][v]["generate"] / "manifest.json").read_text())
           for v in ("before", "after")}
    assert gen["after"]["config"]["config"]["adapter"] == adapter
    assert gen["before"]["config"]["config"]["adapter"] is None
    # the fake trainer raises p_true, so the tuned fake model states more true facts
    assert summary["variants"]["after"]["factscore"] > summary["variants"]["before"]["factscore"]


def test_rerun_skips_everything(fake_registry, fake_recipe, tmp_path):
    log = tmp_path / "calls.log"
    recipe = tmp_path / "r.toml"
    recipe.write_text(fake_recipe_text(gen_extra=f', calls_log = "{log}"', verify_args=f'calls_log = "{log}"'))
    _run(recipe, tmp_path / "run")
    n_calls = len(log.read_text().splitlines())
    res = _run(recipe, tmp_path / "run")
    assert all(r.status == "done" for r in res.values())
    assert len(log.read_text().splitlines()) == n_calls  # nothing called again


def test_stage_key_tracks_output_relevant_config_only(fake_registry, fake_recipe, tmp_path):
    a = _run(fake_recipe, tmp_path / "run")
    b = Pipeline(load_recipe(fake_recipe, ["verify.args.batch_size=2", "verify.args.delay=0.0"]),
                 tmp_path / "run").run()
    assert a["verify"].key == b["verify"].key  # runtime fields do not change keys
    c = Pipeline(load_recipe(fake_recipe, ["generate.args.p_true=0.9"]), tmp_path / "run").run()
    assert c["generate"].key != a["generate"].key
    assert c["verify"].key != a["verify"].key  # upstream change propagates
    assert c["data"].key == a["data"].key
    assert stage_key("u", "verify", "x/y", "1", {"a": 1}) != stage_key("u", "verify", "x/y", "2", {"a": 1})


def test_until_and_force_from(fake_registry, tmp_path):
    log = tmp_path / "calls.log"
    recipe = tmp_path / "r.toml"
    recipe.write_text(fake_recipe_text(gen_extra=f', calls_log = "{log}"', verify_args=f'calls_log = "{log}"'))

    def calls(kind: str) -> int:
        return sum(json.loads(x)["kind"] == kind for x in log.read_text().splitlines())

    res = Pipeline(load_recipe(recipe), tmp_path / "run", until="verify").run()
    assert list(res) == ["data", "generate", "extract", "retrieve", "verify"]
    assert not list((tmp_path / "run").glob("05-reward-*"))
    assert not json.loads((tmp_path / "run" / "run.json").read_text())["finished"]
    full = Pipeline(load_recipe(recipe), tmp_path / "run").run()
    assert [full[s].status for s in ("verify", "reward", "evaluate")] == ["done", "ran", "ran"]
    before = {k: calls(k) for k in ("generate", "verify")}
    # --force-from recomputes that stage and every later one, and skips the cache's answers there
    forced = Pipeline(load_recipe(recipe), tmp_path / "run", force_from="reward").run()
    assert {s: r.status for s, r in forced.items()} == {
        "data": "done", "generate": "done", "extract": "done", "retrieve": "done", "verify": "done",
        "reward": "ran", "pairs": "ran", "train": "ran", "evaluate": "ran"}
    assert forced["reward"].key == full["reward"].key
    assert calls("generate") > before["generate"]  # evaluate sampled again, not from the cache
    assert calls("verify") > before["verify"]  # in the evaluate chain; the main verify stage is done


def test_resume_after_exception_mid_stage(fake_registry, tmp_path, monkeypatch):
    log = tmp_path / "calls.log"
    recipe = tmp_path / "r.toml"
    recipe.write_text(fake_recipe_text(verify_args=f'calls_log = "{log}", batch_size = 1'))
    from facttune_core import testing

    real = testing.FakeVerifier.verify
    calls = {"n": 0}

    def flaky(self, claims, evidence):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(self, claims, evidence)

    monkeypatch.setattr(testing.FakeVerifier, "verify", flaky)
    r = load_recipe(recipe, ["verify.chunk_size=4"])
    with pytest.raises(KeyboardInterrupt):
        Pipeline(r, tmp_path / "run", until="verify").run()
    vdir = next((tmp_path / "run").glob("04-verify-*"))
    assert (vdir / "records.partial.jsonl").exists() and not (vdir / "manifest.json").exists()
    done_before = len((vdir / "records.partial.jsonl").read_text().splitlines())
    assert done_before == 8  # two chunks of 4 finished
    monkeypatch.setattr(testing.FakeVerifier, "verify", real)
    res = Pipeline(load_recipe(recipe, ["verify.chunk_size=4"]), tmp_path / "run", until="verify").run()
    assert res["verify"].status == "resumed" and len(res["verify"].records) == 32
    verified = [json.loads(x)["n"] for x in log.read_text().splitlines() if json.loads(x)["kind"] == "verify"]
    unique = {(c.topic, c.text) for c in res["extract"].records}
    assert sum(verified) == len(unique)  # every distinct claim judged exactly once across both runs


def test_a_resumed_training_says_so_in_its_manifest(fake_registry, fake_recipe, tmp_path, monkeypatch):
    from facttune_core import testing

    real = testing.FakeTrainer.train

    def resumed(self, data, out_dir):
        res = real(self, data, out_dir)
        return replace(res, metrics={**res.metrics, "resumed_from_step": 2})

    monkeypatch.setattr(testing.FakeTrainer, "train", resumed)
    res = _run(fake_recipe, tmp_path / "run")
    assert res["train"].status == "resumed" and res["train"].manifest["status"] == "resumed"
    assert res["generate"].manifest["status"] == "ran"
    assert json.loads((tmp_path / "run" / "run.json").read_text())["stages"]["train"]["status"] == "resumed"


def test_kill_9_mid_stage_then_resume(tmp_path):
    """A real kill -9 of `facttune run` during verify: rerun repeats no finished call, nothing corrupt."""
    log = tmp_path / "calls.log"
    recipe = tmp_path / "r.toml"
    recipe.write_text(fake_recipe_text(verify_args=f'calls_log = "{log}", batch_size = 1, delay = 0.15'))
    env = {**os.environ, "FACTTUNE_PLUGINS": "facttune_core.testing", "FACTTUNE_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "facttune_core.cli", "run", str(recipe), "--run-dir", str(tmp_path / "run"),
           "--set", "verify.chunk_size=2", "--until", "verify"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        if log.exists() and sum(1 for x in log.read_text().splitlines() if '"verify"' in x) >= 7:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    vdir = next((tmp_path / "run").glob("04-verify-*"))
    assert not (vdir / "manifest.json").exists()
    before = [json.loads(x) for x in log.read_text().splitlines() if '"verify"' in x]
    assert 7 <= len(before) < 32
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    calls = [json.loads(x) for x in log.read_text().splitlines() if '"verify"' in x]
    # each distinct claim is one call (batch_size 1); at most the one in flight at the kill repeated
    claims = read_records(next((tmp_path / "run").glob("02-extract-*")) / "records.jsonl")
    unique = len({(c.topic, c.text) for c in claims})
    assert unique <= len(calls) <= unique + 1
    verdicts = read_records(vdir / "records.jsonl")
    assert len(verdicts) == 32 and len({v.claim_id for v in verdicts}) == 32
    for d in (tmp_path / "run").glob("[0-9][0-9]-*"):
        for f in d.glob("*.json*"):
            if f.suffix == ".json":
                json.loads(f.read_text())
            else:
                [json.loads(line) for line in f.read_text().splitlines()]


def test_data_given_responses_start_after_generate(fake_registry, tmp_path):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"id": "a", "prompt": "Tell me about Ada Quill.", "topic": "Ada Quill"}\n')
    resp = tmp_path / "r.jsonl"
    resp.write_text('{"prompt_id": "a", "text": "Ada Quill was born in Lisbon. Ada Quill was a sailor."}\n'
                    '{"prompt_id": "a", "text": "Ada Quill was born in Oslo. Ada Quill won an Olympic medal."}\n')
    recipe = tmp_path / "r.toml"
    recipe.write_text(f'[data]\ncomponent = "core/jsonl"\nargs = {{ path = "{prompts.name}", responses = "{resp.name}" }}\n'
                      '[extract]\ncomponent = "core/sentences"\n[retrieve]\ncomponent = "fake/retriever"\n'
                      '[verify]\ncomponent = "fake/verifier"\n[reward]\ncomponent = "fake/reward"\n[pairs]\n')
    res = _run(recipe, tmp_path / "run")
    assert "generate" not in res
    assert len(res["pairs"].records) == 1
    p = res["pairs"].records[0]
    assert "Lisbon" in p.chosen and p.chosen_reward == 0.5 and p.rejected_reward == 0.0


def test_bad_split_is_one_line(fake_registry, fake_recipe, tmp_path):
    with pytest.raises(DataError) as err:
        Pipeline(load_recipe(fake_recipe, ["generate.split=dev"]), tmp_path / "run").run()
    assert str(err.value) == f"{fake_recipe}: generate.split: no prompts in split 'dev' (the data has: test, train)"


def test_evaluate_can_score_with_other_components(fake_registry, tmp_path):
    """A belief-filtered recipe trains on the model's own P(True) but is evaluated by retrieval + judge."""
    text = fake_recipe_text().replace('[retrieve]\ncomponent = "fake/retriever"\n', "")
    text = text.replace('[evaluate]\nsplit = "test"', '[evaluate]\nsplit = "test"\nretrieve = { component = "fake/retriever" }')
    recipe = tmp_path / "r.toml"
    recipe.write_text(text)
    res = _run(recipe, tmp_path / "run")
    assert "retrieve" not in res
    chains = res["evaluate"].manifest["chains"]
    assert set(chains["before"]) == {"generate", "extract", "retrieve", "verify"}
    ev_dir = res["evaluate"].dir / "before" / chains["before"]["retrieve"]
    assert len(read_records(ev_dir / "records.jsonl")) > 0


def test_relative_run_dir_is_made_absolute(fake_registry, fake_recipe, tmp_path, monkeypatch):
    """The default run folder is relative (runs/<name>); components that start subprocesses in
    other folders (the trainer) must still find their stage folder."""
    monkeypatch.chdir(tmp_path)
    pipe = Pipeline(load_recipe(fake_recipe, ["run.name=rel"]), until="generate")
    assert pipe.run_dir == (tmp_path / "runs" / "rel").resolve()
    res = pipe.run()
    assert res["generate"].dir.is_absolute() and res["generate"].dir.exists()

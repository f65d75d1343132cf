"""What FLAME's recipes need from the core and the bundled plugins: prompt.meta from core/jsonl, an
adapter named by its run folder (DPO from an SFT run), and the evaluate stage's reward win rates and
per-group figures (FActScore on fact-seeking prompts, instruction following on the others)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facttune_core import ConfigError, Pipeline, load_recipe, trained_adapter
from facttune_core.run.evaluate import evaluation_summary, win_rate
from facttune_core.run.recipe import EvaluateTable, Resolved
from facttune_core.testing import fake_recipe_text


def test_win_rate_counts_ties_half():
    assert win_rate([0.2, 0.6], [0.4, 0.6]) == pytest.approx((1 + 0 + 1 + 0.5) / 4)
    assert win_rate([0.58], [0.58 + 1e-8]) == 0.5  # the same text scored in another batch: a tie
    assert win_rate([], [1.0]) is None


def row(variant, pid, group, value, supported=1, claims=2):
    return {"variant": variant, "prompt_id": pid, "response_id": f"{pid}/{variant}", "claims": claims,
            "supported": supported, "words": 10, "factscore": supported / claims if claims else None,
            "rewards": {"instruction": value}, "group": group}


def test_summary_has_reward_means_win_rates_and_groups():
    rows = [row("before", "a", "true", 0.2, 0), row("after", "a", "true", 0.4, 2),
            row("before", "b", "false", 0.5), row("after", "b", "false", 0.3),
            row("before", "c", "false", 0.1), row("after", "c", "false", 0.9)]
    s = evaluation_summary(rows, n_boot=200)
    assert s["variants"]["before"]["rewards"] == {"instruction": pytest.approx((0.2 + 0.5 + 0.1) / 3)}
    assert s["win_rate"]["instruction"]["mean"] == pytest.approx(2 / 3)  # a won, b lost, c won
    assert s["win_rate"]["instruction"]["n_prompts"] == 3
    assert set(s["groups"]) == {"true", "false"}
    fs = s["groups"]["true"]
    assert fs["variants"]["before"]["factscore"] == 0.0 and fs["variants"]["after"]["factscore"] == 1.0
    assert s["groups"]["false"]["win_rate"]["instruction"]["mean"] == pytest.approx(0.5)
    assert "groups" not in fs


def test_new_evaluate_keys_leave_older_stage_keys_alone(tmp_path):
    """An [evaluate] table without reward / group_by hashes exactly as before they existed."""
    r = Resolved(tmp_path / "r.toml", load_recipe.__globals__["Recipe"].model_validate(
        {"data": {"component": "x"}, "evaluate": {"split": "test", "n": 2}}))
    assert r.stage_config("evaluate") == {"config": {"split": "test", "n": 2, "generate": {}, "bootstrap": 2000,
                                                     "limit": None, "extract": None, "retrieve": None,
                                                     "verify": None}}
    r.recipe.evaluate = EvaluateTable(group_by="fact_seeking")
    assert r.stage_config("evaluate")["config"]["group_by"] == "fact_seeking"


def instructions(tmp_path: Path) -> Path:
    path = tmp_path / "instructions.jsonl"
    rows = [("Ada Quill", True, "train"), ("Bruno Vell", False, "train"), ("Carla Miro", True, "test"),
            ("Dmitri Sol", False, "test"), ("Elena Fawn", False, "test")]
    path.write_text("".join(json.dumps({"id": f"i{k}", "prompt": f"Tell me about {t}.", "topic": t, "split": s,
                                        "fact_seeking": fs, "kind": "x"}) + "\n"
                            for k, (t, fs, s) in enumerate(rows)))
    return path


def flame_like(tmp_path: Path) -> Path:
    text = fake_recipe_text(n=2)
    text = text.replace('component = "fake/prompts"\nargs = { n_train = 4, n_test = 2 }',
                        f'component = "core/jsonl"\nargs = {{ path = "{instructions(tmp_path)}", '
                        'meta_fields = ["fact_seeking", "nope"] }')
    text = text.replace('[evaluate]\nsplit = "test"', '[evaluate]\nsplit = "test"\nn = 2\ngroup_by = "fact_seeking"\n'
                        'reward = { component = "fake/reward", args = { name = "quality" } }')
    recipe = tmp_path / "r.toml"
    recipe.write_text(text)
    return recipe


def test_meta_fields_reach_the_prompts_and_evaluate_groups_by_them(fake_registry, tmp_path):
    res = Pipeline(load_recipe(flame_like(tmp_path)), tmp_path / "run").run()
    prompts = {p.id: p for p in res["data"].records}
    # the named fields (and the file's line, for error messages), never the unlisted "kind"
    assert prompts["i0"].meta == {"fact_seeking": True, "line": 1}
    assert prompts["i1"].meta == {"fact_seeking": False, "line": 2}
    ev = res["evaluate"]
    assert set(ev.manifest["chains"]["after"]) == {"generate", "extract", "retrieve", "verify", "reward"}
    s = ev.manifest["summary"]
    assert s["group_by"] == "fact_seeking" and set(s["groups"]) == {"true", "false"}
    assert s["groups"]["true"]["variants"]["before"]["n_responses"] == 2   # 1 fact-seeking prompt x 2
    assert s["groups"]["false"]["variants"]["after"]["n_responses"] == 4   # 2 others x 2
    assert set(s["win_rate"]) == {"quality"} and s["win_rate"]["quality"]["n_prompts"] == 3
    rows = [r for r in ev.records if r["variant"] == "after"]
    assert all(set(r["rewards"]) == {"quality"} and r["group"] in ("true", "false") for r in rows)
    from facttune_core.report.html import evaluation_tables

    tables = evaluation_tables(s)
    assert [t.title for t in tables] == ["held-out evaluation (before → after tuning)",
                                         "held out, fact_seeking = false (before → after tuning)",
                                         "held out, fact_seeking = true (before → after tuning)"]


def test_compare_keeps_one_group_of_a_grouped_run(fake_registry, tmp_path):
    """`facttune compare --group true`: FLAME's row over the fact-seeking instructions only."""
    from facttune_core import DataError
    from facttune_core.report.compare import compare

    Pipeline(load_recipe(flame_like(tmp_path)), tmp_path / "run").run()
    c = compare([tmp_path / "run"], group="true")
    assert [a.summary["responses"] for a in c.arms] == [2, 2]  # 1 fact-seeking held-out prompt x 2
    assert all(r["group"] == "true" for a in c.arms for r in a.rows) and "rows of group 'true' only" in c.notes
    assert [a.summary["responses"] for a in compare([tmp_path / "run"], group="false").arms] == [4, 4]
    assert sum(a.summary["responses"] for a in compare([tmp_path / "run"]).arms) == 12
    with pytest.raises(DataError, match=r"no rows of group 'yes' \(groups here: false, true\)"):
        compare([tmp_path / "run"], group="yes")


def test_a_run_folder_stands_for_its_trained_adapter(fake_registry, fake_recipe, tmp_path):
    run = tmp_path / "sft"
    with pytest.raises(ConfigError, match="no trained adapter yet"):
        Pipeline(load_recipe(fake_recipe), run, until="pairs").run()
        trained_adapter(run, key="generate.args.adapter")
    res = Pipeline(load_recipe(fake_recipe), run).run()
    want = (res["train"].dir / res["train"].manifest["adapter_dir"]).resolve()
    assert trained_adapter(run) == want
    plain = tmp_path / "lora"
    assert trained_adapter(plain) == plain  # anything else is taken as it is
    # hf generators and trl trainers resolve it when the recipe is validated
    from facttune_hf.generate import HFGenerate as Generate
    from facttune_trl.config import ModelConfig

    assert Generate.Config.model_validate({"adapter": str(run)}).adapter == str(want)
    assert Generate.Config.model_validate({"adapter": ""}).adapter == ""
    assert ModelConfig.model_validate({"init_adapter": str(run)}).init_adapter == str(want)
    assert ModelConfig.model_validate({"init_adapter": "rel/lora"}).init_adapter == str(Path("rel/lora").resolve())
    with pytest.raises(ValueError, match="no trained adapter yet"):
        (tmp_path / "empty").mkdir()
        (tmp_path / "empty" / "run.json").write_text(json.dumps({"stages": {}}))
        ModelConfig.model_validate({"init_adapter": str(tmp_path / "empty")})


def test_init_adapter_that_is_not_an_adapter_is_one_line(tmp_path):
    from facttune_trl.components import init_adapter_hash

    with pytest.raises(ConfigError, match="not a LoRA adapter") as e:
        init_adapter_hash(str(tmp_path), "train.model.init_adapter")
    assert "\n" not in str(e.value) and e.value.key == "train.model.init_adapter"
    (tmp_path / "adapter_config.json").write_text("{}")
    (tmp_path / "adapter_model.safetensors").write_bytes(b"w")
    a = init_adapter_hash(str(tmp_path), "k")
    (tmp_path / "adapter_model.safetensors").write_bytes(b"v")
    assert init_adapter_hash(str(tmp_path), "k") != a


def test_dpo_continues_an_sft_adapter_with_it_as_the_reference(tmp_path):
    """FLAME's DPO starts from the SFT model: trl/dpo with init_adapter continues that adapter, and its
    reference is the SFT model (a frozen copy), so at the first step policy and reference agree."""
    from _trl_tiny import make_tiny_model, tiny_pairs, tiny_sft
    from facttune_trl import DPOTrainerComponent, SFTTrainerComponent
    from facttune_trl.logprobs import pair_margins

    from facttune_core import Context, TrainData

    model = make_tiny_model(tmp_path / "chat")
    small = {"learning_rate": 1e-2, "per_device_train_batch_size": 4, "max_length": 64, "logging_steps": 1}
    sft_cfg = SFTTrainerComponent.Config.model_validate(
        {"args": {**small, "max_steps": 3}, "model": {"name": str(model), "lora_r": 8, "lora_dropout": 0.0}})
    sft = SFTTrainerComponent(sft_cfg, Context(key="train")).train(TrainData(sft=tiny_sft(8)), tmp_path / "sft")
    pairs = tiny_pairs(8)
    dpo_cfg = DPOTrainerComponent.Config.model_validate(
        {"args": {**small, "max_steps": 2, "beta": 0.1}, "model": {"name": str(model), "init_adapter": str(sft.adapter_dir)}})
    res = DPOTrainerComponent(dpo_cfg, Context(key="train")).train(TrainData(pairs=pairs), tmp_path / "dpo")
    first = res.log[0]
    assert abs(first["rewards/chosen"]) < 1e-5 and abs(first["rewards/rejected"]) < 1e-5, first
    sft_m, dpo_m = pair_margins(model, sft.adapter_dir, pairs), pair_margins(model, res.adapter_dir, pairs)
    assert sft_m["base"] == pytest.approx(dpo_m["base"])
    assert sum(dpo_m["tuned"]) > sum(sft_m["tuned"]) + 0.05  # DPO moved the SFT model the pairs' way
    assert json.loads((res.adapter_dir / "adapter_config.json").read_text())["r"] == 8  # the SFT adapter's own

"""FActScore's human-labelled format: reading, human FActScore, pairs, the CLI and the recipe.

The fixture (tests/fixtures/factscore_labeled) is made up in that format; the real files are only
used, when present, to check the paper's numbers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import typer
from facttune_rewards import register_commands
from facttune_rewards.labeled import labeled_pairs, load_labeled, read_labeled, summarize_file
from typer.testing import CliRunner

from facttune_core import Context, DataError, FacttuneError, PromptSource, build_component

FIX = Path(__file__).parent / "fixtures" / "factscore_labeled"
FILES = [FIX / f"Model{x}.jsonl" for x in "ABC"]
REAL = Path(os.environ.get("FACTSCORE_LABELED_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"
                           / "factscore-labeled"))
REAL_FILES = [REAL / f"{m}.jsonl" for m in ("InstructGPT", "ChatGPT", "PerplexityAI")]
needs_real = pytest.mark.skipif(not all(p.exists() for p in REAL_FILES), reason="FActScore labelled data not here")


def test_read_human_facts_ir_and_not_relevant_sentences():
    ada, bruno, carla = read_labeled(FILES[0])
    assert [f.label for f in ada.facts] == ["S", "S", "NS", "IR", "IR", "IR"]  # 2 model facts of an irrelevant sentence
    assert ada.facts[4].text == "She liked tea." and ada.facts[4].sentence_index == 1
    assert bruno.facts is None  # abstained
    assert [f.label for f in carla.facts] == ["S", "S", "S", "NS"]
    model = read_labeled(FILES[0], "model")
    assert [len(r.facts or ()) for r in model] == [4, 0, 2] and model[0].facts[0].label is None


def test_summary_hand_computed():
    a, b, c = (summarize_file(f) for f in FILES)
    assert (a["responses"], a["responded"]) == (3, 2) and a["response_rate"] == pytest.approx(200 / 3)
    assert a["factscore"] == pytest.approx(100 * (1 / 3 + 3 / 4) / 2)  # 54.17
    assert b["factscore"] == pytest.approx(100 * (0.5 + 1 + 1) / 3) and b["response_rate"] == 100.0
    assert c["factscore"] == pytest.approx(100 * (0.5 + 1 / 3) / 2) and c["responded"] == 2
    assert a["claims_per_response"] == pytest.approx((6 + 4) / 2)


def test_bundle_one_prompt_per_topic_one_response_per_file():
    bundle = load_labeled(FILES)
    assert [p.id for p in bundle.prompts] == ["ada-quill", "bruno-vell", "carla-miro"]
    assert bundle.prompts[0].text == "Question: Tell me a bio of Ada Quill." and bundle.prompts[0].topic == "Ada Quill"
    assert len(bundle.responses) == 9
    r = next(r for r in bundle.responses if r.id == "carla-miro/r1")
    assert (r.sample, r.model, r.text) == (1, "ModelB", "Carla Miro is a painter from Oslo.")
    assert len(bundle.claims) == len(bundle.verdicts) == 6 + 4 + 2 + 2 + 1 + 4 + 3
    v = {v.claim_id: v for v in bundle.verdicts}
    assert v["ada-quill/r0/c3"].label == "IR" and v["ada-quill/r0/c3"].supported is False
    assert not [c for c in bundle.claims if c.response_id == "bruno-vell/r0"]
    model = load_labeled(FILES, claims="model")
    assert model.verdicts is None and len(model.claims) == (4 + 2) + (1 + 2 + 1) + (1 + 1)


def test_labeled_pairs_counted():
    sel = labeled_pairs(FILES)
    assert sorted((p.chosen_id, p.rejected_id) for p in sel.pairs) == [
        ("ada-quill/r1", "ada-quill/r0"), ("ada-quill/r1", "ada-quill/r2"),
        ("bruno-vell/r1", "bruno-vell/r2"), ("carla-miro/r0", "carla-miro/r1")]
    assert sel.counts["pairs"] == 4 and sel.counts["dropped_ties"] == 1 and sel.counts["skipped_no_reward"] == 2
    assert labeled_pairs(FILES, min_margin=0.5).counts["pairs"] == 2  # 2/3 and 0.5: only > 0.5 kept


def test_prompt_source_resolves_paths_relative_to_the_recipe(fake_registry, tmp_path):
    ctx = Context(recipe_path=FIX / "recipe.toml")
    src = build_component(PromptSource, "rewards/factscore-labeled",
                          {"paths": ["ModelA.jsonl", "ModelB.jsonl"], "limit": 2}, ctx)
    bundle = src.load()
    assert [p.id for p in bundle.prompts] == ["ada-quill", "bruno-vell"] and len(bundle.responses) == 4


@pytest.mark.parametrize("line,match", [
    ('{"topic": "X", "output": "o", "annotations": [{"text": "s", "is-relevant": true, '
     '"human-atomic-facts": [{"text": "f", "label": "YES"}]}]}', "label 'YES'"),
    ('{"topic": "X", "output": "o", "annotations": "none"}', "list or null"),
    ('{"output": "o", "annotations": null}', "missing 'topic'"),
    ("{not json", "not valid JSON"),
])
def test_bad_lines_name_file_and_line(tmp_path, line, match):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"topic": "Ok", "output": "o", "annotations": null}\n' + line + "\n")
    with pytest.raises(DataError, match=match) as err:
        read_labeled(p)
    assert err.value.key == "line 2" and str(p) in str(err.value)


def test_missing_file_and_duplicate_topic(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_labeled(tmp_path / "nope.jsonl")
    p = tmp_path / "dup.jsonl"
    p.write_text('{"topic": "X", "output": "o", "annotations": null}\n' * 2)
    with pytest.raises(DataError, match="appears twice"):
        load_labeled([p])


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None: ...

    register_commands(app)
    return app


def test_cli_table_and_json():
    runner = CliRunner()
    res = runner.invoke(_cli(), ["labeled", *map(str, FILES)])
    assert res.exit_code == 0, res.output
    assert "54.2" in res.output and "83.3" in res.output and "41.7" in res.output and "66.7" in res.output
    res = runner.invoke(_cli(), ["labeled", str(FILES[1]), "--json"])
    [row] = json.loads(res.output)
    assert row["model"] == "ModelB" and row["factscore"] == pytest.approx(250 / 3)
    res = runner.invoke(_cli(), ["labeled", "nope.jsonl"])
    assert res.exit_code == 1 and "file not found" in res.output and "Traceback" not in res.output


def test_recipe_builds_and_counts_pairs(fake_registry, tmp_path):
    from facttune_core import Pipeline, load_recipe

    recipe = tmp_path / "labeled.toml"
    paths = ", ".join(f'"{os.path.relpath(f, tmp_path)}"' for f in FILES)
    recipe.write_text(f"""
[run]
name = "labeled"
[data]
component = "rewards/factscore-labeled"
args = {{ paths = [{paths}] }}
[reward]
component = "rewards/factscore"
args = {{ gamma = 0 }}
[pairs]
mode = "all_pairs"
reward = "factscore"
""")
    res = Pipeline(load_recipe(recipe), tmp_path / "run").run()
    assert list(res) == ["data", "reward", "pairs"]
    assert res["pairs"].counts["pairs"] == 4 and len(res["pairs"].records) == 4
    assert res["reward"].counts["abstentions"] == 1 and res["reward"].counts["empty_responses"] == 1
    recipe.write_text(recipe.read_text().replace("ModelA.jsonl", "ModelZ.jsonl"))
    with pytest.raises(FacttuneError, match="data.args.paths.*file not found"):
        load_recipe(recipe)


@needs_real
def test_paper_numbers_on_the_real_labelled_files():
    rows = [summarize_file(p) for p in REAL_FILES]
    assert [round(r["factscore"], 1) for r in rows] == [42.6, 58.3, 71.6]  # paper: 42.5 / 58.3 / 71.5
    assert [round(r["response_rate"], 1) for r in rows] == [99.5, 85.8, 90.7]
    assert labeled_pairs(REAL_FILES).counts["pairs"] == 455


@needs_real
def test_shipped_recipe_validates(fake_registry):
    from facttune_core import load_recipe

    r = load_recipe(Path(__file__).resolve().parents[1] / "recipes" / "factscore-labeled.toml")
    assert r.stages() == ["data", "reward", "pairs"]

"""Every shipped recipe validates (CI has no GPU or hub: validation loads no model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facttune_core import Pipeline, load_recipe

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted([*(ROOT / "recipes").glob("*.toml"), *(ROOT / "recipes" / "paper").glob("*.toml")])
LABELED = ROOT.parent / "shared" / "data" / "factscore-labeled"


def test_there_are_recipes():
    names = {p.name for p in RECIPES}
    assert {"bio.toml", "bio-llama2-7b.toml", "bio-openai-judge.toml", "flame.toml", "beliefs.toml",
            "confidence.toml"} <= names


@pytest.mark.parametrize("path", RECIPES, ids=[p.name for p in RECIPES])
def test_recipe_validates(path):
    if path.name == "factscore-labeled.toml" and not LABELED.exists():
        pytest.skip("FActScore's labelled data is not beside this checkout")
    r = load_recipe(path)
    assert r.stages()[0] == "data"


def test_bio_recipe_is_the_full_facttune_loop():
    r = load_recipe(ROOT / "recipes" / "bio.toml")
    assert r.stages() == ["data", "generate", "extract", "retrieve", "verify", "reward", "pairs", "train", "evaluate"]
    assert r.specs["train"].name == "trl/dpo" and r.configs["train"].model.load_in_4bit


@pytest.mark.skipif(not LABELED.exists(), reason="FActScore's labelled data is not beside this checkout")
def test_labeled_recipe_builds_and_counts_pairs(tmp_path, monkeypatch):
    monkeypatch.setenv("FACTTUNE_CACHE_DIR", str(tmp_path / "cache"))
    res = Pipeline(load_recipe(ROOT / "recipes" / "factscore-labeled.toml"), tmp_path / "run").run()
    assert "generate" not in res and "verify" not in res  # the data provides responses, claims, verdicts
    pairs = res["pairs"].records
    counts = res["pairs"].counts
    assert counts["prompts"] == 183
    assert counts["pairs"] == len(pairs) == counts["pairs_factscore"]
    assert 0 < len(pairs) <= 183 * 3
    assert all(p.chosen_reward > p.rejected_reward for p in pairs)
    manifest = json.loads((res["pairs"].dir / "manifest.json").read_text())
    assert manifest["counts"]["pairs"] == len(pairs)

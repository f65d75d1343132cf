"""Recipes are validated whole, before anything heavy loads; each problem is one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from facttune_core import load_recipe
from facttune_core.contract.errors import ProblemList
from facttune_core.run.recipe import parse_value
from facttune_core.testing import fake_recipe_text


def _problems(path, overrides=None) -> list[str]:
    with pytest.raises(ProblemList) as err:
        load_recipe(path, overrides or [])
    return [p.render() for p in err.value.problems]


def test_valid_fake_recipe(fake_registry, fake_recipe):
    r = load_recipe(fake_recipe)
    assert r.stages() == ["data", "generate", "extract", "retrieve", "verify", "reward", "pairs", "train", "evaluate"]
    assert r.specs["verify"].name == "fake/verifier"


def test_typos_are_reported_with_file_key_and_suggestion(fake_registry, tmp_path):
    text = fake_recipe_text().replace("[verify]", "[verfy]")
    text = text.replace('component = "fake/retriever"', 'component = "fake/retriever"\nargs = { kk = 3 }')
    text = text.replace('component = "fake/reward"', 'component = "fake/rewrd"')
    p = tmp_path / "typo.toml"
    p.write_text(text)
    lines = _problems(p)
    assert f"{p}: verfy: unknown table. Did you mean 'verify'?" in lines[0]
    assert any(line.startswith(f"{p}: retrieve.args.kk: unknown key. Did you mean 'k'?") for line in lines)
    assert any(f"{p}: reward.component: unknown reward combiner 'fake/rewrd'. Did you mean 'fake/reward'?" in line
               for line in lines)
    assert all("\n" not in line for line in lines)


def test_wrong_type_and_missing_keys(fake_registry, tmp_path):
    p = tmp_path / "r.toml"
    p.write_text(fake_recipe_text(n="\"two\""))
    lines = _problems(p)
    assert any(line.startswith(f"{p}: generate.args.n:") and "'two'" in line for line in lines)
    p.write_text("[data]\nargs = {}\n")
    assert any("data.component: required key is missing" in line for line in _problems(p))


def test_missing_file_is_named(fake_registry, tmp_path):
    p = tmp_path / "r.toml"
    p.write_text('[data]\ncomponent = "core/jsonl"\nargs = { path = "nope.jsonl" }\n')
    lines = _problems(p)
    assert len(lines) == 1 and lines[0].startswith(f"{p}: data.args.path: file not found")


def test_set_overrides_any_key(fake_registry, fake_recipe):
    r = load_recipe(fake_recipe, ["verify.args.batch_size=7", "pairs.min_margin=0.25", "run.name=other"])
    assert r.configs["verify"].batch_size == 7
    assert r.recipe.pairs.min_margin == 0.25
    assert r.recipe.run.name == "other"
    lines = _problems(fake_recipe, ["verify.args.batch_sise=7"])
    assert "verify.args.batch_sise: unknown key. Did you mean 'batch_size'?" in lines[0]


def test_parse_value():
    assert parse_value("3") == 3 and parse_value("0.5") == 0.5 and parse_value("true") is True
    assert parse_value("[1, 2]") == [1, 2] and parse_value("hello world") == "hello world"
    assert parse_value('"quoted"') == "quoted"


def test_cross_stage_rules(fake_registry, tmp_path):
    p = tmp_path / "r.toml"
    p.write_text(fake_recipe_text().replace("[pairs]\nmode = \"all_pairs\"\nreward = \"factscore\"\n", ""))
    assert any("train: train needs a [pairs] table" in line for line in _problems(p))


def test_validate_cli_exit_codes(tmp_path):
    p = tmp_path / "r.toml"
    p.write_text(fake_recipe_text().replace("[verify]", "[verfy]"))
    env_cmd = [sys.executable, "-m", "facttune_core.cli", "validate", str(p)]
    import os

    env = {**os.environ, "FACTTUNE_PLUGINS": "facttune_core.testing"}
    bad = subprocess.run(env_cmd, capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2
    assert "verfy: unknown table. Did you mean 'verify'?" in bad.stderr
    assert "Traceback" not in bad.stderr
    p.write_text(fake_recipe_text())
    ok = subprocess.run(env_cmd, capture_output=True, text=True, env=env, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "fake/verifier" in ok.stdout and "recipe is valid" in ok.stdout

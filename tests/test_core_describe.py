"""`facttune describe`: every component's args from its Config, and docs/components.md in sync."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from facttune_core import RewardCombiner, Trainer, testing
from facttune_core.cli.main import app
from facttune_core.report.describe import bundled_docs, bundled_registry, describe_spec, reference_page

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_describe_shows_each_arg_with_type_default_and_description(fake_registry):
    out = runner.invoke(app, ["describe", "core/jsonl"], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "core/jsonl  (prompt source, recipe table [data], plugin core" in out.output
    row = next(line for line in out.output.splitlines() if "responses " in line)
    assert "path (must exist; relative to the recipe's folder) | None" in row and "(none)" in row
    assert "prompt_id, text" in out.output  # the given responses' format is documented
    assert "its data can provide: responses" in out.output


def test_describe_json_marks_runtime_and_required_args(fake_registry):
    out = runner.invoke(app, ["describe", "fake/verifier", "core/jsonl", "--json"])
    data = {d["name"]: d for d in json.loads(out.output)}
    opts = {o["key"]: o for o in data["fake/verifier"]["options"]}
    assert opts["batch_size"] == {"key": "batch_size", "type": "int (≥ 1)", "default": 4, "required": False,
                                  "description": "items per model call", "runtime": True}
    assert data["fake/verifier"]["kind"] == "claim_verifier" and data["fake/verifier"]["table"] == "verify"
    assert data["fake/verifier"]["file"] == testing.__file__  # which copy of the plugin is imported
    path = next(o for o in data["core/jsonl"]["options"] if o["key"] == "path")
    assert path["required"] is True and path["default"] is None


def test_describe_a_plugin_lists_its_components_and_unknown_names_suggest(fake_registry):
    out = runner.invoke(app, ["describe", "fake", "--json"])
    assert {d["name"] for d in json.loads(out.output)} == {"fake/prompts", "fake/generator", "fake/retriever",
                                                          "fake/verifier", "fake/reward", "fake/trainer"}
    bad = runner.invoke(app, ["describe", "fake/verifer"])
    assert bad.exit_code == 2
    assert "unknown component or plugin 'fake/verifer'. Did you mean 'fake/verifier'?" in bad.output
    listing = runner.invoke(app, ["describe"], env={"COLUMNS": "200"})
    assert "fake/verifier" in listing.output and "core/sentences" in listing.output


def test_nested_tables_and_default_factories_are_expanded(fake_registry):
    dpo = describe_spec(fake_registry.get(Trainer, "trl/dpo"))
    keys = {o.key: o for o in dpo.options}
    assert keys["model"].type == "table" and keys["model.lora_r"].default == 16
    aq = {o.key: o for o in describe_spec(fake_registry.get(RewardCombiner, "rewards/aq")).options}
    assert aq["question_generator.component"].required  # the recipe names its question generator
    assert aq["answer_generator.component"].required  # no default: the recipe must name the policy
    assert describe_spec(fake_registry.get(RewardCombiner, "rewards/factscore")).needs == ("verdicts",)


def test_every_bundled_component_is_documented_and_the_page_is_current():
    reg = bundled_registry()
    docs = bundled_docs(reg)
    assert {d.plugin for d in docs} >= {"core", "hf", "retrieval", "openai", "anthropic", "rewards", "trl"}
    assert all(d.summary for d in docs), [d.name for d in docs if not d.summary]
    page = (ROOT / "docs" / "components.md").read_text(encoding="utf-8")
    assert page == reference_page(reg), "docs/components.md is out of date: python -m facttune_core.report.describe --write docs/components.md"
    for d in docs:
        assert f"### `{d.name}`" in page

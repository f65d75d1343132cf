"""A plugin whose extra is not installed: listed as unavailable with the line that installs it, and
one error line when a recipe or a test uses it. The distribution's metadata says what each extra needs."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from facttune_core import ComponentError, import_extra
from facttune_core.cli.main import app
from facttune_core.contract import extras
from facttune_core.testing import fake_recipe_text, make_component

runner = CliRunner()


def test_every_bundled_plugin_names_its_extra_and_all_installs_them():
    reqs = extras.extra_requirements("facttune")
    for plugin in ("hf", "trl", "openai", "anthropic", "spacy", "retrieval", "judges"):
        assert reqs.get(plugin), plugin
    assert "torch" in reqs["hf"] and "torch" not in reqs["retrieval"]  # BM25 over JSONL needs no torch
    assert reqs["test"][0] == "facttune"  # [test] includes [all]


@pytest.fixture
def hf_missing(fake_registry, monkeypatch):
    """facttune[hf] and facttune[dense] as if their packages were not installed."""
    real = extras.extra_requirements("facttune")
    fake = {**real, "hf": ("not-installed-xyz", *real["hf"]), "dense": ("not-installed-xyz",)}
    monkeypatch.setattr(extras, "extra_requirements", lambda dist: fake if dist == "facttune" else {})
    return fake


def test_plugins_lists_an_unavailable_plugin_with_the_line_that_installs_it(hf_missing):
    out = runner.invoke(app, ["plugins", "--json"])
    assert out.exit_code == 0, out.output
    by = {e["name"]: e for e in json.loads(out.output)}
    assert by["hf"]["available"] is False
    assert by["hf"]["unavailable"] == ("needs facttune[hf] (not installed: not-installed-xyz): "
                                       "pip install 'facttune[hf]'")
    assert by["core"]["available"] and by["retrieval"]["available"] and by["openai"]["available"]
    # a component that needs more than its plugin's extra is named on its own
    assert by["retrieval"]["unavailable_components"] == {
        "retrieval/dense": "needs facttune[dense] (not installed: not-installed-xyz): pip install 'facttune[dense]'"}
    table = runner.invoke(app, ["plugins"], env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "unavailable: needs facttune[hf]" in table.output


def test_a_recipe_using_it_is_one_line_naming_the_extra(hf_missing, tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text(fake_recipe_text().replace('component = "fake/generator"', 'component = "hf/generate"'))
    out = runner.invoke(app, ["validate", str(recipe)])
    assert out.exit_code != 0
    assert out.output.strip().splitlines() == [
        f"{recipe}: generate.component: hf/generate needs facttune[hf] (not installed: not-installed-xyz): "
        "pip install 'facttune[hf]'"]
    with pytest.raises(ComponentError, match=r"retrieval/dense needs facttune\[dense\]"):
        make_component("retrieval/dense", {"source": "x.jsonl"})


def test_import_extra_names_the_extra():
    assert import_extra("json", "x").dumps([1]) == "[1]"
    with pytest.raises(ComponentError) as e:
        import_extra("not_a_module_xyz", "datasets")
    assert str(e.value) == "this needs the module 'not_a_module_xyz': pip install 'facttune[datasets]'"

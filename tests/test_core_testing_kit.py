"""The documented testing kit for plugin authors (facttune_core.testing) and the example plugin's tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from facttune_core import Claim, hookimpl, testing
from facttune_core.contract import plugins
from facttune_core.contract.errors import FacttuneError, UnknownComponentError
from facttune_core.run.recipe import tomllib
from facttune_core.testing import FakeVerifier, fake_recipe_text, make_component, run_recipe

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "example_plugin"


def test_make_component_finds_the_kind_and_validates_args_like_a_recipe(fake_registry):
    v = make_component("fake/verifier", {"batch_size": 2})
    claims = [Claim(id="c", response_id="r", prompt_id="p", text="Ada Quill was born in Lisbon.", topic="Ada Quill")]
    [verdict] = v.verify(claims, [None])
    assert verdict.supported is True  # a true fact of the fake world, judged without evidence
    with pytest.raises(FacttuneError, match=r"^verify\.args\.batch_sise: unknown key\. Did you mean 'batch_size'\?"):
        make_component("fake/verifier", {"batch_sise": 2})
    with pytest.raises(UnknownComponentError, match=r"unknown component 'fake/verifer'\. Did you mean 'fake/verifier'\?"):
        make_component("fake/verifer")


def test_make_component_resolves_paths_against_recipe_dir(fake_registry, tmp_path):
    (tmp_path / "p.jsonl").write_text('{"id": "a", "prompt": "Hi?"}\n')
    source = make_component("core/jsonl", {"path": "p.jsonl"}, recipe_dir=tmp_path)
    assert [p.id for p in source.load().prompts] == ["a"]
    with pytest.raises(FacttuneError, match=r"data\.args\.path: file not found"):
        make_component("core/jsonl", {"path": "p.jsonl"}, recipe_dir=tmp_path / "elsewhere")


def test_make_component_asks_for_the_kind_when_a_name_is_ambiguous(fake_registry):
    mod = types.ModuleType("twice")
    mod.PLUGIN_NAME = "twice"

    @hookimpl
    def register_claim_verifiers(register):
        register("x", FakeVerifier)

    @hookimpl
    def register_evidence_retrievers(register):
        register("x", testing.FakeRetriever)

    mod.register_claim_verifiers = register_claim_verifiers
    mod.register_evidence_retrievers = register_evidence_retrievers
    plugins.reset_plugin_manager(plugins.make_plugin_manager(extra=[testing, mod]))
    with pytest.raises(FacttuneError, match="several kinds .*pass kind="):
        make_component("twice/x")
    assert isinstance(make_component("twice/x", kind="evidence_retriever"), testing.FakeRetriever)


def test_run_recipe_runs_text_in_process_with_a_private_cache(fake_registry, tmp_path):
    recipe = fake_recipe_text(verify_args={"batch_size": 2, "calls_log": str(tmp_path / "calls.log")})
    assert 'args = { batch_size = 2, calls_log = "' in recipe
    res = run_recipe(recipe, tmp_path / "run", until="reward")
    assert list(res)[-1] == "reward" and res["verify"].status == "ran"
    assert (tmp_path / "run.toml").read_text() == recipe
    assert (tmp_path / "run" / "calls.sqlite").exists()
    again = run_recipe(tmp_path / "run.toml", tmp_path / "run", until="reward")
    assert {r.status for r in again.values()} == {"done"}
    swapped = run_recipe(recipe, tmp_path / "run", until="verify", overrides=["verify.args.batch_size=3"])
    assert swapped["verify"].status == "done"  # batch_size is a runtime field: same stage key


def test_fake_recipe_text_swaps_components_and_drops_retrieve():
    text = fake_recipe_text(verify="my/verifier", retrieve=None, extract="my/claims", reward="my/reward")
    data = tomllib.loads(text)
    assert data["verify"]["component"] == "my/verifier" and "retrieve" not in data
    assert data["extract"]["component"] == "my/claims" and data["reward"]["component"] == "my/reward"
    with_args = tomllib.loads(fake_recipe_text(retrieve_args={"k": 2}))
    assert with_args["retrieve"] == {"component": "fake/retriever", "args": {"k": 2}}


def test_the_example_plugins_own_tests_pass():
    """tests/example_plugin/tests is what docs/writing-a-plugin.md tells a plugin author to copy."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(EXAMPLE), *sys.path]),
           "FACTTUNE_PLUGINS": "facttune_drugcheck"}  # found even where the example is not pip-installed
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=EXAMPLE,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert re.search(r"\b6 passed", out.stdout), out.stdout

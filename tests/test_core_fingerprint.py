"""Stage keys notice code changes in plugins under development (editable / not installed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from facttune_core import ClaimExtractor, ClaimVerifier, testing
from facttune_core.contract import plugins
from facttune_core.contract.registry import get_registry
from facttune_core.run.fingerprint import _under_development, code_fingerprint, component_version
from facttune_core.testing import fake_recipe_text, run_recipe

PLUGIN = '''
from facttune_core import Verdict, hookimpl

from .rule import supported


class Rule:
    """Supported iff the rule says so."""

    def __init__(self, config, ctx):
        pass

    def verify(self, claims, evidence):
        return [Verdict(claim_id=c.id, supported=supported(c.text), raw="rule") for c in claims]


@hookimpl
def register_claim_verifiers(register):
    register("rule", Rule)
'''


def make_plugin(root: Path, rule: str = "return 'Lisbon' in text") -> Path:
    pkg = root / "devrule"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text(PLUGIN)
    (pkg / "rule.py").write_text(f"def supported(text):\n    {rule}\n")
    return pkg


@pytest.fixture
def dev_plugin(fake_registry, tmp_path, monkeypatch):
    pkg = make_plugin(tmp_path / "src")
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    monkeypatch.setenv("FACTTUNE_PLUGINS", "devrule")
    plugins.reset_plugin_manager(plugins.make_plugin_manager(extra=[testing]))
    yield pkg
    plugins.reset_plugin_manager(None)
    for name in [m for m in sys.modules if m == "devrule" or m.startswith("devrule.")]:
        del sys.modules[name]


def test_a_plugin_that_is_not_installed_is_fingerprinted(dev_plugin):
    spec = get_registry().get(ClaimVerifier, "devrule/rule")
    version = component_version(spec)
    assert version.startswith(f"{spec.version}+src.")
    assert component_version(spec) == version  # stable while the code is
    (dev_plugin / "rule.py").write_text("def supported(text):\n    return True\n")  # any file of the package
    assert component_version(spec) != version


def test_a_code_change_recomputes_the_stage_and_only_from_there(dev_plugin, tmp_path):
    recipe = fake_recipe_text(verify="devrule/rule")
    first = run_recipe(recipe, tmp_path / "run", until="verify")
    (dev_plugin / "rule.py").write_text("def supported(text):\n    return 'Oslo' in text\n")
    second = run_recipe(recipe, tmp_path / "run", until="verify")
    assert {s: r.status for s, r in second.items()} == {
        "data": "done", "generate": "done", "extract": "done", "retrieve": "done", "verify": "ran"}
    assert second["verify"].key != first["verify"].key
    assert second["verify"].manifest["version"].startswith("0+src.")


def test_a_regular_install_is_keyed_by_its_version_only(tmp_path):
    site = tmp_path / "site-packages"
    (site / "plug").mkdir(parents=True)
    (site / "plug" / "__init__.py").write_text("")
    mod = ModuleType("plug")
    mod.__file__ = str(site / "plug" / "__init__.py")

    class Dist:
        def __init__(self, direct_url: dict | None) -> None:
            self.direct_url = direct_url

        def read_text(self, name: str) -> str | None:
            return json.dumps(self.direct_url) if name == "direct_url.json" and self.direct_url else None

        def locate_file(self, path: str) -> Path:
            return site / path

    assert not _under_development(Dist(None), mod)  # from an index
    assert not _under_development(Dist({"url": "file:///x", "dir_info": {}}), mod)  # `pip install ./x`
    assert _under_development(Dist({"url": "file:///x", "dir_info": {"editable": True}}), mod)  # `pip install -e`
    mod.__file__ = str(tmp_path / "checkout" / "plug" / "__init__.py")  # shadowed by a source checkout
    assert _under_development(Dist(None), mod)


def test_core_components_hash_their_own_plugin_not_the_whole_core(fake_registry):
    spec = get_registry().get(ClaimExtractor, "core/sentences")
    from facttune_core.run import fingerprint

    files = [name for name, _ in fingerprint._source_files(sys.modules["facttune_basic.components"])]
    assert files == ["__init__.py", "components.py"]
    assert code_fingerprint(spec) is not None


def test_editing_a_plugin_and_rerunning_with_the_cli_gives_new_verdicts(tmp_path):
    """The issue's case, end to end: a fixed verifier must not rerun as `verify │ done`."""
    pkg = make_plugin(tmp_path / "src")
    recipe = tmp_path / "r.toml"
    recipe.write_text(fake_recipe_text(verify="devrule/rule"))
    env = {**os.environ, "FACTTUNE_PLUGINS": "facttune_core.testing,devrule",
           "FACTTUNE_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(tmp_path / "src"), *sys.path])}
    cmd = [sys.executable, "-m", "facttune_core.cli", "run", str(recipe), "--run-dir", str(tmp_path / "run"),
           "--until", "verify"]

    def verdicts() -> list[bool]:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        run = json.loads((tmp_path / "run" / "run.json").read_text())
        vdir = tmp_path / "run" / run["stages"]["verify"]["dir"]
        return [json.loads(x)["supported"] for x in (vdir / "records.jsonl").read_text().splitlines()]

    before = verdicts()
    (pkg / "rule.py").write_text(textwrap.dedent("""
        def supported(text):
            return 'Oslo' in text
    """))
    after = verdicts()
    assert any(before) and any(after) and before != after
    assert not any(b and a for b, a in zip(before, after, strict=True))  # no claim names both cities


# ---------------------------------------------------------------------------- the core's own code

PROMPT_JUDGE = '''
from facttune_core import Verdict, hookimpl, verify_prompt


class PromptJudge:
    """Supported iff the judge prompt mentions the claim (a stand-in for a model reading it)."""

    def __init__(self, config, ctx):
        pass

    def verify(self, claims, evidence):
        return [Verdict(claim_id=c.id, supported="Lisbon" in verify_prompt(c.text, c.topic, []),
                        raw=verify_prompt(c.text, c.topic, [])[:40]) for c in claims]


@hookimpl
def register_claim_verifiers(register):
    register("judge", PromptJudge)
'''


@pytest.fixture
def core_copy(fake_registry, tmp_path, monkeypatch):
    """A plugin whose verifier uses the core's judge prompt, and the stage keys reading the core's
    code from a copy of it (so the test edits the copy, never the checkout)."""
    import shutil

    from facttune_core.run import fingerprint

    pkg = tmp_path / "src" / "promptjudge"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(PROMPT_JUDGE)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    monkeypatch.setenv("FACTTUNE_PLUGINS", "promptjudge")
    plugins.reset_plugin_manager(plugins.make_plugin_manager(extra=[testing]))
    core = tmp_path / "core"
    shutil.copytree(fingerprint.CORE, core, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(fingerprint, "CORE", core)
    yield core
    plugins.reset_plugin_manager(None)
    sys.modules.pop("promptjudge", None)


def test_editing_the_core_judge_prompt_recomputes_verify_and_only_from_there(core_copy, tmp_path):
    recipe = fake_recipe_text(verify="promptjudge/judge")
    first = run_recipe(recipe, tmp_path / "run", until="reward")
    again = run_recipe(recipe, tmp_path / "run", until="reward")  # the same recipe: the same keys, all reused
    assert {s: (r.key, r.status) for s, r in again.items()} == {s: (r.key, "done") for s, r in first.items()}
    assert "scoring/prompts.py" in first["verify"].manifest["core_code"]

    prompts = core_copy / "scoring" / "prompts.py"
    src = prompts.read_text(encoding="utf-8")
    # a comment and a docstring are not code: the keys hold
    prompts.write_text(src.replace('    """Everything before the claim', '    # a note\n    """Everything, before the claim'))
    assert run_recipe(recipe, tmp_path / "run", until="reward")["verify"].key == first["verify"].key
    # the judge prompt's text is: verify and what follows it run again, the rest is reused
    assert "Answer True or False." in src
    prompts.write_text(src.replace("Answer True or False.", "Reply with True or False."))
    edited = run_recipe(recipe, tmp_path / "run", until="reward")
    assert {s: r.status for s, r in edited.items()} == {
        "data": "done", "generate": "done", "extract": "done", "retrieve": "done", "verify": "ran", "reward": "ran"}
    assert edited["verify"].key != first["verify"].key
    assert edited["extract"].key == first["extract"].key


def test_the_reward_stage_hashes_the_core_claim_join(core_copy, tmp_path):
    recipe = fake_recipe_text()
    first = run_recipe(recipe, tmp_path / "run", until="reward")
    assert "scoring/claim_scores.py" in first["reward"].manifest["core_code"]
    cs = core_copy / "scoring" / "claim_scores.py"
    cs.write_text(cs.read_text(encoding="utf-8") + "\n\nNEW_RULE = 1\n")
    second = run_recipe(recipe, tmp_path / "run", until="reward")
    assert second["verify"].key == first["verify"].key and second["reward"].key != first["reward"].key

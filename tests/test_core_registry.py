"""Registry, plugin discovery and the hook contract."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import time
import types

import pytest
from pydantic import BaseModel, ConfigDict

from facttune_core import (
    ClaimVerifier,
    ComponentError,
    Context,
    DuplicateComponentError,
    FacttuneError,
    UnknownComponentError,
    build_component,
    hookimpl,
)
from facttune_core.contract import plugins
from facttune_core.contract.registry import Registry


def _plugin(name: str, **hooks: object) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.PLUGIN_NAME = name  # type: ignore[attr-defined]
    for k, v in hooks.items():
        setattr(mod, k, v)
    return mod


class _Cfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    top_k: int = 5


class _Verifier:
    Config = _Cfg

    def __init__(self, config: _Cfg, ctx: object) -> None:
        self.config = config

    def verify(self, claims, evidence):
        return []


def test_unknown_component_suggests_and_lists(fake_registry):
    with pytest.raises(UnknownComponentError) as err:
        fake_registry.get(ClaimVerifier, "fake/verifer")
    msg = str(err.value)
    assert "unknown claim verifier 'fake/verifer'" in msg
    assert "Did you mean 'fake/verifier'?" in msg
    assert "Known:" in msg and "fake/verifier" in msg.split("Known:")[1]


def test_unknown_component_suggests_across_plugin_prefix(fake_registry):
    with pytest.raises(UnknownComponentError, match="Did you mean 'fake/verifier'"):
        fake_registry.get(ClaimVerifier, "verifier")


def test_duplicate_name_names_both_plugins():
    @hookimpl
    def register_claim_verifiers(register):
        register("label", _Verifier)

    a = _plugin("dup", register_claim_verifiers=register_claim_verifiers)

    @hookimpl
    def register_claim_verifiers_again(register):
        register("label", _Verifier)
        register("label", _Verifier)

    b = _plugin("dup2", register_claim_verifiers=register_claim_verifiers_again)
    pm = plugins.make_plugin_manager(extra=[a], entry_points=False)
    reg = Registry(pm)
    assert "dup/label" in reg.components["claim_verifier"]
    pm2 = plugins.make_plugin_manager(extra=[b], entry_points=False)
    with pytest.raises(DuplicateComponentError, match="registered twice: by plugin 'dup2'.*and by plugin 'dup2'"):
        Registry(pm2)


def test_misspelled_hook_implementation_is_an_error():
    @hookimpl
    def register_claim_verifier(register):  # missing the "s"
        register("x", _Verifier)

    bad = _plugin("typo", register_claim_verifier=register_claim_verifier)
    with pytest.raises(FacttuneError, match="plugin 'typo'.*'register_claim_verifier' is not a facttune hook. Did you "
                                            "mean 'register_claim_verifiers'"):
        plugins.make_plugin_manager(extra=[bad], entry_points=False)


def test_component_config_defaults_to_factory_Config(fake_registry):
    spec = fake_registry.get(ClaimVerifier, "fake/verifier")
    assert spec.plugin == "fake"
    assert "calls_log" in spec.config.model_fields
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        spec.config.model_validate({"nope": 1})


def test_a_component_must_follow_its_kinds_protocol():
    class NoVerify:
        Config = _Cfg

        def __init__(self, config: _Cfg, ctx: object) -> None:
            pass

    @hookimpl
    def register_claim_verifiers(register):
        register("broken", NoVerify)

    pm = plugins.make_plugin_manager(extra=[_plugin("bad", register_claim_verifiers=register_claim_verifiers)],
                                     entry_points=False)
    with pytest.raises(FacttuneError, match="claim verifier 'bad/broken': NoVerify is not a ClaimVerifier "
                                            r"\(it has no verify\)"):
        Registry(pm)


def test_a_factory_product_is_checked_when_built(fake_registry):
    @hookimpl
    def register_claim_verifiers(register):
        register("lazy", lambda config, ctx: object(), config=_Cfg)

    pm = plugins.make_plugin_manager(extra=[_plugin("odd", register_claim_verifiers=register_claim_verifiers)],
                                     entry_points=False)
    plugins.reset_plugin_manager(pm)
    with pytest.raises(ComponentError) as err:
        build_component(ClaimVerifier, "odd/lazy", {}, Context(), key="verify.args")
    assert str(err.value) == "verify.args: odd/lazy built a object, which is not a ClaimVerifier (it has no verify)"


def test_a_generator_config_subclasses_GeneratorConfig():
    class Gen:
        Config = _Cfg
        model_name = "x"

        def __init__(self, config: _Cfg, ctx: object) -> None:
            pass

        def generate(self, prompts, n=1, decoding=None):
            return []

    @hookimpl
    def register_generators(register):
        register("gen", Gen)

    pm = plugins.make_plugin_manager(extra=[_plugin("g", register_generators=register_generators)], entry_points=False)
    with pytest.raises(FacttuneError, match="generator 'g/gen': its config must subclass facttune_core.GeneratorConfig"):
        Registry(pm)


def test_plugins_json_lists_bundled_and_is_fast_without_torch():
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c",
                          "import sys; from facttune_core.cli import main; sys.argv=['facttune','plugins','--json'];"
                          "\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
                          "assert 'torch' not in sys.modules, 'torch imported'\n"
                          "assert 'transformers' not in sys.modules\nassert 'openai' not in sys.modules"],
                         capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - t0
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    names = {p["name"] for p in data}
    assert {"core", "hf", "retrieval", "openai", "anthropic", "rewards", "trl"} <= names
    core = next(p for p in data if p["name"] == "core")
    assert "core/sentences" in core["components"]["claim_extractor"]
    assert elapsed < 10  # the < 2 s target lives in bench/cli_startup.py; this test guards the torch import


def test_example_third_party_plugin_is_discovered():
    pytest.importorskip("facttune_drugcheck", reason="pip install tests/example_plugin (CI does)")
    out = subprocess.run([sys.executable, "-m", "facttune_core.cli", "plugins", "--json"], capture_output=True,
                         text=True, timeout=60)
    data = json.loads(out.stdout)
    drug = next(p for p in data if p["name"] == "drugcheck")
    assert drug["version"] == importlib.metadata.version("facttune-drugcheck")  # the distribution's version
    assert drug["components"] == {"claim_verifier": ["drugcheck/label"]}

"""One plugin implementing every hook; one ``test_hook_<name>`` per hook checks that its registration
reaches the registry / CLI (test_core_meta.py holds every hook spec to having such a test)."""

from __future__ import annotations

import types

import pytest
import typer
from facttune_basic import SentenceClaims
from typer.testing import CliRunner

from facttune_core import (
    ClaimExtractor,
    ClaimVerifier,
    EvidenceRetriever,
    Generator,
    PromptSource,
    RewardCombiner,
    Trainer,
    hookimpl,
    testing,
)
from facttune_core.contract import plugins
from facttune_core.contract.registry import Registry


def _everything_plugin() -> types.ModuleType:
    mod = types.ModuleType("everything")
    mod.PLUGIN_NAME = "every"  # type: ignore[attr-defined]

    @hookimpl
    def register_prompt_sources(register):
        register("prompts", testing.FakePrompts)

    @hookimpl
    def register_generators(register):
        register("gen", testing.FakeGenerator, version="7")

    @hookimpl
    def register_claim_extractors(register):
        register("claims", SentenceClaims)

    @hookimpl
    def register_evidence_retrievers(register):
        register("ret", testing.FakeRetriever)

    @hookimpl
    def register_claim_verifiers(register):
        register("ver", testing.FakeVerifier, description="a verifier")

    @hookimpl
    def register_reward_combiners(register):
        register("rew", testing.FakeReward)

    @hookimpl
    def register_trainers(register):
        register("tr", testing.FakeTrainer)

    @hookimpl
    def register_models(register):
        register("tiny-alias", lambda: "/models/tiny", description="a test alias")

    @hookimpl
    def register_commands(cli):
        @cli.command(name="hello-every")
        def hello() -> None:
            typer.echo("hello from every")

    for fn in (register_prompt_sources, register_generators, register_claim_extractors, register_evidence_retrievers,
               register_claim_verifiers, register_reward_combiners, register_trainers, register_models,
               register_commands):
        setattr(mod, fn.__name__, fn)
    return mod


@pytest.fixture(scope="module")
def pm():
    return plugins.make_plugin_manager(extra=[_everything_plugin()], entry_points=False)


@pytest.fixture(scope="module")
def reg(pm):
    return Registry(pm)


def test_hook_register_prompt_sources(reg):
    assert reg.get(PromptSource, "every/prompts").factory is testing.FakePrompts


def test_hook_register_generators(reg):
    spec = reg.get(Generator, "every/gen")
    assert spec.factory is testing.FakeGenerator and spec.plugin == "every" and spec.version == "7"


def test_hook_register_claim_extractors(reg):
    assert reg.get(ClaimExtractor, "every/claims").factory is SentenceClaims


def test_hook_register_evidence_retrievers(reg):
    assert reg.get(EvidenceRetriever, "every/ret").factory is testing.FakeRetriever


def test_hook_register_claim_verifiers(reg):
    assert reg.get(ClaimVerifier, "every/ver").description == "a verifier"


def test_hook_register_reward_combiners(reg):
    assert reg.get(RewardCombiner, "every/rew").factory is testing.FakeReward


def test_hook_register_trainers(reg):
    assert reg.get(Trainer, "every/tr").factory is testing.FakeTrainer


def test_hook_register_models(reg):
    assert reg.resolve_model("tiny-alias") == "/models/tiny"
    assert reg.models["tiny-alias"].plugin == "every"
    assert reg.resolve_model("org/some-hub-model") == "org/some-hub-model"


def test_hook_register_commands(pm):
    app = typer.Typer()

    @app.command()
    def noop() -> None:  # typer needs one command to make a group
        pass

    pm.hook.register_commands(cli=app)
    out = CliRunner().invoke(app, ["hello-every"])
    assert out.exit_code == 0 and "hello from every" in out.output

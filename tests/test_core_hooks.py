"""One plugin implementing every hook; each registration must reach the registry / CLI."""

from __future__ import annotations

import types

import typer
from typer.testing import CliRunner

from facttune_core import hookimpl, testing
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
        from facttune_core.builtin import SentenceClaims

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


def test_each_hook_registers():
    pm = plugins.make_plugin_manager(extra=[_everything_plugin()], entry_points=False)
    reg = Registry(pm)
    expected = {"prompt_source": "every/prompts", "generator": "every/gen", "claim_extractor": "every/claims",
                "evidence_retriever": "every/ret", "claim_verifier": "every/ver", "reward_combiner": "every/rew",
                "trainer": "every/tr"}
    for kind, name in expected.items():
        assert reg.get(kind, name).plugin == "every"
    assert reg.get("generator", "every/gen").version == "7"
    assert reg.get("claim_verifier", "every/ver").description == "a verifier"
    assert reg.resolve_model("tiny-alias") == "/models/tiny"
    assert reg.resolve_model("org/some-hub-model") == "org/some-hub-model"


def test_register_commands_adds_cli_subcommand():
    pm = plugins.make_plugin_manager(extra=[_everything_plugin()], entry_points=False)
    app = typer.Typer()

    @app.command()
    def noop() -> None:  # typer needs one command to make a group
        pass

    pm.hook.register_commands(cli=app)
    out = CliRunner().invoke(app, ["hello-every"])
    assert out.exit_code == 0 and "hello from every" in out.output

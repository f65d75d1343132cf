"""Components declare what they need from the recipe (``needs``); ``validate`` checks it."""

from __future__ import annotations

import types

import pytest

from facttune_core import hookimpl
from facttune_core.contract import plugins
from facttune_core.contract.errors import FacttuneError
from facttune_core.run.recipe import load_recipe
from facttune_core.testing import FakeVerifier, fake_recipe_text


class EvidenceVerifier(FakeVerifier):
    """A verifier that cannot work without evidence."""

    needs = ("evidence",)


class Typo(FakeVerifier):
    needs = ("evidense",)


@pytest.fixture
def needy(fake_registry, monkeypatch):
    from facttune_core import testing

    mod = types.ModuleType("needy")
    mod.PLUGIN_NAME = "needy"

    @hookimpl
    def register_claim_verifiers(register):
        register("evidence", EvidenceVerifier)
        register("typo", Typo)

    mod.register_claim_verifiers = register_claim_verifiers
    plugins.reset_plugin_manager(plugins.make_plugin_manager(extra=[testing, mod]))
    yield
    plugins.reset_plugin_manager(None)


def _recipe(tmp_path, text):
    p = tmp_path / "r.toml"
    p.write_text(text)
    return p


def test_a_verifier_that_needs_evidence_wants_a_retrieve_table(needy, tmp_path):
    p = _recipe(tmp_path, fake_recipe_text(verify="needy/evidence", retrieve=None))
    with pytest.raises(FacttuneError) as err:
        load_recipe(p)
    assert str(err.value) == f"{p}: verify.component: 'needy/evidence' needs evidence: add a [retrieve] table"
    load_recipe(_recipe(tmp_path, fake_recipe_text(verify="needy/evidence")))  # with [retrieve]: fine


def test_the_evaluate_verifier_may_get_evidence_from_evaluate_retrieve(needy, tmp_path):
    text = fake_recipe_text(retrieve=None).replace(
        '[evaluate]\nsplit = "test"', '[evaluate]\nsplit = "test"\nverify = { component = "needy/evidence" }')
    with pytest.raises(FacttuneError, match=r"evaluate\.verify\.component: 'needy/evidence' needs evidence: "
                                            r"add a \[retrieve\] table or evaluate\.retrieve"):
        load_recipe(_recipe(tmp_path, text))
    ok = text.replace('verify = { component = "needy/evidence" }',
                      'verify = { component = "needy/evidence" }\nretrieve = { component = "fake/retriever" }')
    load_recipe(_recipe(tmp_path, ok))


def test_an_unknown_need_is_reported_with_a_suggestion(needy, tmp_path):
    with pytest.raises(FacttuneError, match=r"declares an unknown need 'evidense'\. Did you mean 'evidence'\?"):
        load_recipe(_recipe(tmp_path, fake_recipe_text(verify="needy/typo")))


def test_data_that_provides_verdicts_satisfies_a_reward_that_needs_them(fake_registry, tmp_path):
    """rewards/factscore needs verdicts: a [verify] table, or data that provides them."""
    no_verify = fake_recipe_text(reward="rewards/factscore").replace('[verify]\ncomponent = "fake/verifier"\nargs = {  }\n', "")
    with pytest.raises(FacttuneError, match=r"reward\.component: 'rewards/factscore' needs verdicts: add a \[verify\] table"):
        load_recipe(_recipe(tmp_path, no_verify))
    (tmp_path / "labeled.jsonl").write_text("{}\n")
    given = ('[data]\ncomponent = "rewards/factscore-labeled"\nargs = { paths = ["labeled.jsonl"] }\n'
             '[reward]\ncomponent = "rewards/factscore"\n')
    load_recipe(_recipe(tmp_path, given))  # the labelled data carries verdicts

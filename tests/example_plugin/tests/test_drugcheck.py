"""The drugcheck plugin, tested with facttune's testing kit (docs/writing-a-plugin.md). Copy freely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facttune_core import Claim, Evidence, FacttuneError, Passage
from facttune_core.testing import fake_recipe_text, make_component, run_recipe

LABEL = "Ibuprofen relieves pain. Adults take 200 mg or 400 mg every 4 to 6 hours."


def claim(text: str) -> Claim:
    return Claim(id="p/r0/c0", response_id="p/r0", prompt_id="p", text=text, topic="Ibuprofen")


def label(text: str = LABEL) -> Evidence:
    return Evidence(claim_id="p/r0/c0", passages=(Passage(title="Ibuprofen", text=text),))


def test_a_dose_on_the_label_is_supported(fake_registry):
    verifier = make_component("drugcheck/label")
    ok, wrong, no_dose = verifier.verify(
        [claim("Adults take 400 mg."), claim("Adults take 800 mg."), claim("It relieves pain.")], [label()] * 3)
    assert (ok.supported, ok.label, ok.p_true) == (True, "S", 1.0)
    assert (wrong.supported, wrong.label) == (False, "NS") and "800 mg" in wrong.raw
    assert no_dose.label == "IR"  # nothing to check: not counted as a wrong dose


def test_no_evidence_means_not_supported(fake_registry):
    verifier = make_component("drugcheck/label")
    [v] = verifier.verify([claim("Adults take 400 mg.")], [Evidence(claim_id="p/r0/c0", passages=())])
    assert v.supported is False and v.label == "NS"


def test_units_are_configurable(fake_registry):
    verifier = make_component("drugcheck/label", {"units": ["mcg"]})
    [v] = verifier.verify([claim("Adults take 400 mg.")], [label()])
    assert v.label == "IR"  # "mg" is no longer a dose unit


def test_a_typo_in_the_args_is_reported_with_a_suggestion(fake_registry):
    with pytest.raises(FacttuneError, match=r"verify\.args\.unit: unknown key\. Did you mean 'units'\?"):
        make_component("drugcheck/label", {"unit": ["mg"]})


def test_a_recipe_without_evidence_is_refused(fake_registry, tmp_path):
    recipe = fake_recipe_text(verify="drugcheck/label", retrieve=None)
    with pytest.raises(FacttuneError, match=r"verify\.component: 'drugcheck/label' needs evidence"):
        run_recipe(recipe, tmp_path / "run")


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


RECIPE = """
[data]
component = "core/jsonl"
args = { path = "prompts.jsonl", responses = "responses.jsonl" }

[extract]
component = "core/sentences"

[retrieve]
component = "retrieval/bm25"
args = { source = "kb.jsonl", k = 1 }

[verify]
component = "drugcheck/label"

[reward]
component = "rewards/factscore"
args = { gamma = 0, irrelevant = "exclude" }
"""


def test_in_a_model_free_run(fake_registry, tmp_path):
    write_jsonl(tmp_path / "kb.jsonl", [
        {"title": "Ibuprofen", "text": LABEL},
        {"title": "Paracetamol", "text": "Adults take 500 mg or 1 g every 4 to 6 hours, at most 4 g a day."}])
    write_jsonl(tmp_path / "prompts.jsonl", [
        {"id": "ibu", "prompt": "How much ibuprofen may an adult take?", "topic": "Ibuprofen"},
        {"id": "para", "prompt": "How much paracetamol may an adult take?", "topic": "Paracetamol"}])
    write_jsonl(tmp_path / "responses.jsonl", [
        {"prompt_id": "ibu", "text": "Adults take 200 mg or 400 mg. Some take 3200 mg at once."},
        {"prompt_id": "para", "text": "Adults take 1 g at a time. It also lowers a fever."}])
    res = run_recipe(RECIPE, tmp_path / "run")
    verdicts = [v.label for v in res["verify"].records]
    assert verdicts == ["S", "NS", "S", "IR"]
    rewards = {r.response_id: r.value for r in res["reward"].records}
    assert rewards == {"ibu/r0": 0.5, "para/r0": 1.0}  # IR left out (irrelevant = "exclude")
    again = run_recipe(RECIPE, tmp_path / "run")
    assert {r.status for r in again.values()} == {"done"}  # nothing recomputed

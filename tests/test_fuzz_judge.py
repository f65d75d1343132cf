"""`judge eval|fit|synth`, `validate`, `--help` and plugin loading thrown broken inputs (issue #21):
every case ends in one error line naming the file (and key or line), or in the correct result."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from _fuzz_kit import (
    ROOT,
    Expect,
    check_case,
    cli,
    json_lines,
    jsonl_recipe,
    one_line,
    write_jsonl,
)

Case = Callable[[Path, pytest.MonkeyPatch, pytest.CaptureFixture[str]], Expect]
CASES: dict[str, Case] = {}


def case(fn: Case) -> Case:
    CASES[fn.__name__] = fn
    return fn


JUDGE_RECIPE = """
[retrieve]
component = "retrieval/bm25"
args = {{ source = "kb.jsonl" }}

[verify]
component = "{verify}"
"""
PEOPLE = [f"Person {i}" for i in range(6)]


def kb(tmp: Path, people: list[str] = PEOPLE) -> Path:
    """A knowledge source: each person was born in Lisbon and made maps."""
    write_jsonl(tmp / "kb.jsonl", [{"title": p, "text": f"{p} (1850–1901) was a cartographer, a painter and a "
                                   f"sailor. {p} was born in Lisbon, which is in Portugal."} for p in people])
    return tmp / "kb.jsonl"


def judge_recipe(tmp: Path, verify: str = "fake/verifier") -> Path:
    """A recipe with no [data] table: only what judging needs."""
    kb(tmp)
    (tmp / "judge.toml").write_text(JUDGE_RECIPE.format(verify=verify), encoding="utf-8")
    return tmp / "judge.toml"


def labels(tmp: Path, both: bool = True, name: str = "labels.jsonl") -> Path:
    ev = [{"title": "Person 0", "text": "Person 0 was born in Lisbon."}]
    rows = [{"id": f"c{i}", "topic": "Person 0", "claim": "Person 0 was born in Lisbon.", "label": "S", "evidence": ev}
            for i in range(3)]
    rows += [{"id": f"n{i}", "topic": "Person 0", "claim": "Person 0 was born in Oslo.",
              "label": "NS" if both else "S", "evidence": ev} for i in range(3)]
    write_jsonl(tmp / name, rows)
    return tmp / name


def labelled_bios(tmp: Path, topics: list[str], name: str = "bios.jsonl", annotations: object = None) -> Path:
    """FActScore's labelled format (no evidence: the recipe's retriever finds it)."""
    rows = [{"topic": t, "output": "x", "annotations": annotations if annotations is not None else [
        {"text": "s", "is-relevant": True, "human-atomic-facts": [
            {"text": f"{t} was born in Lisbon.", "label": "S"}, {"text": f"{t} was born in Oslo.", "label": "NS"}]}]}
        for t in topics]
    write_jsonl(tmp / name, rows)
    return tmp / name


# ---------------------------------------------------------------- judge fit / synth: what they write


@case
def judge_fit_out_onto_its_own_labels(tmp, mp, cs):
    f = labels(tmp)
    return Expect(["judge", "fit", f, "--recipe", judge_recipe(tmp, "irtest/features"), "--out", f],
                  ["labels.jsonl", "--out"], unchanged=[f])


@case
def judge_fit_out_over_a_file_it_did_not_write(tmp, mp, cs):
    (tmp / "notes.json").write_text('{"mine": true}')
    return Expect(["judge", "fit", labels(tmp), "--recipe", judge_recipe(tmp, "irtest/features"), "--out",
                   tmp / "notes.json"], ["notes.json", "--force"], unchanged=[tmp / "notes.json"])


@case
def judge_fit_over_its_own_calibration(tmp, mp, cs):
    r = judge_recipe(tmp, "irtest/features")
    assert cli(["judge", "fit", labels(tmp), "--recipe", r, "--out", tmp / "cal.json"], mp, cs).code == 0
    return Expect(["judge", "fit", labels(tmp), "--recipe", r, "--out", tmp / "cal.json"],
                  check=lambda res: json.loads((tmp / "cal.json").read_text())["format"])


@case
def judge_fit_on_one_class(tmp, mp, cs):
    return Expect(["judge", "fit", labels(tmp, both=False), "--recipe", judge_recipe(tmp, "irtest/features"),
                   "--out", tmp / "cal.json"], ["labels.jsonl", "supported"])


@case
def judge_synth_negative_topics(tmp, mp, cs):
    return Expect(["judge", "synth", kb(tmp), "--topics", "-5", "--out", tmp / "s.jsonl"], ["--topics"])


@case
def judge_synth_zero_topics(tmp, mp, cs):
    return Expect(["judge", "synth", kb(tmp), "--topics", "0", "--out", tmp / "s.jsonl"], ["--topics"])


@case
def judge_synth_negative_per_topic(tmp, mp, cs):
    return Expect(["judge", "synth", kb(tmp), "--per-topic", "-1", "--out", tmp / "s.jsonl"], ["--per-topic"])


@case
def judge_synth_source_with_nothing_to_make(tmp, mp, cs):
    write_jsonl(tmp / "kb.jsonl", [{"title": "Zed", "text": "Blue."}])
    return Expect(["judge", "synth", tmp / "kb.jsonl", "--out", tmp / "s.jsonl"], ["kb.jsonl", "no"])


@case
def judge_synth_out_over_a_file_it_did_not_write(tmp, mp, cs):
    labels(tmp)
    return Expect(["judge", "synth", kb(tmp), "--out", tmp / "labels.jsonl"], ["labels.jsonl", "--force"],
                  unchanged=[tmp / "labels.jsonl"])


@case
def judge_synth_out_with_force(tmp, mp, cs):
    labels(tmp)

    def check(res):
        rows = json_lines(tmp / "labels.jsonl")
        assert rows and all(r["id"].startswith("synth/") for r in rows)
    return Expect(["judge", "synth", kb(tmp), "--out", tmp / "labels.jsonl", "--force"], check=check)


# ---------------------------------------------------------------- judge eval: what it reads


@case
def judge_eval_limit_zero(tmp, mp, cs):
    return Expect(["judge", "eval", labels(tmp), "--recipe", judge_recipe(tmp), "--limit", "0"], ["--limit"])


@case
def judge_eval_limit_negative(tmp, mp, cs):
    return Expect(["judge", "eval", labels(tmp), "--recipe", judge_recipe(tmp), "--limit", "-1"], ["--limit"])


@case
def judge_eval_annotations_not_objects(tmp, mp, cs):
    f = labelled_bios(tmp, ["Person 0"], annotations=[5])
    return Expect(["judge", "eval", f, "--recipe", judge_recipe(tmp)], ["bios.jsonl", "line 1"])


@case
def judge_eval_atomic_facts_not_a_list(tmp, mp, cs):
    f = labelled_bios(tmp, ["Person 0"], annotations=[{"text": "s", "human-atomic-facts": "born"}])
    return Expect(["judge", "eval", f, "--recipe", judge_recipe(tmp)], ["bios.jsonl", "line 1"])


@case
def judge_eval_atomic_fact_not_an_object(tmp, mp, cs):
    f = labelled_bios(tmp, ["Person 0"], annotations=[{"text": "s", "human-atomic-facts": [3]}])
    return Expect(["judge", "eval", f, "--recipe", judge_recipe(tmp)], ["bios.jsonl", "line 1"])


@case
def judge_eval_a_recipe_without_data(tmp, mp, cs):
    return Expect(["judge", "eval", labels(tmp), "--recipe", judge_recipe(tmp), "--out", tmp / "ev"],
                  check=lambda res: json.loads((tmp / "ev" / "judge-eval.json").read_text())["overall"]["n"] == 6)


@case
def judge_eval_some_topics_not_in_the_source(tmp, mp, cs):
    f = labelled_bios(tmp, ["Person 0", "Person 1", "Nobody Known"])

    def check(res):
        report = json.loads((tmp / "ev" / "judge-eval.json").read_text())
        assert report["overall"]["n"] == 4, report["overall"]
        assert "1 of 3 topics" in res.out, res.out
    return Expect(["judge", "eval", f, "--recipe", judge_recipe(tmp), "--out", tmp / "ev"], check=check)


@case
def judge_eval_no_topic_in_the_source(tmp, mp, cs):
    f = labelled_bios(tmp, ["Nobody Known", "Someone Else"])
    return Expect(["judge", "eval", f, "--recipe", judge_recipe(tmp)], ["bios.jsonl", "2 topics"])


@case
def judge_eval_out_over_a_file_it_did_not_write(tmp, mp, cs):
    (tmp / "ev").mkdir()
    (tmp / "ev" / "judge-eval.json").write_text('{"mine": 1}')
    return Expect(["judge", "eval", labels(tmp), "--recipe", judge_recipe(tmp), "--out", tmp / "ev"],
                  ["judge-eval.json", "--force"], unchanged=[tmp / "ev" / "judge-eval.json"])


@case
def labeled_input_not_a_string(tmp, mp, cs):
    f = labelled_bios(tmp, ["Person 0"])
    rows = json_lines(f)
    rows[0]["input"] = 5
    write_jsonl(f, rows)
    return Expect(["labeled", f], ["bios.jsonl", "line 1", "'input'"])


# ---------------------------------------------------------------- run / validate: topics and sources


def bm25_recipe(tmp: Path, topics: dict[int, str] | None = None) -> Path:
    from test_fuzz_inputs import PROMPTS

    rows = [dict(p) for p in PROMPTS]
    for i, t in (topics or {}).items():
        rows[i]["topic"] = t
    write_jsonl(tmp / "prompts.jsonl", rows)
    kb(tmp)
    r = jsonl_recipe(tmp)
    r.write_text(r.read_text().replace('component = "fake/retriever"',
                                       'component = "retrieval/bm25"\nargs = { source = "kb.jsonl" }'))
    return r


@case
def run_with_a_misspelt_topic(tmp, mp, cs):
    return Expect(["run", bm25_recipe(tmp, {3: "Persn 3"}), "--run-dir", tmp / "run"],
                  ["prompts.jsonl", "line 4", "Persn 3", "Person 3"])


@case
def validate_a_misspelt_topic(tmp, mp, cs):
    return Expect(["validate", bm25_recipe(tmp, {5: "Persn 5"})], ["prompts.jsonl", "line 6", "Persn 5"])


@case
def validate_a_missing_knowledge_source(tmp, mp, cs):
    return Expect(["validate", bm25_recipe(tmp), "--set", "retrieve.args.source=nowhere.jsonl"],
                  ["recipe.toml", "retrieve.args.source", "nowhere.jsonl"])


@case
def validate_a_good_recipe_with_topics(tmp, mp, cs):
    return Expect(["validate", bm25_recipe(tmp)], check=lambda res: None)


# ---------------------------------------------------------------- help text


def _help_has(*texts: str) -> Callable:
    def check(res):
        flat = " ".join(res.out.split())
        for t in texts:
            assert t in flat, f"{t!r} not in the help:\n{res.out}"
    return check


@case
def score_help_keeps_its_brackets(tmp, mp, cs):
    mp.setenv("COLUMNS", "200")
    return Expect(["score", "--help"], check=_help_has("[extract], [retrieve], [verify] and [reward]"))


@case
def judge_eval_help_keeps_its_brackets(tmp, mp, cs):
    mp.setenv("COLUMNS", "200")
    return Expect(["judge", "eval", "--help"], check=_help_has("[verify]"))


def _one_no_cache_flag(res):
    _help_has("--no-cache Use a throw-away call cache")(res)
    assert "--no-no-cache" not in res.out, res.out


@case
def run_help_has_one_no_cache_flag(tmp, mp, cs):
    mp.setenv("COLUMNS", "200")
    return Expect(["run", "--help"], check=_one_no_cache_flag)


@case
def score_help_has_one_no_cache_flag(tmp, mp, cs):
    mp.setenv("COLUMNS", "200")
    return Expect(["score", "--help"], check=_one_no_cache_flag)


def test_there_are_cases():
    assert len(CASES) >= 20


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_ends_in_one_line_or_the_right_result(name, tmp_path, monkeypatch, capsys, ir_registry):
    monkeypatch.chdir(tmp_path)
    check_case(CASES[name](tmp_path, monkeypatch, capsys), monkeypatch, capsys)


def test_a_misspelt_hook_is_one_line_with_a_suggestion(tmp_path, monkeypatch, capsys):
    from facttune_core.contract import plugins

    (tmp_path / "typo_plugin.py").write_text(
        "from facttune_core import hookimpl\n\n\n@hookimpl\ndef register_claim_verifier(register):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("FACTTUNE_PLUGINS", "typo_plugin")
    plugins.reset_plugin_manager(None)
    try:
        line = one_line(cli(["plugins"], monkeypatch, capsys))
    finally:
        plugins.reset_plugin_manager(None)
        sys.modules.pop("typo_plugin", None)
    assert "typo_plugin" in line and "register_claim_verifier" in line and "<module" not in line
    assert "Did you mean 'register_claim_verifiers'?" in line


def test_the_docs_list_what_is_bundled_and_say_what_is_true():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert not [ln for ln in readme.splitlines() if ln.startswith("SPECIFIC_")]
    scoring = readme[readme.index("## Scoring existing text"):readme.index("## Comparing runs")]
    assert "270M" not in scoring
    plugins_md = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    for name in ("`judges`", "judges/support", "judges/consistency", "judges/ensemble"):
        assert name in plugins_md, name

"""`score`, `compare` and `report` thrown broken and hostile inputs (issue #21), as
tests/test_fuzz_inputs.py does for `run`: every case ends in one error line naming the file (and
key or line), or in the correct result; never in a traceback or a silent wrong number."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from _fuzz_kit import (
    TRUE_BIO,
    Expect,
    bios,
    check_case,
    cli,
    finished_run,
    json_lines,
    jsonl_recipe,
    kill9_score,
    score_recipe,
    scored,
    stage,
    write_jsonl,
)

Case = Callable[[Path, pytest.MonkeyPatch, pytest.CaptureFixture[str]], Expect]
CASES: dict[str, Case] = {}


def case(fn: Case) -> Case:
    CASES[fn.__name__] = fn
    return fn


# ---------------------------------------------------------------- readers check what they read


@case
def compare_score_folder_with_a_line_deleted(tmp, mp, cs):
    s = scored(tmp, mp, cs)
    lines = (s / "scores.jsonl").read_text().splitlines(keepends=True)
    (s / "scores.jsonl").write_text("".join(lines[1:]))
    return Expect(["compare", s, "--out", tmp / "cmp"], ["scores.jsonl", "score.json"])


@case
def report_score_folder_with_a_line_deleted(tmp, mp, cs):
    s = scored(tmp, mp, cs)
    lines = (s / "scores.jsonl").read_text().splitlines(keepends=True)
    (s / "scores.jsonl").write_text("".join(lines[1:]))
    return Expect(["report", s], ["scores.jsonl", "score.json"])


def _drop_after_rows(run_dir: Path) -> Path:
    """Every "after" row of the evaluate stage but the first, removed by hand."""
    rec = stage(run_dir, "evaluate") / "records.jsonl"
    lines = rec.read_text().splitlines(keepends=True)
    after = [i for i, ln in enumerate(lines) if '"variant": "after"' in ln]
    rec.write_text("".join(ln for i, ln in enumerate(lines) if i not in after[1:]))
    return rec


@case
def compare_run_with_evaluate_rows_removed(tmp, mp, cs):
    _, run_dir = finished_run(tmp, mp, cs)
    _drop_after_rows(run_dir)
    return Expect(["compare", run_dir, "--out", tmp / "cmp"], ["records.jsonl", "manifest"])


@case
def report_run_with_evaluate_rows_removed(tmp, mp, cs):
    _, run_dir = finished_run(tmp, mp, cs)
    _drop_after_rows(run_dir)
    return Expect(["report", run_dir], ["records.jsonl", "manifest"])


@case
def compare_model_is_a_list(tmp, mp, cs):
    s = scored(tmp, mp, cs)
    rows = json_lines(s / "scores.jsonl")
    rows[0]["model"] = ["a", "b"]
    write_jsonl(s / "scores.jsonl", rows)
    return Expect(["compare", s, "--out", tmp / "cmp"], ["scores.jsonl"])


@case
def compare_killed_rescore_is_unfinished(tmp, mp, cs):
    s = scored(tmp, mp, cs)
    edited = bios(tmp, "x.jsonl", people=("Ada Quill", "Carla Miro", "Dmitri Sol"))
    kill9_score(tmp, edited, score_recipe(tmp), s)
    return Expect(["compare", s, "--out", tmp / "cmp"], [str(s), "unfinished"])


@case
def report_killed_rescore_is_unfinished(tmp, mp, cs):
    s = scored(tmp, mp, cs)
    edited = bios(tmp, "x.jsonl", people=("Ada Quill", "Carla Miro", "Dmitri Sol"))
    kill9_score(tmp, edited, score_recipe(tmp), s)
    return Expect(["report", s], [str(s), "unfinished"], unchanged=[s / "report.html"])


@case
def compare_killed_first_score_is_unfinished(tmp, mp, cs):
    kill9_score(tmp, bios(tmp), score_recipe(tmp), tmp / "s")
    return Expect(["compare", tmp / "s", "--out", tmp / "cmp"], [str(tmp / "s"), "unfinished", "score"])


@case
def compare_run_interrupted_while_rerun_is_unfinished(tmp, mp, cs):
    recipe, run_dir = finished_run(tmp, mp, cs)
    import facttune_core.testing as testing

    def interrupted(self, claims, evidence):
        raise KeyboardInterrupt
    mp.setattr(testing.FakeVerifier, "verify", interrupted)
    res = cli(["run", recipe, "--run-dir", run_dir, "--set", "generate.args.p_true=0.7"], mp, cs)
    assert res.code == 130, res.err
    return Expect(["compare", run_dir, "--out", tmp / "cmp"], [str(run_dir), "unfinished", "facttune run"])


@case
def rescore_with_a_tampered_verify_record(tmp, mp, cs):
    s = scored(tmp, mp, cs)
    rec = stage(s, "verify") / "records.jsonl"
    rec.write_text(rec.read_text().replace('"supported": false', '"supported": true', 1))
    return Expect(["score", bios(tmp), "--recipe", score_recipe(tmp), "--out", s],
                  ["records.jsonl", "Delete 04-verify-", "facttune score command again"], absent=["--force-from"])


# ---------------------------------------------------------------- one kind of job per folder


@case
def score_into_a_run_folder(tmp, mp, cs):
    _, run_dir = finished_run(tmp, mp, cs)
    cli(["report", run_dir], mp, cs)
    keep = [run_dir / "run.json", run_dir / "recipe.toml", run_dir / "report.html"]
    return Expect(["score", bios(tmp), "--recipe", score_recipe(tmp), "--out", run_dir], [str(run_dir), "run folder"],
                  unchanged=keep)


@case
def run_into_a_score_folder(tmp, mp, cs):
    s = scored(tmp, mp, cs)
    keep = [s / "run.json", s / "recipe.toml", s / "report.html", s / "scores.jsonl", s / "score.json"]
    return Expect(["run", jsonl_recipe(tmp), "--run-dir", s], [str(s), "score folder"], unchanged=keep)


@case
def score_into_a_folder_with_someone_elses_report(tmp, mp, cs):
    (tmp / "mine").mkdir()
    (tmp / "mine" / "report.html").write_text("<p>my own page</p>")
    return Expect(["score", bios(tmp), "--recipe", score_recipe(tmp), "--out", tmp / "mine"], ["report.html"],
                  unchanged=[tmp / "mine" / "report.html"])


@case
def compare_out_over_someone_elses_page(tmp, mp, cs):
    s = scored(tmp, mp, cs)
    (tmp / "cmp").mkdir()
    (tmp / "cmp" / "compare.html").write_text("<p>my own page</p>")
    return Expect(["compare", s, "--out", tmp / "cmp"], ["compare.html", "--force"],
                  unchanged=[tmp / "cmp" / "compare.html"])


@case
def compare_out_again_overwrites_its_own(tmp, mp, cs):
    s = scored(tmp, mp, cs)
    assert cli(["compare", s, "--out", tmp / "cmp"], mp, cs).code == 0
    return Expect(["compare", s, "--out", tmp / "cmp"], check=lambda r: None)


# ---------------------------------------------------------------- inputs and user text


@case
def score_input_prompt_not_a_string(tmp, mp, cs):
    write_jsonl(tmp / "x.jsonl", [{"topic": "Ada Quill", "output": TRUE_BIO.format(t="Ada Quill"), "input": 5}])
    return Expect(["score", tmp / "x.jsonl", "--recipe", score_recipe(tmp), "--out", tmp / "s"],
                  ["x.jsonl", "line 1", "'input'"])


def _shows(*texts: str) -> Callable:
    def check(res):
        for t in texts:
            assert t in res.out, f"{t!r} not printed:\n{res.out[-3000:]}"
    return check


@case
def score_model_name_with_rich_markup(tmp, mp, cs):
    f = bios(tmp, models=("m[/]x [bold]b", "plain"))
    return Expect(["score", f, "--recipe", score_recipe(tmp), "--out", tmp / "s"], check=_shows("m[/]x [bold]b"))


@case
def score_out_folder_with_rich_markup(tmp, mp, cs):
    return Expect(["score", bios(tmp), "--recipe", score_recipe(tmp), "--out", tmp / "o[/x]"],
                  check=_shows("o[/x]"))


@case
def score_model_name_with_mathtext(tmp, mp, cs):
    f = bios(tmp, models=("$\\frac{a$", "$x^$"))
    s = tmp / "s"

    def check(res):
        assert (s / "report.html").exists() and "$\\frac{a$" in (s / "report.html").read_text()
    return Expect(["score", f, "--recipe", score_recipe(tmp), "--out", s], check=check)


@case
def compare_rows_with_markup_and_mathtext(tmp, mp, cs):
    a = scored(tmp, mp, cs, out="a[bold]", file=bios(tmp, "a.jsonl", models=("$x^$",)))
    b = scored(tmp, mp, cs, out="b[red]", file=bios(tmp, "b.jsonl", models=("[/red]m", "$y_$")))
    return Expect(["compare", a, b, "--out", tmp / "cmp[/]"],
                  check=_shows("a[bold]", "b[red]/[/red]m", "b[red]/$y_$", "cmp[/]"))


@case
def compare_same_names_in_different_folders(tmp, mp, cs):
    a = scored(tmp, mp, cs, out=tmp / "a" / "x" / "s")
    b = scored(tmp, mp, cs, out=tmp / "b" / "x" / "s", file=bios(tmp, "y.jsonl", people=("Ada Quill",)))

    def check(res):
        labels = [a["label"] for a in json.loads((tmp / "cmp" / "compare.json").read_text())["arms"]]
        assert len(set(labels)) == 2, labels
    return Expect(["compare", a, b, "--out", tmp / "cmp"], check=check)


@case
def compare_baseline_naming_two_folders(tmp, mp, cs):
    a = scored(tmp, mp, cs, out=tmp / "a" / "x" / "s")
    b = scored(tmp, mp, cs, out=tmp / "b" / "x" / "s", file=bios(tmp, "y.jsonl", people=("Ada Quill",)))
    return Expect(["compare", a, b, "--baseline", "x/s", "--out", tmp / "cmp"], ["--baseline", "x/s"])


def test_there_are_cases():
    assert len(CASES) >= 20


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_ends_in_one_line_or_the_right_result(name, tmp_path, monkeypatch, capsys, fake_registry):
    monkeypatch.chdir(tmp_path)
    check_case(CASES[name](tmp_path, monkeypatch, capsys), monkeypatch, capsys)


# ---------------------------------------------------------------- one FActScore


def test_one_factscore_in_score_evaluate_compare_and_the_reward(ir_registry, tmp_path, monkeypatch, capsys):
    """IR left out (irrelevant = "exclude") and γ: a scores.jsonl row, the reward of the same response,
    an evaluate row and compare all count the same way."""
    monkeypatch.chdir(tmp_path)
    recipe = score_recipe(tmp_path, reward_args='gamma = 4, irrelevant = "exclude"', verify="irtest/verifier")
    s = scored(tmp_path, monkeypatch, capsys, file=bios(tmp_path), recipe=recipe)
    rows = json_lines(s / "scores.jsonl")
    # FALSE_BIO: "born in Oslo" (NS) and "won an Olympic medal" (IR, left out) → 0 of 1 counted claim
    assert [(r["supported"], r["unsupported"], r["claims"]) for r in rows] == [(3, 0, 3), (0, 1, 2), (0, 1, 2)]
    for r in rows:
        n = r["supported"] + r["unsupported"]
        want = r["supported"] / n * (math.exp(1 - 4 / n) if n < 4 else 1.0)
        assert r["factscore"] == pytest.approx(want) == pytest.approx(r["rewards"]["factscore"])
    res = cli(["compare", s, "--out", tmp_path / "cmp"], monkeypatch, capsys)
    assert res.code == 0, res.err
    arm = json.loads((tmp_path / "cmp" / "compare.json").read_text())["arms"][0]["summary"]
    assert arm["factscore"] == pytest.approx(1 / 3) and arm["error_rate"] == pytest.approx(2 / 5)
    # the evaluate stage of a run with the same verifier and reward counts the same way
    run_recipe = jsonl_recipe(tmp_path)
    run_recipe.write_text(run_recipe.read_text().replace('"fake/verifier"', '"irtest/verifier"').replace(
        'component = "fake/reward"', 'component = "rewards/factscore"\nargs = { gamma = 4, irrelevant = "exclude" }'))
    res = cli(["run", run_recipe, "--run-dir", tmp_path / "run", "--no-report"], monkeypatch, capsys)
    assert res.code == 0, res.err
    ev_rows = [r for r in json_lines(stage(tmp_path / "run", "evaluate") / "records.jsonl")]
    rewards = {r["response_id"]: r for r in json_lines(stage(tmp_path / "run", "reward") / "records.jsonl")}
    assert any(r["irrelevant"] for r in ev_rows)
    for r in ev_rows:
        n = r["supported"] + r["unsupported"]
        assert r["claims"] == n + r["irrelevant"]
        assert r["factscore"] == (None if n == 0 else pytest.approx(r["supported"] / n * (
            math.exp(1 - 4 / n) if n < 4 else 1.0)))
    assert all(r["value"] is None or 0 <= r["value"] <= 1 for r in rewards.values())


def test_the_one_counting_rule_by_hand():
    from facttune_core import ClaimCounts, FactScoreRule, score_counts
    from facttune_core.contract.errors import DataError
    from facttune_core.report.compare import _check_rows

    c = ClaimCounts(supported=2, not_supported=1, irrelevant=1, undecided=1)  # 5 claims
    assert score_counts(c).factscore == pytest.approx(2 / 5)  # IR and undecided count against it
    assert score_counts(c, FactScoreRule(irrelevant="exclude")).factscore == pytest.approx(2 / 4)
    assert score_counts(c, FactScoreRule(gamma=10)).factscore == pytest.approx(2 / 5 * math.exp(1 - 10 / 5))
    only_ir = score_counts(ClaimCounts(irrelevant=2), FactScoreRule(irrelevant="exclude"))
    assert only_ir.factscore is None and only_ir.abstained and only_ir.claims == 2
    with pytest.raises(ValueError):
        FactScoreRule(irrelevant="ignore")
    with pytest.raises(DataError, match="x.jsonl: line 2: 'model' must be a string"):
        _check_rows(Path("x.jsonl"), [(1, {"prompt_id": "a", "claims": 1, "supported": 1, "words": 3}),
                                      (2, {"prompt_id": "b", "claims": 1, "supported": 0, "words": 3, "model": [1]})])


def test_a_killed_score_then_the_same_command_finishes(fake_registry, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    f, recipe = bios(tmp_path), score_recipe(tmp_path)
    kill9_score(tmp_path, f, recipe, tmp_path / "s")
    s = scored(tmp_path, monkeypatch, capsys, file=f, recipe=recipe)
    res = cli(["compare", s, "--out", tmp_path / "cmp"], monkeypatch, capsys)
    assert res.code == 0, res.err
    assert json.loads((tmp_path / "cmp" / "compare.json").read_text())["arms"][0]["summary"]["responses"] == 3


def test_stage_tables_are_not_cut_when_stdout_is_not_a_terminal(fake_registry, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.chdir(tmp_path)
    recipe = jsonl_recipe(tmp_path)
    text = recipe.read_text()
    recipe.write_text(text[:text.index("[pairs]")])  # no pairs, train, evaluate: nothing is evaluated
    res = cli(["run", recipe, "--run-dir", tmp_path / "run"], monkeypatch, capsys)
    assert res.code == 0, res.err
    assert "split_test=2" in res.out  # the counts column, at the right edge of the stage table
    assert "claims labelled S" in res.out and "mean reward 'factscore'" in res.out  # scores without evaluate
    shutil.rmtree(tmp_path / "run")

"""`facttune score`: existing responses (FActScore's format or facttune's) through a recipe's
scoring stages; γ, abstention, F1@K, resume, cache, and one-line errors naming FILE and line."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from facttune_basic import GivenResponses
from pydantic import BaseModel

from facttune_core import DataError, Evidence, FacttuneError, hookimpl
from facttune_core.contract.errors import ConfigError
from facttune_core.run.score import score
from facttune_core.run.score_input import read_input
from facttune_core.scoring import metrics

ROOT = Path(__file__).resolve().parents[1]

RECIPE = """
[run]
name = "score-test"

[data]                      # ignored by facttune score: FILE is the data
component = "fake/prompts"

[extract]
component = "core/sentences"

[retrieve]
component = "fake/retriever"

[verify]
component = "fake/verifier"
args = {{ {verify_args} }}

[reward]
component = "{reward}"
args = {{ {reward_args} }}
"""

# the fake world (facttune_core.testing): these facts are true of everyone, the others false
TRUE_BIO = "{t} was born in Lisbon. {t} worked as a cartographer. {t} wrote three atlases."
FALSE_BIO = "{t} was born in Oslo. {t} won an Olympic medal."
MIXED_BIO = "{t} was born in Lisbon. {t} worked as a sailor. {t} died in 1901. {t} won an Olympic medal."


def recipe(tmp_path: Path, reward: str = "rewards/factscore", reward_args: str = "gamma = 10",
           verify_args: str = "", name: str = "r.toml") -> Path:
    p = tmp_path / name
    p.write_text(RECIPE.format(reward=reward, reward_args=reward_args, verify_args=verify_args), encoding="utf-8")
    return p


def jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def factscore_file(tmp_path: Path) -> Path:
    return jsonl(tmp_path / "x.jsonl", [
        {"topic": "Ada Quill", "output": TRUE_BIO.format(t="Ada Quill")},
        {"topic": "Ada Quill", "output": FALSE_BIO.format(t="Ada Quill")},
        {"topic": "Bruno Vell", "output": MIXED_BIO.format(t="Bruno Vell")},
        {"topic": "Carla Miro", "output": ""},  # abstained: no claims
    ])


def cli(args: list[str], tmp_path: Path, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "FACTTUNE_PLUGINS": "facttune_core.testing", "FACTTUNE_CACHE_DIR": str(tmp_path / "cache"),
           "COLUMNS": "160"}
    return subprocess.run([sys.executable, "-m", "facttune_core.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, **kw)


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode not in (0, None), proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def rows_of(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "scores.jsonl").read_text().splitlines()]


def verify_calls(log: Path) -> int:
    if not log.exists():
        return 0
    return sum(json.loads(x)["n"] for x in log.read_text().splitlines() if json.loads(x)["kind"] == "verify")


# ---------------------------------------------------------------------------- formats


def test_factscore_format_scores_every_response(fake_registry, tmp_path):
    res = score(factscore_file(tmp_path), recipe(tmp_path, reward_args="gamma = 0"), tmp_path / "out")
    rows = rows_of(tmp_path / "out")
    assert [r["line"] for r in rows] == [1, 2, 3, 4]
    assert [r["topic"] for r in rows] == ["Ada Quill", "Ada Quill", "Bruno Vell", "Carla Miro"]
    # the two Ada Quill lines are two responses to one prompt
    assert rows[0]["prompt_id"] == rows[1]["prompt_id"] != rows[2]["prompt_id"]
    assert [(r["supported"], r["claims"]) for r in rows] == [(3, 3), (0, 2), (2, 4), (0, 0)]
    assert [r["factscore"] for r in rows] == [1.0, 0.0, 0.5, None]
    assert res.summary["responses"] == 4 and res.summary["prompts"] == 3
    assert res.summary["factscore"] == pytest.approx(0.5)  # mean over the three that have claims
    claims = [json.loads(x) for x in (tmp_path / "out" / "claims.jsonl").read_text().splitlines()]
    assert len(claims) == 9
    c0 = claims[0]
    assert c0["line"] == 1 and c0["claim"] == "Ada Quill was born in Lisbon." and c0["label"] == "S"
    assert c0["evidence"] and "Lisbon" in c0["evidence"][0]["text"] and c0["query"]
    assert {c["label"] for c in claims if c["line"] == 2} == {"NS"}


def test_facttune_format_several_responses_per_prompt(fake_registry, tmp_path):
    t = "Ada Quill"
    f = jsonl(tmp_path / "mine.jsonl", [
        {"prompt": "Who was Ada Quill?", "topic": t, "response": TRUE_BIO.format(t=t), "model": "a"},
        {"prompt": "Who was Ada Quill?", "topic": t, "responses": [FALSE_BIO.format(t=t), MIXED_BIO.format(t=t)],
         "model": "b"},
        {"id": "q7", "prompt": "Tell me about Bruno Vell.", "topic": "Bruno Vell", "response": FALSE_BIO.format(t="Bruno Vell")},
        {"id": "q7", "prompt": "Tell me about Bruno Vell.", "topic": "Bruno Vell", "response": TRUE_BIO.format(t="Bruno Vell")},
    ])
    inp = read_input(f)
    assert inp.format == "facttune" and len(inp.prompts) == 2 and len(inp.responses) == 5
    assert [r.id for r in inp.responses] == ["ada-quill/r0", "ada-quill/r1", "ada-quill/r2", "q7/r0", "q7/r1"]
    assert [r.meta["line"] for r in inp.responses] == [1, 2, 2, 3, 4]
    res = score(f, recipe(tmp_path, reward_args="gamma = 0"), tmp_path / "out")
    assert [r["factscore"] for r in res.rows] == [1.0, 0.0, 0.5, 0.0, 1.0]
    assert [r["model"] for r in res.rows] == ["a", "b", "b", None, None]
    assert set(res.summary["by_model"]) == {"a", "b", "None"}


def test_a_runs_own_generations_can_be_scored_again(fake_registry, tmp_path):
    """RUN/…/01-generate-*/records.jsonl (a run's samples, or its held-out ones under evaluate/) is an
    input too: several samples per prompt id, scored by another recipe (a second verifier)."""
    from facttune_core.testing import fake_recipe_text, run_recipe

    res = run_recipe(fake_recipe_text(n_train=3, n_test=2, n=3), tmp_path / "run", until="generate")
    gen = res["generate"].dir / "records.jsonl"
    inp = read_input(gen)
    produced = res["generate"].records
    assert len(inp.responses) == len(produced) == 9 and len(inp.prompts) == 3  # the train split, 3 samples each
    assert [r.prompt_id for r in inp.responses] == [r.prompt_id for r in produced]
    assert [r.text for r in inp.responses] == [r.text for r in produced]
    assert all(p.topic for p in inp.prompts)
    out = score(gen, recipe(tmp_path, reward_args="gamma = 0"), tmp_path / "out")
    assert len(out.rows) == 9 and {r["prompt_id"] for r in out.rows} == {r.prompt_id for r in produced}


def test_data_stage_is_keyed_by_content_not_path(fake_registry, tmp_path):
    a = factscore_file(tmp_path)
    cfg = GivenResponses.Config(path=str(a))
    from facttune_core import output_config

    moved = tmp_path / "elsewhere.jsonl"
    moved.write_bytes(a.read_bytes())
    assert output_config(GivenResponses.Config(path=str(moved))) == output_config(cfg)
    moved.write_text(moved.read_text().replace("Oslo", "Paris"))
    assert output_config(GivenResponses.Config(path=str(moved))) != output_config(cfg)


# ---------------------------------------------------------------------------- γ, abstention, F1@K


def test_gamma_of_the_recipe_is_applied(fake_registry, tmp_path):
    f = factscore_file(tmp_path)
    res = score(f, recipe(tmp_path, reward_args="gamma = 10"), tmp_path / "out")
    for r in res.rows:
        if r["claims"]:
            n = r["claims"]
            assert r["factscore"] == pytest.approx(r["supported"] / n * math.exp(1 - 10 / n))
            assert r["factscore_unpenalized"] == pytest.approx(r["supported"] / n)
            assert r["rewards"]["factscore"] == pytest.approx(r["factscore"])  # the recipe's reward agrees
    assert res.summary["gamma"] == 10
    off = score(f, recipe(tmp_path, reward_args="gamma = 10"), tmp_path / "out0", ["reward.args.gamma=0"])
    assert [r["factscore"] for r in off.rows] == [1.0, 0.0, 0.5, None]


def test_abstention_is_reported_not_averaged(fake_registry, tmp_path):
    res = score(factscore_file(tmp_path), recipe(tmp_path, reward_args="gamma = 0"), tmp_path / "out")
    abst = res.rows[3]
    assert abst["abstained"] is True and abst["claims"] == 0 and abst["factscore"] is None
    assert res.summary["abstention_rate"] == pytest.approx(0.25)
    assert res.summary["scored"] == 3
    assert res.summary["claims_per_response"] == pytest.approx(9 / 4)


def test_f1_at_k_from_the_reward_or_the_option(fake_registry, tmp_path):
    f = factscore_file(tmp_path)
    res = score(f, recipe(tmp_path, reward="rewards/f1k", reward_args="k = 2"), tmp_path / "out")
    # S=3,NS=0 → P 1, R 1; S=0 → 0; S=2,NS=2 → P .5, R 1 → 2/3; abstained → none
    assert [r["f1_at_k"] for r in res.rows] == [1.0, 0.0, pytest.approx(2 / 3), None]
    assert res.summary["k"] == 2 and res.summary["f1_at_k"] == pytest.approx((1 + 0 + 2 / 3) / 3)
    assert res.rows[2]["rewards"]["f1k"] == pytest.approx(2 / 3)
    assert res.summary["gamma"] == 0  # f1k has no γ
    other = score(f, recipe(tmp_path, reward="rewards/f1k", reward_args="k = 2"), tmp_path / "out", k=4)
    assert other.rows[0]["f1_at_k"] == pytest.approx(metrics.f1_at_k(3, 0, 4))
    plain = score(f, recipe(tmp_path), tmp_path / "out2")
    assert "f1_at_k" not in plain.rows[0] and "k" not in plain.summary


# ---------------------------------------------------------------------------- resume, cache


def test_resume_after_an_interruption_recomputes_nothing(fake_registry, tmp_path, monkeypatch):
    from facttune_core import testing

    log = tmp_path / "calls.log"
    r = recipe(tmp_path, verify_args=f'calls_log = "{log}", batch_size = 1')
    f = factscore_file(tmp_path)
    real = testing.FakeVerifier.verify
    n = {"calls": 0}

    def flaky(self, claims, evidence):
        n["calls"] += 1
        if n["calls"] == 3:
            raise KeyboardInterrupt
        return real(self, claims, evidence)

    monkeypatch.setattr(testing.FakeVerifier, "verify", flaky)
    with pytest.raises(KeyboardInterrupt):
        score(f, r, tmp_path / "out", ["verify.chunk_size=2"])
    vdir = next((tmp_path / "out").glob("04-verify-*"))
    assert len((vdir / "records.partial.jsonl").read_text().splitlines()) == 4  # two chunks of two kept
    assert not (tmp_path / "out" / "scores.jsonl").exists()
    monkeypatch.setattr(testing.FakeVerifier, "verify", real)
    res = score(f, r, tmp_path / "out", ["verify.chunk_size=2"])
    assert res.stages["verify"].status == "resumed" and res.stages["extract"].status == "done"
    assert verify_calls(log) == 9  # every claim judged once over both runs
    again = score(f, r, tmp_path / "out", ["verify.chunk_size=2"])
    assert all(s.status == "done" for s in again.stages.values())
    assert verify_calls(log) == 9 and again.rows == res.rows


def test_call_cache_is_shared_across_folders_and_edits(fake_registry, tmp_path):
    log = tmp_path / "calls.log"
    r = recipe(tmp_path, verify_args=f'calls_log = "{log}", batch_size = 1')
    f = factscore_file(tmp_path)
    score(f, r, tmp_path / "out1")
    assert verify_calls(log) == 9
    res = score(f, r, tmp_path / "out2")  # a new folder, the same call cache
    assert verify_calls(log) == 9 and res.stages["verify"].hits == 9
    # one more line: new stages (the file changed), but only the new claims are judged
    with f.open("a") as fh:
        fh.write(json.dumps({"topic": "Dmitri Sol", "output": "Dmitri Sol died in 1950."}) + "\n")
    res = score(f, r, tmp_path / "out1")
    assert res.stages["data"].status == "ran" and len(res.rows) == 5
    assert verify_calls(log) == 10


# ---------------------------------------------------------------------------- the recipe


def test_evaluate_tables_score_when_the_recipe_has_them(fake_registry, tmp_path):
    """A belief-style recipe (no retriever in its main chain) is scored as it evaluates: with its
    [evaluate] retrieve / verify."""
    text = RECIPE.format(reward="rewards/factscore", reward_args="gamma = 0", verify_args="").replace(
        '[retrieve]\ncomponent = "fake/retriever"\n', "")
    text += '\n[evaluate]\nretrieve = { component = "fake/retriever" }\nverify = { component = "fake/verifier", ' \
            'args = { batch_sise = 2 } }\n'
    r = tmp_path / "belief.toml"
    r.write_text(text)
    with pytest.raises(FacttuneError) as e:  # the typo is reported under its own table
        score(factscore_file(tmp_path), r, tmp_path / "out")
    assert "evaluate.verify.args.batch_sise" in str(e.value) and str(r) in str(e.value)
    r.write_text(text.replace("batch_sise", "batch_size"))
    res = score(factscore_file(tmp_path), r, tmp_path / "out")
    assert "retrieve" in res.stages
    assert json.loads((tmp_path / "out" / "score.json").read_text())["components"]["retrieve"] == "fake/retriever"


def test_recipe_without_verify_is_a_config_error(fake_registry, tmp_path):
    r = tmp_path / "r.toml"
    r.write_text('[data]\ncomponent = "fake/prompts"\n[extract]\ncomponent = "core/sentences"\n')
    with pytest.raises(ConfigError, match=r"needs the recipe's \[verify\] table"):
        score(factscore_file(tmp_path), r, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("lines,line,message", [
    ([{"topic": "Ada Quill", "output": "x"}, {"topic": "Ada Quill"}], 2, "missing 'output'"),
    (['{"topic": "Ada Quill", "output": "x"}', '{"topic": "Ada", "output": "x"'], 2, "not valid JSON"),
    ([{"topic": "Ada Quill", "text": "x"}], 1, "no 'output'"),
    ([{"output": "Ada Quill was born in Lisbon."}], 1, "missing 'topic'"),
    ([{"topic": "Ada Quill", "output": None}], 1, "'output' must be a string"),
    ([{"prompt": "Who?", "topic": "Ada Quill", "response": "x"}, {"prompt": "Who?", "topic": "Ada Quill"}], 2,
     "missing 'response'"),
    ([{"prompt": "Who?", "responses": []}], 1, "'responses' must be a non-empty list"),
])
def test_bad_input_is_one_line_naming_file_and_line(fake_registry, tmp_path, lines, line, message):
    f = tmp_path / "bad.jsonl"
    f.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    with pytest.raises(DataError) as e:
        read_input(f)
    assert str(e.value).startswith(f"{f}: line {line}: ") and message in str(e.value)
    assert "\n" not in str(e.value)


def test_cli_scores_then_a_bad_line_loses_nothing(tmp_path):
    r = recipe(tmp_path)
    f = factscore_file(tmp_path)
    ok = cli(["score", f.name, "--recipe", r.name, "--out", "out"], tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "FActScore % (γ = 10)" in ok.stdout and "abstention %" in ok.stdout and "report:" in ok.stdout
    before = (tmp_path / "out" / "scores.jsonl").read_text()
    stages = sorted(p.name for p in (tmp_path / "out").iterdir())
    with f.open("a") as fh:
        fh.write(json.dumps({"topic": "Dmitri Sol"}) + "\n")
    bad = cli(["score", f.name, "--recipe", r.name, "--out", "out"], tmp_path)
    assert one_error_line(bad) == ("x.jsonl: line 5: missing 'output' (this file is in FActScore's format: "
                                   '{"topic": ..., "output": ...})')
    assert (tmp_path / "out" / "scores.jsonl").read_text() == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == stages
    missing = cli(["score", "nope.jsonl", "--recipe", r.name], tmp_path)
    assert one_error_line(missing) == "nope.jsonl: file not found"
    r.write_text(r.read_text().replace("fake/verifier", "fake/verifyer"))
    good = jsonl(tmp_path / "good.jsonl", [{"topic": "Ada Quill", "output": "Ada Quill was born in Lisbon."}])
    typo = cli(["score", good.name, "--recipe", r.name, "--out", "out"], tmp_path)
    assert one_error_line(typo).startswith("r.toml: verify.component: unknown claim verifier 'fake/verifyer'. "
                                           "Did you mean 'fake/verifier'?")
    assert typo.returncode == 2


# ---------------------------------------------------------------------------- unknown topics


def test_unknown_topic_names_the_line_before_any_stage_runs(fake_registry, tmp_path):
    from test_retrieval import make_factscore_db

    db = make_factscore_db(tmp_path / "kb.db")
    r = tmp_path / "r.toml"
    r.write_text(RECIPE.format(reward="rewards/factscore", reward_args="", verify_args="").replace(
        'component = "fake/retriever"', f'component = "retrieval/bm25"\nargs = {{ source = "{db}", k = 2 }}'))
    f = jsonl(tmp_path / "x.jsonl", [{"topic": "Ada Quill",
                                      "output": "Ada Quill was a Portuguese cartographer born in Lisbon in 1840."},
                                     {"topic": "Bruno Vel", "output": "Bruno Vel played the violin in Argentina."},
                                     {"topic": "Nobody Atall", "output": "Nobody was born."}])
    with pytest.raises(DataError) as e:
        score(f, r, tmp_path / "out")
    msg = str(e.value)
    assert msg.startswith(f"{f}: line 2: unknown topic 'Bruno Vel'; did you mean 'Bruno Vell'?"), msg
    assert "retrieval/bm25" in msg and "1 more line" in msg and "\n" not in msg
    assert not (tmp_path / "out").exists()  # checked before anything was computed
    f.write_text(f.read_text().replace("Bruno Vel\"", "Bruno Vell\"").replace("Nobody Atall", "emile durkheim"))
    res = score(f, r, tmp_path / "out")  # normalised topic lookup: found
    assert res.rows[0]["supported"] == 1 and res.rows[0]["claims"] == 1


def test_cli_unknown_topic_is_one_line_and_exit_code(tmp_path):
    from test_retrieval import make_factscore_db

    db = make_factscore_db(tmp_path / "kb.db")
    r = tmp_path / "r.toml"
    r.write_text(RECIPE.format(reward="rewards/factscore", reward_args="", verify_args="").replace(
        'component = "fake/retriever"', f'component = "retrieval/bm25"\nargs = {{ source = "{db}" }}'))
    jsonl(tmp_path / "x.jsonl", [{"topic": "Ada Quill", "output": "Ada Quill was born in Lisbon."},
                                 {"topic": "Ada Quil", "output": "Ada Quil was born in Lisbon."}])
    proc = cli(["score", "x.jsonl", "--recipe", r.name, "--out", "out"], tmp_path)
    assert one_error_line(proc).startswith("x.jsonl: line 2: unknown topic 'Ada Quil'; did you mean 'Ada Quill'?")
    assert proc.returncode == 1 and not (tmp_path / "out").exists()


class _StrictRetriever:
    """A retriever that cannot check topics up front: it fails on one while retrieving."""

    class Config(BaseModel):
        pass

    def __init__(self, config, ctx) -> None:
        pass

    def retrieve(self, claims):
        for c in claims:
            if c.topic == "Nobody Atall":
                raise DataError(f"unknown topic '{c.topic}'", where="kb.db", key="retrieve.args.source")
        return [Evidence(claim_id=c.id) for c in claims]


@hookimpl
def _register(register) -> None:
    register("strict", _StrictRetriever)


def test_a_stage_failing_on_a_topic_is_traced_to_its_line(fake_registry, tmp_path, monkeypatch):
    from facttune_core import testing
    from facttune_core.contract import plugins

    mod = types.ModuleType("strict_plugin")
    mod.PLUGIN_NAME = "strict"
    mod.register_evidence_retrievers = _register
    plugins.reset_plugin_manager(plugins.make_plugin_manager(extra=[testing, mod]))
    r = tmp_path / "r.toml"
    r.write_text(RECIPE.format(reward="rewards/factscore", reward_args="", verify_args="").replace(
        "fake/retriever", "strict/strict"))
    f = jsonl(tmp_path / "x.jsonl", [{"topic": "Ada Quill", "output": "Ada Quill was born in Lisbon."},
                                     {"topic": "Nobody Atall", "output": "Nobody was born somewhere."}])
    with pytest.raises(DataError) as e:
        score(f, r, tmp_path / "out")
    assert str(e.value) == f"{f}: line 2: kb.db: retrieve.args.source: unknown topic 'Nobody Atall'"
    assert next((tmp_path / "out").glob("02-extract-*/manifest.json"))  # finished work is kept


# ---------------------------------------------------------------------------- report


def test_report_has_the_table_plots_and_escaped_drilldown(fake_registry, tmp_path):
    f = jsonl(tmp_path / "x.jsonl", [
        {"topic": "Ada Quill", "output": TRUE_BIO.format(t="Ada Quill")},
        {"topic": "Ada Quill", "output": "Ada Quill drew <script>alert(1)</script> maps of the sea."},
    ])
    from facttune_core.report.score_report import write_score_report

    res = score(f, recipe(tmp_path), tmp_path / "out", report_writer=write_score_report)
    page = res.report.read_text()
    assert "FActScore % (γ = 10)" in page and page.count("class='resp'") == 2
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "<span class='lab'>S</span>" in page and "<span class='lab'>NS</span>" in page
    assert page.count("data:image/png;base64,") == 2
    from facttune_core.report.html import write_report

    res.report.unlink()
    assert write_report(tmp_path / "out") == res.report and res.report.exists()  # `facttune report DIR`

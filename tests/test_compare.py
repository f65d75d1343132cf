"""`facttune compare`: one table across run and score folders, paired CIs against a baseline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from facttune_core import DataError
from facttune_core.contract.errors import ConfigError
from facttune_core.report.compare import compare, compare_table, load_folder, write_outputs
from facttune_core.run.pipeline import Pipeline
from facttune_core.run.recipe import load_recipe
from facttune_core.run.score import score
from facttune_core.testing import fake_recipe_text

SCORE_RECIPE = """
[data]
component = "fake/prompts"
[extract]
component = "core/sentences"
[retrieve]
component = "fake/retriever"
[verify]
component = "fake/verifier"
[reward]
component = "rewards/factscore"
args = { gamma = 10 }
"""
TRUE = "{t} was born in Lisbon. {t} worked as a cartographer. {t} wrote three atlases. {t} died in 1901."
HALF = "{t} was born in Lisbon. {t} worked as a sailor. {t} wrote three atlases. {t} died in 1950."
FALSE = "{t} was born in Oslo. {t} worked as a sailor."
# the fake run's held-out people (facttune_core.testing: n_train = 4, n_test = 2)
TEST_PEOPLE = ("Elena Fawn", "Femi Okoro")


def scored(tmp_path: Path, name: str, bios: dict[str, str], model: str | None = None, **extra) -> Path:
    f = tmp_path / f"{name}.jsonl"
    rows = [{"topic": t, "output": b.format(t=t), **({"model": model} if model else {}), **extra} for t, b in bios.items()]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = tmp_path / "score.toml"
    r.write_text(SCORE_RECIPE)
    score(f, r, tmp_path / name)
    return tmp_path / name


@pytest.fixture
def run_dir(fake_registry, tmp_path) -> Path:
    recipe = tmp_path / "fake.toml"
    recipe.write_text(fake_recipe_text(n_test=2, n=2))
    Pipeline(load_recipe(recipe), tmp_path / "bio").run()
    return tmp_path / "bio"


def arm(c, label):
    return next(a for a in c.arms if a.label == label)


def test_two_score_folders_table_plot_and_page(fake_registry, tmp_path):
    good = scored(tmp_path, "good", {"Ada Quill": TRUE, "Bruno Vell": TRUE, "Carla Miro": HALF})
    bad = scored(tmp_path, "bad", {"Ada Quill": FALSE, "Bruno Vell": HALF, "Carla Miro": FALSE})
    c = compare([good, bad])
    assert c.baseline.label == "good" and [a.label for a in c.arms] == ["good", "bad"]
    g, b = c.arms
    assert g.summary["factscore"] == pytest.approx((1 + 1 + 0.5) / 3)  # without the length penalty
    assert b.summary["factscore"] == pytest.approx((0 + 0.5 + 0) / 3)
    assert g.summary["claims"] == 4 and b.summary["claims"] == pytest.approx(8 / 3)
    assert b.summary["supported"] == pytest.approx(2 / 3) and b.summary["unsupported"] == 2
    assert b.summary["error_rate"] == pytest.approx(6 / 8) and b.summary["abstention"] == 0
    # per topic: -1, -0.5, -0.5 → mean -2/3; the CI lies within the extremes and covers the mean
    d = b.difference["factscore"]
    assert d["n"] == 3 and d["mean"] == pytest.approx(-2 / 3)
    assert -1.0 <= d["ci_low"] <= d["mean"] <= d["ci_high"] <= -0.5
    assert b.difference["claims"]["mean"] == pytest.approx(-4 / 3) and b.shared == 3 and b.pair_on == "topic"
    assert g.difference == {}  # the baseline itself
    paths = write_outputs(c, tmp_path / "cmp")
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths["png"].stat().st_size > 5000
    page = paths["html"].read_text()
    assert "<b>good</b>" in page and "16.7" in page and "-66.7 [" in page  # bad's FActScore, its difference
    data = json.loads(paths["json"].read_text())
    assert data["baseline"] == "good" and data["arms"][1]["difference"]["factscore"]["n"] == 3
    from rich.console import Console

    con = Console(record=True, width=200)
    con.print(compare_table(c))
    text = con.export_text()
    assert "good" in text and "(baseline)" in text and "FActScore %" in text and "-66.7" in text


def test_run_folder_gives_before_and_after_and_pairs_with_scores(run_dir, tmp_path):
    mine = scored(tmp_path, "mine", {t: TRUE for t in TEST_PEOPLE})
    c = compare([run_dir, mine])
    assert [a.label for a in c.arms] == ["bio/before", "bio/after", "mine"]
    assert c.baseline.label == "bio/before"  # default: the first row
    after, m = arm(c, "bio/after"), arm(c, "mine")
    ev = json.loads(next(run_dir.glob("08-evaluate-*/summary.json")).read_text())
    assert after.summary["factscore"] == pytest.approx(ev["variants"]["after"]["factscore"])
    assert after.summary["responses"] == ev["variants"]["after"]["n_responses"]
    assert m.shared == 2 and m.difference["factscore"]["n"] == 2  # the same held-out people
    assert m.summary["factscore"] == 1.0
    assert not c.notes


def test_runs_of_one_base_show_its_before_row_once(run_dir, fake_registry, tmp_path):
    """Two methods from the same base, people and seed (the paper's table: base vs each method):
    their before rows are the same responses, shown once; a different base is not merged."""
    other = tmp_path / "other.toml"
    other.write_text(fake_recipe_text(n_test=2, n=2).replace('component = "fake/trainer"',
                                                             'component = "fake/trainer"\nargs = { lift = 0.1 }'))
    Pipeline(load_recipe(other), tmp_path / "method2").run()
    c = compare([run_dir, tmp_path / "method2"], baseline="method2/before")
    assert [a.label for a in c.arms] == ["bio/before", "bio/after", "method2/after"]
    assert c.baseline.label == "bio/before"  # the row it is the same as
    assert c.notes == ["method2/before has the same responses and scores as bio/before: shown once"]
    assert arm(c, "method2/after").difference["factscore"]["n"] == 2
    stronger = tmp_path / "stronger.toml"  # another base model: its own before row
    stronger.write_text(fake_recipe_text(n_test=2, n=2, gen_extra=", p_true = 0.9"))
    Pipeline(load_recipe(stronger), tmp_path / "base2").run()
    c2 = compare([run_dir, tmp_path / "base2"])
    assert [a.label for a in c2.arms] == ["bio/before", "bio/after", "base2/before", "base2/after"]


def test_baseline_by_row_or_folder_name_and_a_typo(run_dir, fake_registry, tmp_path):
    mine = scored(tmp_path, "mine", {t: HALF for t in TEST_PEOPLE})
    assert compare([run_dir, mine], baseline="mine").baseline.label == "mine"
    assert compare([run_dir, mine], baseline="bio/after").baseline.label == "bio/after"
    assert compare([mine, run_dir], baseline="bio").baseline.label == "bio/before"  # a run folder: its before
    c = compare([run_dir, mine], baseline="mine")
    assert arm(c, "mine").difference == {} and arm(c, "bio/before").difference["factscore"]["n"] == 2
    with pytest.raises(ConfigError) as e:
        compare([run_dir, mine], baseline="bio/aftr")
    assert str(e.value) == ("--baseline: no row named 'bio/aftr'. Did you mean 'bio/after'? Rows: bio/before, "
                            "bio/after, mine")


def test_no_shared_prompts_is_a_clear_note(fake_registry, tmp_path):
    a = scored(tmp_path, "a", {"Ada Quill": TRUE})
    b = scored(tmp_path, "b", {"Bruno Vell": FALSE})
    c = compare([a, b])
    assert arm(c, "b").difference == {} and arm(c, "b").shared == 0
    assert c.notes == ["b shares no topics with the baseline a: no confidence intervals (a difference needs the "
                       "same prompts on both sides)"]
    page = write_outputs(c, tmp_path / "cmp")["html"].read_text()
    assert "shares no topics" in page


def test_pairs_by_prompt_id_without_topics_and_splits_models(fake_registry, tmp_path):
    f = tmp_path / "models.jsonl"
    rows = [{"prompt": f"Tell me about {t}.", "response": b.format(t=t), "model": m}
            for m, b in (("m1", TRUE), ("m2", FALSE)) for t in ("Ada Quill", "Bruno Vell")]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "s.toml").write_text(SCORE_RECIPE)
    score(f, tmp_path / "s.toml", tmp_path / "both")
    arms = load_folder(tmp_path / "both")
    assert [a.label for a in arms] == ["both/m1", "both/m2"]
    c = compare([tmp_path / "both"])
    m2 = arm(c, "both/m2")
    assert m2.pair_on == "prompt_id" and m2.shared == 2 and m2.difference["claims"]["mean"] == pytest.approx(-2)


def test_same_folder_names_are_told_apart(fake_registry, tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    a = scored(tmp_path / "x", "s", {"Ada Quill": TRUE})
    b = scored(tmp_path / "y", "s", {"Ada Quill": FALSE})
    assert [x.label for x in compare([a, b]).arms] == ["x/s", "y/s"]
    with pytest.raises(DataError, match="given twice"):
        compare([a, a])


def test_missing_foreign_and_unfinished_folders_are_one_line(fake_registry, tmp_path):
    good = scored(tmp_path, "good", {"Ada Quill": TRUE})
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("hi")
    recipe = tmp_path / "fake.toml"
    recipe.write_text(fake_recipe_text())
    Pipeline(load_recipe(recipe), tmp_path / "half", until="verify").run()
    cases = {
        tmp_path / "nope": "no such folder",
        tmp_path / "foreign": "not a facttune run or score folder (no run.json, no score.json)",
        tmp_path / "foreign" / "notes.txt": "not a folder",
        tmp_path / "half": "a run folder without a finished evaluate stage",
    }
    for path, msg in cases.items():
        with pytest.raises(DataError) as e:
            compare([good, path])
        assert str(e.value).startswith(f"{path}: {msg}") and "\n" not in str(e.value)
    (good / "score.json").rename(good / "score.json.bak")  # as if killed before the end
    with pytest.raises(DataError, match="an unfinished facttune score folder"):
        compare([good])
    (good / "score.json.bak").rename(good / "score.json")
    (good / "scores.jsonl").write_text('{"prompt_id": "a", "claims": 2, "supported": 3, "words": 5}\n')
    with pytest.raises(DataError, match=r"scores.jsonl: does not match score.json"):  # edited: its sha256
        compare([good])


def test_cli_prints_the_table_writes_the_plot_and_fails_in_one_line(fake_registry, tmp_path):
    a = scored(tmp_path, "a", {"Ada Quill": TRUE, "Bruno Vell": HALF})
    b = scored(tmp_path, "b", {"Ada Quill": HALF, "Bruno Vell": FALSE})
    env = {**os.environ, "COLUMNS": "200"}
    cmd = [sys.executable, "-m", "facttune_core.cli", "compare"]
    ok = subprocess.run([*cmd, a.name, b.name, "--out", "cmp"], cwd=tmp_path, env=env, capture_output=True, text=True,
                        timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "(baseline)" in ok.stdout and "FActScore %" in ok.stdout and "cmp/compare.png" in ok.stdout
    assert (tmp_path / "cmp" / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "cmp" / "compare.html").exists() and (tmp_path / "cmp" / "compare.json").exists()
    bad = subprocess.run([*cmd, a.name, "missing"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines() == ["missing: no such folder"]


def test_a_folder_that_repeats_itself_shows_in_the_repeated_column(fake_registry, tmp_path):
    loop = "{t} was born in Lisbon. {t} was born in Lisbon. {t} was born in Lisbon."
    plain = scored(tmp_path, "plain", {"Ada Quill": TRUE, "Bruno Vell": TRUE})
    looped = scored(tmp_path, "looped", {"Ada Quill": loop, "Bruno Vell": loop})
    c = compare([plain, looped])
    p, lo = c.arms
    assert p.summary["repeated_share"] == 0.0
    # "Ada Quill was born in Lisbon" × 3: 18 words, 15 4-grams, 6 distinct
    assert lo.summary["repeated_share"] == pytest.approx(9 / 15)
    assert lo.difference["repeated_share"]["mean"] == pytest.approx(9 / 15)
    assert lo.summary["factscore"] == 1.0  # every sentence is true: FActScore does not see the loop
    from rich.console import Console

    con = Console(record=True, width=200)
    con.print(compare_table(c))
    text = con.export_text()
    assert "repeated %" in text and "60.0" in text

"""The judges plugin and `facttune judge`: model-free checks, the packaged MiniLM verifier, fitting,
evaluation against labels (the judge issue's bars on ../shared/data/judge-dev), synth, guard rails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from facttune_judges import text

from facttune_core import (
    Calibration,
    CallCache,
    Claim,
    ClaimVerifier,
    ConfigError,
    Context,
    Evidence,
    FacttuneError,
    Passage,
    auroc,
    build_component,
)
from facttune_core.testing import fake_recipe_text

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "judge-dev" / "claims.jsonl"
PLANCK = ("Max Karl Ernst Ludwig Planck was a German theoretical physicist whose discovery of energy quanta won "
          "him the Nobel Prize in Physics in 1918. Max Planck: German theoretical physicist (1858–1947).")


def claim(t: str, topic: str = "Max Planck", i: int = 0) -> Claim:
    return Claim(id=f"r{i}/c{i}", response_id=f"r{i}", prompt_id="p", text=t, topic=topic)


def ev(i: int = 0, body: str = PLANCK, topic: str = "Max Planck") -> Evidence:
    return Evidence(claim_id=f"r{i}/c{i}", passages=(Passage(title=topic, text=body),))


def found(t: str) -> dict[str, bool | None]:
    return {w.text: w.found for w in text.analyse(t, "Max Planck", text.Evidence.of(PLANCK))}


# ------------------------------------------------------------------------------ model-free analysis

def test_analyse_leaves_out_the_topic_and_checks_names_numbers_and_dates():
    assert found("Max Planck was a German physicist.") == {"German": True, "physicist": True}
    assert found("Max Planck was an Austrian physicist.")["Austrian"] is False
    assert found("Max Planck was born in 1858.") == {"born": True, "1858": True}
    assert found("Max Planck was born in 1860.") == {"born": False, "1860": False}
    assert found("Max Planck lived in the 19th century.") == {"lived": True, "19th century": True}
    assert found("Max Planck lived in the 18th century.")["18th century"] is False
    assert found("Max Planck won seven Nobel prizes.")["seven"] is False


def test_demonyms_match_their_country_but_not_lookalikes():
    e = text.Evidence.of("She was born in Italy and studied Islam in Austria.")
    assert e.has_name("Italian") and e.has_name("Islamic") and e.has_name("Austrian")
    assert not e.has_name("Australian") and not e.has_name("Maria")


def test_roles_are_found_when_stated_or_entailed_never_by_a_neighbour():
    e = text.Evidence.of("Giordano Bruno was an Italian philosopher and poet. He invented a memory system and "
                         "taught mathematics. Kubrick was an English filmmaker.")
    role = {w: e.has_role(w) for w in ("philosopher", "poets", "writer", "inventor", "mathematician", "director",
                                       "artist", "novelist", "physicist", "scientist", "publisher")}
    assert role == {"philosopher": True, "poets": True, "writer": True,  # stated; a poet is a writer
                    "inventor": True, "mathematician": True,  # the deed or field with the role's stem
                    "director": True,  # filmmaker
                    "artist": False, "novelist": False,  # neighbours of 'poet' that it does not entail
                    "physicist": False, "scientist": False, "publisher": False}
    kinds = {w.text: (w.kind, w.found) for w in text.analyse("Bruno was an artist and a British poet.", "Giordano Bruno",
                                                             text.Evidence.of("Bruno was an English poet."))}
    assert kinds == {"artist": ("role", False), "British": ("name", True), "poet": ("role", True)}
    assert text.role_key("Physicists") == "physicist" and text.role_key("physics") == ""


def consistency(**args) -> object:
    return build_component(ClaimVerifier, "judges/consistency", args, Context())


def test_consistency_flags_what_the_evidence_lacks():
    v = consistency()
    ok, bad, none = v.verify([claim("Max Planck was German.", i=0), claim("Max Planck was Dutch, born 1870.", i=1),
                              claim("Max Planck liked music.", i=2)], [ev(0), ev(1), ev(2)])
    assert ok.supported and ok.p_true == 1.0
    assert not bad.supported and bad.p_true == 0.0 and "Dutch" in bad.raw and "1870" in bad.raw
    assert none.supported and none.p_true == 1.0  # nothing to contradict: neutral
    no_ev = v.verify([claim("Max Planck was German.")], [None])[0]
    assert no_ev.supported is False and no_ev.raw == "no evidence"  # empty evidence is NS, not IR


# ------------------------------------------------------------------------------ the packaged encoder

@pytest.fixture(scope="module")
def support():
    return build_component(ClaimVerifier, "judges/support", {"fitted": "wiki-vital"}, Context(key="verify.args"))


def test_support_separates_stated_facts_from_changed_ones(support):
    texts = ["Max Planck was a German physicist.", "Max Planck won the Nobel Prize in Physics.",
             "Max Planck was born in 1858.",
             "Max Planck was a French physicist.", "Max Planck was born in 1871.",
             "Max Planck was a famous painter who loved horses.", "Max Planck studied chemistry in Paris."]
    vs = support.verify([claim(t, i=i) for i, t in enumerate(texts)], [ev(i) for i in range(len(texts))])
    assert [v.supported for v in vs] == [True, True, True, False, False, False, False]
    # a neighbouring role is what a tuned small model invents: similarity alone passed these
    roles = support.verify([claim(t, i=i) for i, t in enumerate(["Max Planck was a chemist.", "Max Planck was a scientist.",
                                                                  "Max Planck was an astronomer."])], [ev(i) for i in range(3)])
    assert [v.supported for v in roles] == [False, True, False]
    as_word = build_component(ClaimVerifier, "judges/support", {"fitted": "wiki-vital", "missing_role": None},
                              Context(key="verify.args"))
    assert as_word.verify([claim("Max Planck was a chemist.")], [ev()])[0].p_true > roles[0].p_true
    assert min(v.p_true for v in vs[:3]) > max(v.p_true for v in vs[3:])
    assert all(v.raw.startswith("score=") and "; cos_sent=" in v.raw for v in vs)
    assert support.verify([claim("Max Planck was German.")], [None])[0].supported is False


def test_support_needs_a_known_calibration(tmp_path):
    # checked with the args (facttune validate), before any model loads
    with pytest.raises(FacttuneError, match="wiki-vitl.*Did you mean 'wiki-vital'") as e:
        build_component(ClaimVerifier, "judges/support", {"fitted": "wiki-vitl"}, Context(), key="verify.args")
    assert str(e.value).startswith("verify.args.fitted: ")
    bad = tmp_path / "cal.json"
    bad.write_text("[1, 2]")
    with pytest.raises(FacttuneError, match="cal.json.*not a JSON object|cal.json.*expected a JSON object"):
        build_component(ClaimVerifier, "judges/support", {"fitted": str(bad)}, Context())
    bad.write_text('{"format": "other"}')
    with pytest.raises(FacttuneError, match="cal.json.*not a judge calibration file"):
        build_component(ClaimVerifier, "judges/support", {"fitted": str(bad)}, Context())


def test_calibration_round_trip_and_balanced_fit():
    from facttune_core.scoring.judging import fit_logistic

    x = [[0.1], [0.2], [0.3], [0.35], [0.6], [0.7], [0.8], [0.9]] + [[0.15]] * 20
    y = [0, 0, 0, 0, 1, 1, 1, 1] + [0] * 20
    w, b = fit_logistic(x, y)
    cal = Calibration.from_dict(json.loads(json.dumps(Calibration(weights=w, bias=b).to_dict())))
    assert 0.35 < -b / w[0] < 0.6  # balanced weights: the boundary sits between the classes, not at the prior
    assert cal.p_true(0.9) > 0.5 > cal.p_true(0.2)


# ------------------------------------------------------------------------------ ensemble

def test_ensemble_all_mean_and_errors(fake_registry, tmp_path):
    members = [{"component": "judges/consistency"}, {"component": "fake/verifier"}]
    claims = [claim("Max Planck was German.", i=0), claim("Max Planck was Dutch.", i=1)]
    evs = [ev(0, body="Max Planck was German."), ev(1, body="Max Planck was German.")]
    both = build_component(ClaimVerifier, "judges/ensemble", {"members": members}, Context())
    assert [v.supported for v in both.verify(claims, evs)] == [True, False]
    mean = build_component(ClaimVerifier, "judges/ensemble", {"members": members, "combine": "mean",
                                                                  "weights": [1, 3]}, Context())
    assert [round(v.p_true, 3) for v in mean.verify(claims, evs)] == [round((1 + 3 * 0.9) / 4, 3), round(0.3 / 4, 3)]
    with pytest.raises(Exception, match="weights: 1 given for 2 members"):
        build_component(ClaimVerifier, "judges/ensemble", {"members": members, "weights": [1]}, Context())
    with pytest.raises(ConfigError, match="needs a fitted file"):
        build_component(ClaimVerifier, "judges/ensemble", {"members": members, "combine": "logistic"}, Context())
    cal = tmp_path / "ens.json"
    cal.write_text(json.dumps(Calibration(weights=[2.0, 2.0], bias=-3.0).to_dict()))
    lg = build_component(ClaimVerifier, "judges/ensemble", {"members": members, "combine": "logistic",
                                                                "fitted": str(cal)}, Context())
    assert [v.supported for v in lg.verify(claims, evs)] == [True, False]


# ------------------------------------------------------------------------------ metrics

def test_auroc_and_reliability_by_hand():
    from facttune_core.scoring.judging import binary_report, reliability

    assert auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert auroc([0.5, 0.5], [0, 1]) == 0.5 and auroc([0.2], [1]) is None
    ece, bins = reliability([0.05, 0.05, 0.95, 0.95], [0, 0, 1, 0])
    assert abs(ece - (0.5 * 0.05 + 0.5 * 0.45)) < 1e-9 and len(bins) == 2
    rep = binary_report([1, 0, 0, 1], [0.9, 0.2, 0.4, 0.7], [1, 0, 1, 0])
    assert rep["confusion"] == {"gold_S_called_S": 1, "gold_S_called_NS": 1, "gold_NS_called_S": 1,
                                "gold_NS_called_NS": 1}
    assert rep["balanced_accuracy"] == 0.5 and rep["ns_precision"] == 0.5


# ------------------------------------------------------------------------------ the CLI

def facttune(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    e = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", "facttune_core.cli", *args], cwd=cwd, capture_output=True,
                          text=True, env=e, timeout=600)


def labelled_file(tmp_path: Path) -> Path:
    rows = []
    for i, who in enumerate(["Ada Quill", "Bruno Vell", "Carla Miro"]):
        passage = [{"title": who, "text": f"{who} was born in Lisbon. {who} worked as a cartographer."}]
        for j, (t, lab) in enumerate([(f"{who} was born in Lisbon.", "S"), (f"{who} was born in Oslo.", "NS"),
                                      (f"{who} worked as a cartographer.", "S"), (f"{who} won a medal.", "NS")]):
            rows.append({"id": f"{i}-{j}", "kind": "atomic" if j < 2 else "sentence", "topic": who, "claim": t,
                         "label": lab, "response_id": f"r{i}", "evidence": passage})
    path = tmp_path / "labelled.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


FAKES = {"FACTTUNE_PLUGINS": "facttune_core.testing"}


def test_judge_eval_reports_per_kind_and_writes_json_and_plot(tmp_path):
    recipe = tmp_path / "fake.toml"
    recipe.write_text(fake_recipe_text())
    out = tmp_path / "eval"
    r = facttune("judge", "eval", str(labelled_file(tmp_path)), "--recipe", str(recipe), "--out", str(out),
                 env={**FAKES, "FACTTUNE_CACHE_DIR": str(tmp_path / "c")})
    assert r.returncode == 0, r.stderr
    rep = json.loads((out / "judge-eval.json").read_text())
    assert rep["overall"]["n"] == 12 and rep["overall"]["auroc"] == 1.0 and rep["overall"]["balanced_accuracy"] == 1.0
    assert set(rep["kinds"]) == {"atomic", "sentence"} and rep["overall"]["response_mae"] == 0.0
    assert (out / "reliability.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "atomic" in r.stdout and "AUROC" in r.stdout


def test_judge_eval_retrieves_evidence_for_factscore_labelled_lines(tmp_path):
    recipe = tmp_path / "fake.toml"
    recipe.write_text(fake_recipe_text())
    line = {"topic": "Ada Quill", "output": "…", "annotations": [
        {"text": "s", "is-relevant": True, "human-atomic-facts": [
            {"text": "Ada Quill was born in Lisbon.", "label": "S"}, {"text": "Ada Quill was born in Oslo.", "label": "NS"},
            {"text": "Ada Quill died in 1950.", "label": "IR"}]}]}
    f = tmp_path / "fs.jsonl"
    f.write_text(json.dumps(line) + "\n")
    r = facttune("judge", "eval", str(f), "--recipe", str(recipe), "--out", str(tmp_path / "o"),
                 env={**FAKES, "FACTTUNE_CACHE_DIR": str(tmp_path / "c")})
    assert r.returncode == 0, r.stderr
    rep = json.loads((tmp_path / "o" / "judge-eval.json").read_text())
    assert rep["overall"]["n"] == 3 and rep["overall"]["confusion"]["gold_S_called_S"] == 1
    assert rep["overall"]["confusion"]["gold_NS_called_NS"] == 2  # IR counts as not supported


@pytest.mark.parametrize("line,needle", [
    ('{"topic": "A", "claim": "x", "label": "maybe"}', "line 1: label must be S, NS or IR"),
    ('{"topic": 3, "claim": "x", "label": "S"}', "line 1: topic must be a string"),
    ('{"hello": 1}', "line 1: neither a labelled claim"),
    ('not json', "line 1"),
])
def test_judge_eval_bad_lines_are_one_line_errors(tmp_path, line, needle):
    recipe = tmp_path / "fake.toml"
    recipe.write_text(fake_recipe_text())
    f = tmp_path / "bad.jsonl"
    f.write_text(line + "\n")
    r = facttune("judge", "eval", str(f), "--recipe", str(recipe), env=FAKES)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and str(f) in r.stderr and needle in r.stderr


def test_judge_fit_writes_a_calibration_with_held_out_figures(tmp_path):
    recipe = ROOT / "recipes" / "bio.toml"
    out = tmp_path / "cal.json"
    r = facttune("judge", "fit", str(labelled_file(tmp_path)), "--recipe", str(recipe), "--set",
                 'verify.args.fitted=""', "--out", str(out))
    assert r.returncode == 0, r.stderr
    cal = json.loads(out.read_text())
    assert cal["format"] == "facttune-judge-fit/1" and cal["component"] == "judges/support"
    assert cal["topics"] == ["Ada Quill", "Bruno Vell", "Carla Miro"] and cal["cv"]["scheme"] == "leave-one-topic-out"
    # the fitted file is what a recipe names
    v = build_component(ClaimVerifier, "judges/support", {"fitted": str(out)}, Context())
    assert v.calibration.weights == cal["weights"]
    assert cal["features"] == ["score"] and "weights score " in r.stdout
    # more features: named in the file, read back by name, in the file's order
    two = tmp_path / "cal2.json"
    r = facttune("judge", "fit", str(labelled_file(tmp_path)), "--recipe", str(recipe), "--set",
                 'verify.args.fitted=""', "--set", 'verify.args.fit_features=["only_words", "score"]', "--out", str(two))
    assert r.returncode == 0, r.stderr
    cal2 = json.loads(two.read_text())
    assert cal2["features"] == ["only_words", "score"] and len(cal2["weights"]) == 2
    v2 = build_component(ClaimVerifier, "judges/support", {"fitted": str(two)}, Context())
    claims, evs = [claim("Max Planck won the Nobel Prize in Physics."), claim("Max Planck loved horses.", i=1)], [ev(), ev(1)]
    f = v2._features(claims, evs)
    want = [v2.calibration.p_true(x["only_words"], x["score"]) for x, _ in f]
    assert [x["only_words"] for x, _ in f] == [0.0, 1.0]
    assert [v.p_true for v in v2.verify(claims, evs)] == pytest.approx(want)


def test_a_calibration_naming_an_unknown_feature_is_one_line(tmp_path):
    bad = tmp_path / "cal.json"
    bad.write_text(json.dumps(Calibration(weights=[1.0, 2.0], bias=0.0, features=["score", "colour"]).to_dict()))
    with pytest.raises(FacttuneError, match="verify.args.fitted.*unknown feature 'colour'.*known: score, only_words"):
        build_component(ClaimVerifier, "judges/support", {"fitted": str(bad)}, Context(key="verify.args"),
                        key="verify.args")
    bad.write_text(json.dumps(Calibration(weights=[1.0, 2.0], bias=0.0, features=["score"]).to_dict()))
    with pytest.raises(FacttuneError, match="1 features for 2 weights"):
        build_component(ClaimVerifier, "judges/support", {"fitted": str(bad)}, Context(key="verify.args"))
    # and what to fit on is checked with the args (facttune validate), before any model loads
    with pytest.raises(FacttuneError, match="fit_features: unknown feature 'only_word'. Did you mean 'only_words'"):
        build_component(ClaimVerifier, "judges/support", {"fit_features": ["score", "only_word"]}, Context(),
                        key="verify.args")


def test_judge_fit_refuses_a_verifier_without_features(tmp_path):
    recipe = tmp_path / "fake.toml"
    recipe.write_text(fake_recipe_text())
    r = facttune("judge", "fit", str(labelled_file(tmp_path)), "--recipe", str(recipe), "--out",
                 str(tmp_path / "x.json"), env=FAKES)
    assert r.returncode == 1 and "has nothing to fit" in r.stderr and "verify.component" in r.stderr


@pytest.mark.skipif(not DEV.exists(), reason="needs ../shared/data/judge-dev (CI has it)")
def test_embedded_verifier_meets_the_bars_on_judge_dev(tmp_path):
    """The judge issue's bars, with the verifier recipes/bio.toml names. The packaged calibration is
    fitted on other people (recipes/data/judge-train), so these figures are held out."""
    r = facttune("judge", "eval", str(DEV), "--recipe", "recipes/bio.toml", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    k = json.loads((tmp_path / "judge-eval.json").read_text())["kinds"]
    assert k["atomic"]["auroc"] >= 0.93 and k["atomic"]["balanced_accuracy"] >= 0.85
    assert k["sentence"]["response_mae"] <= 10
    assert k["paraphrase"]["auroc"] >= 0.85
    assert "in-sample" not in r.stdout
    from facttune_judges.fitting import load_fitted

    cal = load_fitted("wiki-vital")
    dev_people = {json.loads(x)["topic"] for x in DEV.read_text().splitlines() if x.strip()}
    assert not dev_people & set(cal["topics"]) and len(cal["topics"]) >= 90
    cv = cal["cv"]["kinds"]["atomic"]  # leave-one-person-out on the people it was fitted on
    assert cv["auroc"] >= 0.93 and cv["balanced_accuracy"] >= 0.85


def test_the_packaged_calibration_is_refitted_from_the_shipped_labels(tmp_path):
    """`facttune judge fit` on recipes/data/judge-train (blind labels of training people's biographies)
    writes the packaged calibration again: weights, features and people."""
    from facttune_judges.fitting import load_fitted

    packaged = load_fitted("wiki-vital")
    out = tmp_path / "cal.json"
    r = facttune("judge", "fit", "recipes/data/judge-train/bio-train-people.jsonl", "--recipe",
                 "recipes/paper/facttune-fs.toml", "--set", 'verify.args.fitted=""', "--set",
                 f'verify.args.fit_features={json.dumps(packaged["features"])}', "--out", str(out), "--no-cv")
    assert r.returncode == 0, r.stderr
    cal = json.loads(out.read_text())
    assert cal["features"] == packaged["features"] == ["score", "cos_sent"]
    assert cal["weights"] == pytest.approx(packaged["weights"], abs=1e-4)
    assert cal["bias"] == pytest.approx(packaged["bias"], abs=1e-4)
    assert cal["topics"] == packaged["topics"] and cal["claims"] == packaged["claims"]


def test_sentence_cosine_is_the_encoders_own_sentence_embedding(support):
    """cos_sent: the claim against each evidence sentence, mean-pooled last layer; 0 without evidence."""
    from facttune_judges.support import evidence_sentences

    assert evidence_sentences(PLANCK) == [PLANCK.split(". Max")[0] + ".", "Max" + PLANCK.split(". Max")[1]]
    assert evidence_sentences("He was born c. 1450 in Urbino. He died in 1520. 'Quoted.' (x)") == [
        "He was born c. 1450 in Urbino.", "He died in 1520.", "'Quoted.' (x)"]
    assert evidence_sentences("W. E. B. Du Bois was a sociologist. He lived in St. Louis.") == [
        "W. E. B. Du Bois was a sociologist.", "He lived in St. Louis."]
    first = PLANCK.split(". Max")[0] + "."
    cl = [claim(first), claim("Max Planck was a German physicist.", i=1), claim("Max Planck loved horses.", i=2),
          claim("Max Planck was a German physicist.", i=3)]
    cos = support.sentence_cosines(cl, [ev(0), ev(1), ev(2), None])
    assert cos[0] == pytest.approx(1.0, abs=1e-5)  # the evidence's own sentence
    assert cos[0] > cos[1] > cos[2] > 0 and cos[3] == 0.0
    # the same vectors as sentence-transformers' all-MiniLM-L6-v2 (mean pooling, normalised)
    from sentence_transformers import SentenceTransformer

    from facttune_core import resolve_model

    st = SentenceTransformer(str(resolve_model("all-minilm-l6-v2")), device="cpu")
    a, b = st.encode([cl[1].text, "Max Planck: German theoretical physicist (1858–1947)."], normalize_embeddings=True)
    assert cos[1] == pytest.approx(max(float(a @ b), float(a @ st.encode(first, normalize_embeddings=True))), abs=1e-4)
    # the packaged calibration weighs it: named in the features a fit sees
    feats = support._features(cl[:1], [ev(0)], ("cos_sent",))
    assert feats[0][0]["cos_sent"] == pytest.approx(cos[0])


# ------------------------------------------------------------------------------ synth

def test_synth_makes_labelled_claims_from_a_jsonl_source(tmp_path):
    docs = [("Ada Quill", "Ada Quill was a Portuguese cartographer, engraver and poet. She was born in Lisbon. "
             "Ada Quill: Portuguese cartographer (1850–1901)."),
            ("Bruno Vell", "Bruno Vell was an Italian composer and organist. He lived in Venice, where he taught."),
            ("Carla Miro", "Carla Miro was a Spanish painter and sculptor. Carla Miro: Spanish painter (1901–1977).")]
    src = tmp_path / "kb.jsonl"
    src.write_text("".join(json.dumps({"title": t, "text": x}) + "\n" for t, x in docs))
    excl = tmp_path / "excl.jsonl"
    excl.write_text(json.dumps({"topic": "Bruno Vell", "claim": "x", "label": "S"}) + "\n")
    out = tmp_path / "synth.jsonl"
    env = {"FACTTUNE_CACHE_DIR": str(tmp_path / "c")}
    r = facttune("judge", "synth", str(src), "--out", str(out), "--exclude", str(excl), "--per-topic", "6", env=env)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert {r["topic"] for r in rows} == {"Ada Quill", "Carla Miro"}
    labels = {(r["claim"], r["label"]) for r in rows}
    assert ("Ada Quill was born in 1850.", "S") in labels and ("Carla Miro was a sculptor.", "S") in labels
    for row in rows:
        if row["label"] == "NS" and row["how"] == "date-shift":
            assert not any(y in row["evidence"][0]["text"] for y in row["claim"].split() if y.strip(".").isdigit())
    assert any(r["label"] == "NS" for r in rows) and all(r["evidence"] for r in rows)
    again = tmp_path / "again.jsonl"
    facttune("judge", "synth", str(src), "--out", str(again), "--exclude", str(excl), "--per-topic", "6", env=env)
    assert again.read_text() == out.read_text()  # same seed, same claims


# ------------------------------------------------------------------------------ guard rails

def test_a_judge_that_calls_everything_supported_is_warned_about(tmp_path):
    recipe = tmp_path / "r.toml"
    # a judge that says yes to anything: an ensemble whose mean P(True) always clears a zero threshold
    recipe.write_text(fake_recipe_text(n_train=10, n=4, verify="judges/ensemble", verify_args={
        "members": [{"component": "judges/consistency"}], "combine": "mean", "threshold": 0.0}))
    r = facttune("run", str(recipe), "--run-dir", str(tmp_path / "run"), "--until", "verify",
                 env={**FAKES, "FACTTUNE_CACHE_DIR": str(tmp_path / "c")})
    assert r.returncode == 0, r.stderr
    m = json.loads(next((tmp_path / "run").glob("04-verify-*/manifest.json")).read_text())
    share = m["verdicts"]["supported_share"]
    assert share > 0.9 and m["verdicts"]["warning"].startswith(f"the judge called {share:.0%}")
    assert "warning" in r.stdout and "facttune judge eval" in r.stdout
    from facttune_core.report.html import write_report

    page = write_report(tmp_path / "run").read_text()
    assert "⚠" in page and "facttune judge eval" in page


def test_judge_eval_measures_an_api_judge_over_loopback_http(tmp_path):
    sys.path.insert(0, str(Path(__file__).parent))
    from api_server import FakeApiServer

    with FakeApiServer(api_key="sk-judge-test") as srv:
        recipe = tmp_path / "api.toml"
        recipe.write_text(fake_recipe_text(verify="openai/true-false", verify_args={
            "model": "judge", "base_url": srv.openai_url, "api_key_env": "FT_JUDGE_KEY", "timeout": 5.0}))
        out = tmp_path / "o"
        r = facttune("judge", "eval", str(labelled_file(tmp_path)), "--recipe", str(recipe), "--out", str(out),
                     env={**FAKES, "FT_JUDGE_KEY": "sk-judge-test", "FACTTUNE_CACHE_DIR": str(tmp_path / "c")})
        assert r.returncode == 0, r.stderr
        assert srv.answered >= 12  # every claim went over HTTP
    rep = json.loads((out / "judge-eval.json").read_text())
    assert rep["component"] == "openai/true-false" and rep["overall"]["n"] == 12
    assert rep["overall"]["auroc"] == 1.0 and rep["overall"]["balanced_accuracy"] == 1.0
    assert "sk-judge-test" not in (out / "judge-eval.json").read_text()


def test_kinds_by_name_build_the_recipe_verifier_as_outside_checks_call_it():
    """Held-out checks call build_component("claim_verifier", <bio.toml's [verify]>, <its args>)."""
    import tomllib

    table = tomllib.loads((ROOT / "recipes" / "bio.toml").read_text())["verify"]
    v = build_component("claim_verifier", table["component"], table.get("args", {}), Context(cache=CallCache(None)),
                        key="verify.args")
    assert v.verify([claim("Max Planck was a German physicist.")], [ev()])[0].supported
    with pytest.raises(Exception, match="unknown component kind 'claim_verifiers'. Did you mean 'claim_verifier'"):
        build_component("claim_verifiers", "judges/support", {}, Context())


def test_a_stage_whose_records_lost_lines_stops_with_one_line(tmp_path):
    """#11: a finished stage's records are checked against its manifest (count and sha256)."""
    recipe = tmp_path / "r.toml"
    recipe.write_text(fake_recipe_text(n_train=4, n=4))
    env = {**FAKES, "FACTTUNE_CACHE_DIR": str(tmp_path / "c")}
    run = tmp_path / "run"
    assert facttune("run", str(recipe), "--run-dir", str(run), "--until", "pairs", env=env).returncode == 0
    pairs = next(run.glob("06-pairs-*/records.jsonl"))
    lines = pairs.read_text().splitlines()
    assert len(lines) >= 2
    pairs.write_text("\n".join(lines[:-1]) + "\n")
    r = facttune("run", str(recipe), "--run-dir", str(run), "--until", "train", env=env)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and str(pairs) in r.stderr
    assert "does not match its manifest" in r.stderr and "--force-from pairs" in r.stderr
    assert not list(run.glob("07-train-*"))  # nothing trained on the damaged pairs
    r = facttune("run", str(recipe), "--run-dir", str(run), "--until", "train", "--force-from", "pairs", env=env)
    assert r.returncode == 0, r.stderr


def test_number_value_reads_decimal_digits_only():
    from facttune_judges.text import number_value

    assert number_value("1867") == 1867 and number_value("3rd") == 3 and number_value("seven") == 7
    assert number_value("²") is None and number_value("7²") is None  # superscripts are digits, not numbers

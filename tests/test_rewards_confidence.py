"""rewards/aq and rewards/ne: answer equivalence, confidence measures, sampling through sub-components."""

from __future__ import annotations

import importlib.util
import math

import pytest
from _rewards_fakes import ScriptedCtx, ScriptedGenerator, item
from facttune_rewards.confidence import (
    AQReward,
    NEReward,
    agrees,
    answer_key,
    confidence,
    equivalence_classes,
    normalize_answer,
    stem,
)

from facttune_core import Context, RewardCombiner, build_component

# ---------------------------------------------------------------- equivalence classes


def test_normalize_answer():
    assert normalize_answer("The  Trumpet!") == "trumpet"
    assert normalize_answer("Coyoacán, Mexico") == "coyoacan mexico"
    assert normalize_answer("Louis's band") == "louis band"


@pytest.mark.parametrize("a,b", [
    ("The trumpet", "trumpets"), ("Trumpet.", "a trumpet"), ("New York City", "city, New York"),
    ("in 1961", "1961"), ("cities", "City"), ("bosses", "the boss"), ("Harvard's", "Harvard"),
])
def test_equivalent_answers(a, b):
    assert answer_key(a) == answer_key(b)


@pytest.mark.parametrize("a,b", [("Paris", "Lyon"), ("1961", "1962"), ("New York", "York"), ("boss", "bo")])
def test_different_answers(a, b):
    assert answer_key(a) != answer_key(b)


def test_stem():
    assert [stem(w) for w in ("trumpets", "cities", "bosses", "boss", "us", "gas", "boxes")] == \
        ["trumpet", "city", "boss", "boss", "us", "gas", "box"]


def test_classes_and_measures_hand_computed():
    answers = ["Paris"] * 4 + ["paris."] + ["Lyon"] * 3 + ["Nice", ""]
    sizes = equivalence_classes(answers)
    assert sizes == [5, 3, 1, 1]
    assert confidence(sizes, "max_conf") == pytest.approx(0.5)
    assert confidence(sizes, "exp_conf") == pytest.approx(0.25 + 0.09 + 0.01 + 0.01)
    assert confidence(sizes, "neg_ent") == pytest.approx(0.5 * math.log(0.5) + 0.3 * math.log(0.3)
                                                         + 2 * 0.1 * math.log(0.1))
    assert confidence(sizes, "neg_ent") == pytest.approx(-1.16828245, abs=1e-7)


def test_empty_answers_never_agree():
    assert equivalence_classes(["", "", " "]) == [1, 1, 1]
    assert confidence([20], "max_conf") == 1.0 and confidence([20], "neg_ent") == 0.0


# ---------------------------------------------------------------- AQ


def _aq_parts():
    def ask(prompt: str, k: int) -> str:
        claim = prompt.rsplit("Statement:", 1)[1]
        if "born in Lisbon" in claim:
            return " Where was Ada Quill born?\nSubject: x"
        if "cartographer" in claim:
            return " What was Ada Quill's job?"
        return ""  # no question: the claim is skipped and counted

    def answer(prompt: str, k: int) -> str:
        q = prompt.rsplit("Q:", 1)[1]
        if "born" in q:
            return ("Lisbon\nQ: next question" if k < 15 else "Oslo")  # 15/20 agree
        return f"answer number {k}"  # 20 distinct answers

    return ScriptedGenerator(ask, "judge"), ScriptedGenerator(answer, "policy")


def _aq(measure="max_conf", ctx=None):
    qgen, agen = _aq_parts()
    ctx = ctx or ScriptedCtx(parts={"question_generator": qgen, "answer_generator": agen}, key="reward.args")
    cfg = AQReward.Config(measure=measure, question_generator={"component": "fake/generator"},
                          answer_generator={"component": "fake/generator", "args": {"model": "p"}})
    return AQReward(cfg, ctx), qgen, agen, ctx


def _aq_items():
    return [
        item("p", "p/r0", "Ada Quill was born in Lisbon. She was a cartographer.", ["S", "S"],
             claim_texts=["Ada Quill was born in Lisbon.", "Ada Quill worked as a cartographer."]),
        item("p", "p/r1", "Ada Quill sailed.", ["S", "S"],
             claim_texts=["Ada Quill was born in Lisbon.", "Ada Quill sailed the seas."]),
        item("p", "p/r2", "I have no information about her.", []),
        item("p", "p/r3", "Ada Quill sailed.", ["S"], claim_texts=["Ada Quill sailed the seas."]),
    ]


def test_aq_max_conf_mean_over_claims_and_sampling_settings(fake_registry):
    rew, qgen, agen, ctx = _aq()
    rows = rew.score(_aq_items())
    vals = [r[0].value for r in rows]
    # r0: born → 15/20 = 0.75, job → 1/20 = 0.05: mean 0.4; r1: born 0.75 (no question for "sailed")
    assert vals[0] == pytest.approx(0.4) and vals[1] == pytest.approx(0.75)
    assert vals[2] is None and vals[3] is None
    assert rows[0][0].details["per_claim"] == pytest.approx([0.75, 0.05])
    assert ctx.counters["abstentions"] == 1 and ctx.counters["aq_no_question"] == 2
    assert ctx.counters["aq_no_questions"] == 1
    # the sub-components were built from the config, errors keyed under reward.args
    assert ctx.built[0][1:] == ("fake/generator", {}, "reward.args.question_generator.args")
    assert ctx.built[1][1:] == ("fake/generator", {"model": "p"}, "reward.args.answer_generator.args")
    # one batched call each; questions greedy, answers: 20 samples, T 1.0, top_p 0.9, 15 tokens, newline stop
    [(qtexts, qn, qd)] = qgen.calls
    assert qn == 1 and qd.temperature == 0.0 and qd.chat is False and len(qtexts) == 5
    [(atexts, an, ad)] = agen.calls
    assert len(atexts) == 2  # distinct questions only
    assert (an, ad.temperature, ad.top_p, ad.max_new_tokens, ad.stop, ad.chat) == (20, 1.0, 0.9, 15, ("\n",), False)
    assert atexts[0].endswith("Q: Where was Ada Quill born?\nA:")


def test_aq_exp_conf_and_neg_ent(fake_registry):
    rew, *_ = _aq("exp_conf")
    v = rew.score(_aq_items()[:1])[0][0].value
    born = 0.75 ** 2 + 0.25 ** 2
    job = 20 * 0.05 ** 2
    assert v == pytest.approx((born + job) / 2)
    rew, *_ = _aq("neg_ent")
    v = rew.score(_aq_items()[:1])[0][0].value
    born = 0.75 * math.log(0.75) + 0.25 * math.log(0.25)
    job = math.log(0.05)
    assert v == pytest.approx((born + job) / 2)


def test_aq_with_fake_generators_through_the_registry(fake_registry):
    args = {"question_generator": {"component": "fake/generator"},
            "answer_generator": {"component": "fake/generator", "args": {"p_true": 0.5}}, "n_samples": 4}
    ctx = Context()
    rew = build_component(RewardCombiner, "rewards/aq", args, ctx, key="reward.args")
    items = _aq_items()[:2]
    first = [r[0].value for r in rew.score(items)]
    assert all(v is not None and 0.0 < v <= 1.0 for v in first)
    misses = ctx.cache.stats.misses
    again = [r[0].value for r in build_component(RewardCombiner, "rewards/aq", args, ctx).score(items)]
    assert again == first and ctx.cache.stats.misses == misses  # all from the call cache


def test_aq_bad_sub_component_fails_validation_before_any_model_loads(fake_registry):
    from facttune_core import FacttuneError

    with pytest.raises(FacttuneError) as err:
        build_component(RewardCombiner, "rewards/aq", {"answer_generator": {"component": "fake/generatr"}},
                        Context(), key="reward.args")
    assert "reward.args.answer_generator" in str(err.value) and "Did you mean 'fake/generator'" in str(err.value)
    with pytest.raises(FacttuneError, match="reward.args.answer_generator: fake/generator: args.n"):
        build_component(RewardCombiner, "rewards/aq",
                        {"answer_generator": {"component": "fake/generator", "args": {"n": 0}}}, Context(),
                        key="reward.args")
    with pytest.raises(FacttuneError, match="reward.args.answer_generator: required"):
        build_component(RewardCombiner, "rewards/aq", {}, Context(), key="reward.args")


# ---------------------------------------------------------------- NE

needs_spacy = pytest.mark.skipif(importlib.util.find_spec("spacy") is None, reason="spaCy not installed")


def test_ne_agreement_rule():
    assert agrees(" Pensacola, Florida", "Pensacola") and agrees("pensacola", "Pensacola")
    assert not agrees("Miami", "Pensacola") and not agrees("", "Pensacola")
    assert agrees("the Harvard University in", "Harvard University")
    assert not agrees("Harvard", "Harvard University")  # a cut-off sample does not agree


TEXT = "Ada Quill was born in Pensacola. She studied at Harvard University."


def _ne(**kw):
    def cont(prompt: str, k: int) -> str:
        if prompt.endswith("born in"):
            return [" Pensacola", " Pensacola, Florida", " Miami", " pensacola."][k]
        if prompt.endswith("studied at"):
            return [" Harvard University", " Yale", " Yale", " Yale"][k]
        return " something"

    gen = ScriptedGenerator(cont, "policy")
    ctx = ScriptedCtx(parts={"generator": gen}, key="reward.args")
    cfg = NEReward.Config(generator={"component": "fake/generator"}, n_samples=4, **kw)
    return NEReward(cfg, ctx), gen, ctx


@needs_spacy
def test_ne_spans_skip_subject_root_and_pronouns(fake_registry):
    rew, _, _ = _ne(spans="both")
    [spans] = rew.spans([item("p", "p/r0", TEXT, [], topic="Ada Quill")])
    texts = [t for _s, _e, t in spans]
    assert "Pensacola" in texts and "Harvard University" in texts
    assert not any(t in ("Ada Quill", "She", "Ada") for t in texts)


@needs_spacy
def test_ne_confidence_mean_and_prefix(fake_registry):
    rew, gen, ctx = _ne()
    rows = rew.score([item("p", "p/r0", TEXT, [], topic="Ada Quill", prompt="Tell me a bio of Ada Quill."),
                      item("p", "p/r1", "She was nice.", [], topic="Ada Quill")])
    # Pensacola: 3/4 agree; Harvard University: 1/4 → mean 0.5
    r = rows[0][0]
    assert r.name == "ne" and r.value == pytest.approx(0.5)
    assert r.details["entities"] == ["Pensacola", "Harvard University"]
    assert rows[1][0].value is None and ctx.counters["ne_no_entities"] == 1
    prompts = [p for texts, _n, _d in gen.calls for p in texts]
    assert "Tell me a bio of Ada Quill.\nAda Quill was born in" in prompts
    budgets = sorted(d.max_new_tokens for _t, _n, d in gen.calls)
    assert budgets == [math.ceil(len(" Pensacola") / 3) + 1, math.ceil(len(" Harvard University") / 3) + 1]
    assert all(n == 4 and d.chat is False for _t, n, d in gen.calls)


@needs_spacy
def test_ne_uses_generator_token_count_when_it_has_one(fake_registry):
    rew, gen, _ = _ne()
    gen.count_tokens = lambda text: len(text.split())  # type: ignore[attr-defined]
    rew.score([item("p", "p/r0", TEXT, [], topic="Ada Quill")])
    assert sorted(d.max_new_tokens for _t, _n, d in gen.calls) == [1 + 1, 2 + 1]


@needs_spacy
def test_ne_missing_spacy_model_is_a_config_error(fake_registry):
    from facttune_core import ConfigError

    with pytest.raises(ConfigError, match="spaCy"):
        _ne(spacy_model="xx_no_such_model")

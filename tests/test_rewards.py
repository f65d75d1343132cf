"""rewards/factscore, rewards/f1k, rewards/belief: formulas pinned on hand-computed cases."""

from __future__ import annotations

import math

import pytest
from _rewards_fakes import item
from facttune_rewards.factscore import BeliefReward, F1KReward, FactScoreReward

from facttune_core import (
    ComponentError,
    Context,
    DataError,
    PairsConfig,
    RewardCombiner,
    Verdict,
    build_component,
    build_pairs,
    get_registry,
)


def fs(ctx=None, **kw):
    return FactScoreReward(FactScoreReward.Config(**kw), ctx or Context())


def one(reward, it):
    [[r]] = reward.score([it])
    return r


# ---------------------------------------------------------------- FActScore


def test_factscore_plain_fraction_gamma_off():
    r = one(fs(gamma=0), item("p", "p/r0", "text", ["S", "S", "S", "NS"]))
    assert r.name == "factscore" and r.value == pytest.approx(0.75)
    assert r.details == {"supported": 3, "claims": 4, "unsupported": 1, "irrelevant": 0}


def test_factscore_gamma_penalty_hand_computed():
    # n = 4 < γ = 10: 0.75 · exp(1 − 10/4) = 0.75 · e^−1.5 = 0.167347...
    r = one(fs(), item("p", "p/r0", "text", ["S", "S", "S", "NS"]))
    assert r.value == pytest.approx(0.75 * math.exp(-1.5)) and r.value == pytest.approx(0.16734762, abs=1e-8)
    assert r.details["unpenalized"] == pytest.approx(0.75)
    # n = 10 = γ: no penalty (only n < γ is penalised)
    r10 = one(fs(gamma=10), item("p", "p/r1", "text", ["S"] * 7 + ["NS"] * 3))
    assert r10.value == pytest.approx(0.7)
    # γ = 5, n = 2, both supported: exp(1 − 2.5) = e^−1.5
    r2 = one(fs(gamma=5), item("p", "p/r2", "text", ["S", "S"]))
    assert r2.value == pytest.approx(math.exp(-1.5))


def test_soft_factscore_is_the_mean_p_true_with_the_same_length_prior():
    # P(True) 0.9, 0.2, 0.4 (IR: 0), n = 4 < γ = 8: (0.9 + 0.2 + 0.4 + 0) / 4 · exp(1 − 8/4) = 0.375 · e^−1
    it = item("p", "p/r0", "text", ["S", "NS", "NS", "IR"], p_true=[0.9, 0.2, 0.4, 0.7])
    r = one(fs(gamma=8, soft=True), it)
    assert r.value == pytest.approx(0.375 * math.exp(-1))
    assert r.details["hard"] == pytest.approx(0.25 * math.exp(-1))  # the hard count beside it
    # IR left out: (0.9 + 0.2 + 0.4) / 3 · exp(1 − 8/3)
    assert one(fs(gamma=8, soft=True, irrelevant="exclude"), it).value == pytest.approx(0.5 * math.exp(1 - 8 / 3))
    # two responses the hard count ties (no claim supported) are told apart; a verdict without P(True) counts 0/1
    a = one(fs(gamma=0, soft=True), item("p", "p/r1", "t", ["NS", "NS"], p_true=[0.45, 0.4]))
    b = one(fs(gamma=0, soft=True), item("p", "p/r2", "t", ["NS", "NS"], p_true=[0.1, 0.2]))
    assert a.value == pytest.approx(0.425) and b.value == pytest.approx(0.15)
    assert one(fs(gamma=0, soft=True), item("p", "p/r3", "t", ["S", "NS"])).value == pytest.approx(0.5)


def test_factscore_ir_counts_unsupported_or_excluded():
    it = item("p", "p/r0", "text", ["S", "S", "IR", "NS"])
    assert one(fs(gamma=0), it).value == pytest.approx(0.5)
    assert one(fs(gamma=0, irrelevant="exclude"), it).value == pytest.approx(2 / 3)
    assert one(fs(gamma=0), it).details["irrelevant"] == 1


def test_factscore_abstention_and_empty_are_none_and_counted():
    ctx = Context()
    rows = fs(ctx).score([item("p", "p/r0", "I don't know this person.", []), item("p", "p/r1", "  ", []),
                          item("p", "p/r2", "x", ["S"])])
    assert [r[0].value for r in rows][:2] == [None, None]
    assert rows[0][0].details["reason"] == "abstentions" and rows[1][0].details["reason"] == "empty_responses"
    assert ctx.counters["abstentions"] == 1 and ctx.counters["empty_responses"] == 1


def test_factscore_undecided_verdict_counts_unsupported_and_is_counted():
    ctx = Context()
    r = one(fs(ctx, gamma=0), item("p", "p/r0", "text", ["S", None]))
    assert r.value == pytest.approx(0.5) and ctx.counters["undecided_verdicts"] == 1


def test_factscore_claims_without_verdicts_is_an_error():
    it = item("p", "p/r0", "text", ["S", "S"])
    bare = type(it)(prompt=it.prompt, response=it.response, claims=it.claims, verdicts=())
    with pytest.raises(DataError, match="no verdicts"):
        fs().score([bare])
    partial = type(it)(prompt=it.prompt, response=it.response, claims=it.claims, verdicts=it.verdicts[:1])
    with pytest.raises(DataError, match="p/r0/c1"):
        fs().score([partial])


def test_factscore_matches_verdicts_by_claim_id_not_position():
    it = item("p", "p/r0", "text", ["S", "NS", "NS"])
    shuffled = type(it)(prompt=it.prompt, response=it.response, claims=it.claims,
                        verdicts=tuple(reversed(it.verdicts)))
    assert one(fs(gamma=0), shuffled).value == pytest.approx(1 / 3)


def test_factscore_custom_name_and_config_errors():
    assert one(fs(name="fs10"), item("p", "p/r0", "t", ["S"])).name == "fs10"
    with pytest.raises(ValueError):
        FactScoreReward.Config(gamma=-1)
    with pytest.raises(ValueError):
        FactScoreReward.Config(gama=3)


# ---------------------------------------------------------------- F1@K


def test_f1_at_k_hand_computed_ir_excluded_from_precision():
    it = item("p", "p/r0", "text", ["S", "S", "S", "NS", "IR", "IR"])
    # P = 3/4, R = min(1, 3/4) = 3/4 → F1 = 0.75
    r = one(F1KReward(F1KReward.Config(k=4), Context()), it)
    assert r.value == pytest.approx(0.75)
    assert r.details["precision"] == pytest.approx(0.75) and r.details["recall"] == pytest.approx(0.75)
    # K = 64: R = 3/64; F1 = 2·0.75·0.046875 / 0.796875 = 0.0882352...
    r64 = one(F1KReward(F1KReward.Config(), Context()), it)
    assert r64.details["k"] == 64 and r64.value == pytest.approx(0.0703125 / 0.796875)
    # K = 2: recall capped at 1 → F1 = 2·0.75/1.75
    assert one(F1KReward(F1KReward.Config(k=2), Context()), it).value == pytest.approx(1.5 / 1.75)


def test_f1_at_k_zero_supported_is_zero_no_claims_is_none():
    ctx = Context()
    rew = F1KReward(F1KReward.Config(k=4), ctx)
    assert one(rew, item("p", "p/r0", "t", ["NS", "IR"])).value == 0.0
    assert one(rew, item("p", "p/r1", "t", [])).value is None and ctx.counters["abstentions"] == 1


# ---------------------------------------------------------------- belief


def test_belief_mean_and_min():
    it = item("p", "p/r0", "t", ["S", "S", "NS"], p_true=[0.9, 0.5, 0.2])
    mean_r = one(BeliefReward(BeliefReward.Config(), Context()), it)
    assert mean_r.name == "belief" and mean_r.value == pytest.approx(1.6 / 3)
    assert one(BeliefReward(BeliefReward.Config(aggregate="min"), Context()), it).value == pytest.approx(0.2)


def test_belief_missing_or_bad_p_true():
    it = item("p", "p/r0", "t", ["S", "NS"], p_true=[0.8, None])
    with pytest.raises(ComponentError, match="no p_true"):
        BeliefReward(BeliefReward.Config(), Context(key="reward.args")).score([it])
    ctx = Context()
    r = one(BeliefReward(BeliefReward.Config(missing_p_true="use_supported"), ctx), it)
    assert r.value == pytest.approx(0.4) and ctx.counters["belief_p_true_from_supported"] == 1
    nan = item("p", "p/r1", "t", ["S"], p_true=[float("nan")])
    with pytest.raises(ComponentError, match="not a probability"):
        BeliefReward(BeliefReward.Config(), Context()).score([nan])


def test_belief_then_sft_filter_keeps_above_threshold_and_top_fraction():
    items = [item("p", f"p/r{i}", f"resp {i}", ["S"], p_true=[v], sample=i) for i, v in enumerate([0.9, 0.3, 0.6])]
    rewards = [r for row in BeliefReward(BeliefReward.Config(), Context()).score(items) for r in row]
    prompts = [items[0].prompt]
    responses = [it.response for it in items]
    sel = build_pairs(PairsConfig(mode="sft_filter", reward="belief", threshold=0.5), prompts, responses, rewards)
    assert [(e.id, e.score) for e in sel.sft] == [("p/r0", 0.9), ("p/r2", 0.6)]
    sel = build_pairs(PairsConfig(mode="sft_filter", reward="belief", top_fraction=0.34), prompts, responses, rewards)
    assert [e.id for e in sel.sft] == ["p/r0", "p/r2"]  # ceil(0.34 · 3) = 2


# ---------------------------------------------------------------- registry / NaN guard


def test_rewards_plugin_registers_its_components(fake_registry):
    reg = get_registry()
    for name in ("factscore", "f1k", "belief", "aq", "ne", "flame"):
        assert f"rewards/{name}" in reg.components["reward_combiner"]
    assert "rewards/flame-sft" in reg.components["generator"]
    assert "rewards/factscore-labeled" in reg.components["prompt_source"]


def test_build_by_name_and_unknown_reward_name(fake_registry):
    rew = build_component(RewardCombiner, "rewards/factscore", {"gamma": 0}, Context(), key="reward.args")
    assert one(rew, item("p", "p/r0", "t", ["S", "NS"])).value == 0.5
    from facttune_core import UnknownComponentError

    with pytest.raises(UnknownComponentError, match="rewards/factscore"):
        build_component(RewardCombiner, "rewards/factscor", {}, Context())


def test_nan_reward_is_an_error_not_a_number():
    from facttune_rewards.common import make_reward

    with pytest.raises(ComponentError, match="not a number"):
        make_reward(item("p", "p/r0", "t", ["S"]), "x", float("nan"), {}, "reward.args")


def test_verdict_label_defaults_from_supported():
    assert Verdict(claim_id="c", supported=True).label == "S"

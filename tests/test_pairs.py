"""facttune_core.pairs: every mode on hand-computed cases (ties, margins, None, NaN, FLAME union)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from facttune_core import DataError, PairsConfig, Prompt, Response, Reward, build_pairs


def setup(values: dict[str, list[float | None]], pid: str = "p", meta: list[dict] | None = None):
    """One prompt; response k gets values[name][k] for each reward name."""
    n = len(next(iter(values.values())))
    prompt = Prompt(id=pid, text=f"prompt {pid}")
    responses = [Response(id=f"{pid}/r{k}", prompt_id=pid, text=f"{pid} response {k}", sample=k,
                          meta=(meta[k] if meta else {})) for k in range(n)]
    rewards = [Reward(response_id=f"{pid}/r{k}", prompt_id=pid, name=name, value=vs[k])
               for name, vs in values.items() for k in range(n)]
    return [prompt], responses, rewards


def run(cfg: dict, *groups):
    prompts, responses, rewards = [], [], []
    for p, r, w in groups:
        prompts += p
        responses += r
        rewards += w
    return build_pairs(PairsConfig(**cfg), prompts, responses, rewards)


def ids(sel):
    return [(p.chosen_id, p.rejected_id) for p in sel.pairs]


# ---------------------------------------------------------------- all_pairs (FactTune)


def test_all_pairs_ties_dropped_none_skipped_higher_is_chosen():
    sel = run({"mode": "all_pairs", "reward": "factscore"}, setup({"factscore": [0.5, 0.9, 0.5, None]}))
    # (r0,r1): 0.9 > 0.5 → r1 chosen; (r0,r2) tie dropped; (r1,r2) → r1 chosen; r3 has no reward
    assert ids(sel) == [("p/r1", "p/r0"), ("p/r1", "p/r2")]
    assert sel.counts["dropped_ties"] == 1 and sel.counts["skipped_no_reward"] == 1
    assert sel.counts["pairs"] == 2 and sel.counts["pairs_factscore"] == 2
    p = sel.pairs[0]
    assert (p.chosen, p.rejected, p.prompt) == ("p response 1", "p response 0", "prompt p")
    assert p.margin == pytest.approx(0.4) and p.to_dict()["margin"] == pytest.approx(0.4)
    assert p.reward == "factscore" and p.id == "p/factscore/1>0"


def test_all_pairs_n_choose_2_when_all_differ():
    sel = run({"mode": "all_pairs"}, setup({"factscore": [0.1, 0.2, 0.3, 0.4, 0.5]}))
    assert len(sel.pairs) == 10  # C(5, 2)
    assert all(p.chosen_reward > p.rejected_reward for p in sel.pairs)


def test_min_margin_is_strict():
    # margins: 0.75-0.5 = 0.25 (not > 0.25: dropped), 0.75-0.25 = 0.5 (kept), 0.5-0.25 = 0.25 (dropped)
    sel = run({"mode": "all_pairs", "min_margin": 0.25}, setup({"factscore": [0.75, 0.5, 0.25]}))
    assert ids(sel) == [("p/r0", "p/r2")] and sel.counts["dropped_ties"] == 2


def test_max_pairs_per_prompt_keeps_largest_margins():
    sel = run({"mode": "all_pairs", "max_pairs_per_prompt": 2}, setup({"factscore": [0.0, 0.5, 1.0]}))
    assert sorted(p.margin for p in sel.pairs) == [0.5, 1.0]
    assert ("p/r2", "p/r0") in ids(sel)


def test_prompts_are_paired_separately():
    sel = run({"mode": "all_pairs"}, setup({"factscore": [0.1, 0.9]}, "a"), setup({"factscore": [0.3, 0.3]}, "b"))
    assert ids(sel) == [("a/r1", "a/r0")] and sel.counts["prompts"] == 2


# ---------------------------------------------------------------- max_min, weighted


def test_max_min_best_vs_worst_and_all_ties():
    sel = run({"mode": "max_min"}, setup({"factscore": [0.5, 0.9, 0.1, 0.7]}))
    assert ids(sel) == [("p/r1", "p/r2")]
    sel = run({"mode": "max_min"}, setup({"factscore": [0.5, 0.5, None]}))
    assert sel.pairs == [] and sel.counts["dropped_ties"] == 1
    sel = run({"mode": "max_min", "min_margin": 0.8}, setup({"factscore": [0.1, 0.9]}))
    assert sel.pairs == []  # margin 0.8 is not > 0.8


def test_weighted_sum_then_all_pairs_rule():
    # a + 0.5·b: r0 = 0.5 + 0.5 = 1.0, r1 = 1.0 + 0 = 1.0 (tie), r2 = 0 + 0.25 = 0.25, r3: b is None → skipped
    sel = run({"mode": "weighted", "weights": {"a": 1.0, "b": 0.5}},
              setup({"a": [0.5, 1.0, 0.0, 1.0], "b": [1.0, 0.0, 0.5, None]}))
    assert ids(sel) == [("p/r0", "p/r2"), ("p/r1", "p/r2")]
    assert all(p.reward == "weighted" and p.chosen_reward == pytest.approx(1.0) for p in sel.pairs)
    assert sel.counts["dropped_ties"] == 1 and sel.counts["skipped_no_reward"] == 1


# ---------------------------------------------------------------- FLAME


def test_flame_union_if_pairs_for_all_factuality_for_fact_seeking():
    fact = setup({"instruction": [0.9, 0.2, 0.5], "factuality": [0.1, 0.8, 0.5], "fact_seeking": [1.0, 1.0, 1.0]},
                 "bio")
    creative = setup({"instruction": [0.3, 0.7, 0.7], "factuality": [None, None, None],
                      "fact_seeking": [0.0, 0.0, 0.0]}, "poem")
    sel = run({"mode": "flame"}, fact, creative)
    assert sorted((p.reward, p.chosen_id, p.rejected_id) for p in sel.pairs) == [
        ("factuality", "bio/r1", "bio/r0"),
        ("instruction", "bio/r0", "bio/r1"),
        ("instruction", "poem/r1", "poem/r0"),  # max picks the first of the tied best
    ]
    assert sel.counts["fact_seeking_prompts"] == 1
    assert sel.counts["pairs_instruction"] == 2 and sel.counts["pairs_factuality"] == 1


def test_flame_same_pair_from_both_rewards_is_kept_once():
    sel = run({"mode": "flame"}, setup({"instruction": [0.9, 0.1], "factuality": [0.8, 0.2],
                                        "fact_seeking": [1.0, 1.0]}))
    assert ids(sel) == [("p/r0", "p/r1")] and sel.counts["duplicate_pairs"] == 1


def test_flame_without_flag_reward_uses_factuality_presence():
    fact = setup({"instruction": [0.9, 0.2], "factuality": [0.1, 0.8]}, "bio")
    creative = setup({"instruction": [0.3, 0.7], "factuality": [None, None]}, "poem")
    sel = run({"mode": "flame"}, fact, creative)
    assert sel.counts["fact_seeking_prompts"] == 1 and sel.counts["pairs_factuality"] == 1


# ---------------------------------------------------------------- SFT modes


def test_sft_every_response_with_its_source():
    sel = run({"mode": "sft"}, setup({"x": [None, None]}, meta=[{"source": "model"}, {"source": "human"}]))
    assert [(e.id, e.completion, e.source) for e in sel.sft] == [("p/r0", "p response 0", "model"),
                                                                 ("p/r1", "p response 1", "human")]
    assert sel.pairs == [] and sel.counts["sft_examples"] == 2


def test_sft_filter_threshold_top_fraction_and_both():
    g = setup({"belief": [0.2, 0.9, 0.6, None, 0.5]})
    sel = run({"mode": "sft_filter", "reward": "belief", "threshold": 0.5}, g)
    assert [e.id for e in sel.sft] == ["p/r1", "p/r2", "p/r4"]  # ≥ threshold, best first
    assert sel.counts["sft_dropped"] == 1 and sel.counts["skipped_no_reward"] == 1
    sel = run({"mode": "sft_filter", "reward": "belief", "top_fraction": 0.5}, g)
    assert [e.id for e in sel.sft] == ["p/r1", "p/r2"]  # ceil(0.5 · 4 scored) = 2
    sel = run({"mode": "sft_filter", "reward": "belief", "top_fraction": 0.1}, g)
    assert [e.id for e in sel.sft] == ["p/r1"]  # at least one
    sel = run({"mode": "sft_filter", "reward": "belief", "top_fraction": 0.75, "threshold": 0.55}, g)
    assert [(e.id, e.score) for e in sel.sft] == [("p/r1", 0.9), ("p/r2", 0.6)]  # top 3, then ≥ 0.55


# ---------------------------------------------------------------- bad input


def test_nan_reward_is_an_error():
    with pytest.raises(DataError, match="not a number"):
        run({"mode": "all_pairs"}, setup({"factscore": [0.5, float("nan")]}))
    with pytest.raises(DataError, match="not a number"):
        run({"mode": "all_pairs"}, setup({"factscore": [0.5, float("inf")]}))


def test_unknown_reward_name_is_an_error_naming_what_exists():
    with pytest.raises(DataError, match="'fs' was not produced.*produced: factscore") as err:
        run({"mode": "all_pairs", "reward": "fs"}, setup({"factscore": [0.5, 0.2]}))
    assert err.value.key == "pairs.reward"
    with pytest.raises(DataError, match="'factuality'"):
        run({"mode": "flame"}, setup({"instruction": [0.5, 0.2]}))


def test_response_of_unknown_prompt_is_an_error():
    prompts, responses, rewards = setup({"factscore": [0.5, 0.2]})
    with pytest.raises(DataError, match="names prompt 'p'"):
        build_pairs(PairsConfig(), [], responses, rewards)


@pytest.mark.parametrize("cfg", [
    {"mode": "weighted"}, {"mode": "sft_filter"}, {"mode": "sft_filter", "top_fraction": 0.0},
    {"mode": "all_pairs", "min_margin": -0.1}, {"mode": "nope"}, {"mode": "all_pairs", "margin": 0.1},
])
def test_bad_configs(cfg):
    with pytest.raises(ValidationError):
        PairsConfig(**cfg)

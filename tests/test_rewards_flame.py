"""rewards/flame (split rewards), rewards/flame-sft (SFT-fact data), and FLAME's pair modes on them."""

from __future__ import annotations

import math

import pytest
from _rewards_fakes import ScriptedCtx, ScriptedGenerator, item
from facttune_rewards.flame import FlameReward, FlameSFT
from facttune_rewards.prompts import instruction_rating_prompt, parse_rating

from facttune_core import (
    Context,
    DataError,
    PairsConfig,
    Prompt,
    RewardCombiner,
    build_component,
    build_pairs,
)


def judge_script(prompt: str, k: int) -> str:
    if prompt.endswith("Fact-seeking:"):
        ins = prompt.rsplit("Instruction:", 1)[1]
        return " Yes" if "bio" in ins else (" No" if "poem" in ins else " maybe")
    if prompt.endswith("Rating:"):
        resp = prompt.rsplit("Response:", 1)[1]
        return {"A": " 8", "B": " 3", "C": " great"}[resp.strip()[0]]
    raise AssertionError(prompt)


def items():
    bio = "Tell me a bio of Ada Quill."
    poem = "Write a poem about cats."
    return [
        item("bio", "bio/r0", "A: Ada Quill was born in Lisbon.", ["S", "NS"], prompt=bio, sample=0),
        item("bio", "bio/r1", "B: Ada Quill was born in Lisbon.", ["S", "S"], prompt=bio, sample=1),
        item("poem", "poem/r0", "A cat sleeps.", ["S"], prompt=poem, topic=None, sample=0),
        item("poem", "poem/r1", "B cats.", [], prompt=poem, topic=None, sample=1),
        item("poem", "poem/r2", "C cats.", [], prompt=poem, topic=None, sample=2),
    ]


def flame(**kw):
    judge = ScriptedGenerator(judge_script, "judge")
    ctx = ScriptedCtx(parts={"judge": judge}, key="reward.args")
    return FlameReward(FlameReward.Config(judge={"component": "fake/generator"}, **kw), ctx), judge, ctx


def table(rows):
    return {(r.response_id, r.name): r.value for row in rows for r in row}


def test_rating_prompt_and_parser():
    p = instruction_rating_prompt("Write a poem.", "Roses are red.")
    assert p.endswith("Instruction: Write a poem.\nResponse: Roses are red.\nRating:")
    assert parse_rating(" 8") == 8 and parse_rating("7/10") == 7 and parse_rating("Rating: 10.") == 10
    assert parse_rating("11") is None and parse_rating("0") is None and parse_rating("great") is None
    assert parse_rating("6.5") is None and parse_rating("9.0") == 9


def test_flame_split_rewards(fake_registry):
    rew, judge, ctx = flame()
    t = table(rew.score(items()))
    assert t[("bio/r0", "fact_seeking")] == 1.0 and t[("poem/r0", "fact_seeking")] == 0.0
    assert t[("bio/r0", "instruction")] == pytest.approx(7 / 9)  # rating 8 → (8 − 1) / 9
    assert t[("bio/r1", "instruction")] == pytest.approx(2 / 9)  # rating 3
    assert t[("poem/r2", "instruction")] is None and ctx.counters["instruction_rating_unparsed"] == 1
    assert t[("bio/r0", "factuality")] == pytest.approx(0.5) and t[("bio/r1", "factuality")] == 1.0
    assert t[("poem/r0", "factuality")] is None and t[("poem/r1", "factuality")] is None
    # the fact-seeking judge is asked once per distinct instruction, greedy, plain prompt
    fs_calls = [c for c in judge.calls if c[0][0].endswith("Fact-seeking:")]
    assert len(fs_calls) == 1 and len(fs_calls[0][0]) == 2
    assert fs_calls[0][2].temperature == 0.0 and fs_calls[0][2].chat is False


def test_flame_pairs_union(fake_registry):
    rew, _, _ = flame()
    its = items()
    rewards = [r for row in rew.score(its) for r in row]
    prompts = list({it.prompt.id: it.prompt for it in its}.values())
    sel = build_pairs(PairsConfig(mode="flame"), prompts, [it.response for it in its], rewards)
    assert sorted((p.reward, p.chosen_id, p.rejected_id) for p in sel.pairs) == [
        ("factuality", "bio/r1", "bio/r0"), ("instruction", "bio/r0", "bio/r1"),
        ("instruction", "poem/r0", "poem/r1")]


def test_flame_gamma_and_prompt_meta_override(fake_registry):
    rew, judge, _ = flame(gamma=4)
    its = [item("x", "x/r0", "A text", ["S", "S"], prompt="Write a poem about Lisbon.",
                meta={"fact_seeking": True})]
    t = table(rew.score(its))
    assert t[("x/r0", "fact_seeking")] == 1.0
    assert t[("x/r0", "factuality")] == pytest.approx(math.exp(1 - 4 / 2))
    assert not [c for c in judge.calls if c[0][0].endswith("Fact-seeking:")]


def test_flame_unparsed_fact_seeking_counts_and_is_not_fact_seeking(fake_registry):
    rew, _, ctx = flame()
    t = table(rew.score([item("q", "q/r0", "A x", ["S"], prompt="Do something.")]))
    assert t[("q/r0", "fact_seeking")] == 0.0 and ctx.counters["fact_seeking_unparsed"] == 1


def test_flame_with_a_reward_combiner_as_instruction_reward(fake_registry):
    args = {"judge": {"component": "fake/generator"},
            "instruction_reward": {"component": "fake/reward", "args": {"name": "rm"}}}
    rew = build_component(RewardCombiner, "rewards/flame", args, Context(), key="reward.args")
    its = [item("bio", "bio/r0", "t", ["S", "NS"], meta={"fact_seeking": True})]
    t = table(rew.score(its))
    assert t[("bio/r0", "instruction")] == 0.5 and t[("bio/r0", "factuality")] == 0.5
    bad = dict(args, instruction_reward_name="nope")
    from facttune_core import ComponentError

    with pytest.raises(ComponentError, match="gave: rm"):
        build_component(RewardCombiner, "rewards/flame", bad, Context(), key="reward.args").score(its)


def test_flame_config_errors(fake_registry):
    with pytest.raises(ValueError, match="not both"):
        FlameReward.Config(judge={"component": "fake/generator"},
                           instruction_judge={"component": "fake/generator"},
                           instruction_reward={"component": "fake/reward"})
    with pytest.raises(ValueError, match="unknown reward combiner"):
        FlameReward.Config(judge={"component": "fake/generator"}, instruction_reward={"component": "fake/rewad"})


# ---------------------------------------------------------------- SFT-fact


def sft(**kw):
    judge = ScriptedGenerator(judge_script, "judge")
    base = ScriptedGenerator(lambda p, k: " Ada Quill was a cartographer.\n\nQuestion: Who was Bo?", "base-lm")
    ctx = ScriptedCtx(parts={"judge": judge, "base": base}, key="generate.args")
    cfg = FlameSFT.Config(base={"component": "fake/generator"}, judge={"component": "fake/generator"}, **kw)
    return FlameSFT(cfg, ctx), base, ctx


def test_flame_sft_own_answers_for_fact_seeking_human_for_the_rest(fake_registry):
    gen, base, ctx = sft()
    prompts = [Prompt(id="bio", text="Tell me a bio of Ada Quill.", reference="human bio"),
               Prompt(id="poem", text="Write a poem about cats.", reference="Cats nap in sun.")]
    out = gen.generate(prompts, n=1)
    assert [(r.id, r.text, r.meta["source"]) for [r] in out] == [
        ("bio/r0", "Ada Quill was a cartographer.", "model"), ("poem/r0", "Cats nap in sun.", "human")]
    [(texts, n, d)] = base.calls
    assert texts[0].endswith("Question: Tell me a bio of Ada Quill.\nAnswer:")
    assert d.stop == ("\n\nQuestion:",) and d.chat is False and d.temperature == 0.0
    assert gen.model_name == "flame-sft:base-lm"
    sel = build_pairs(PairsConfig(mode="sft"), prompts, [r for rs in out for r in rs], [])
    assert [(e.prompt, e.completion, e.source) for e in sel.sft] == [
        ("Tell me a bio of Ada Quill.", "Ada Quill was a cartographer.", "model"),
        ("Write a poem about cats.", "Cats nap in sun.", "human")]


def test_flame_sft_missing_reference(fake_registry):
    gen, _, _ = sft()
    with pytest.raises(DataError, match="no reference"):
        gen.generate([Prompt(id="poem", text="Write a poem about cats.")])
    gen, _, ctx = sft(missing_reference="skip")
    assert gen.generate([Prompt(id="poem", text="Write a poem about cats.")]) == [[]]
    assert ctx.counters["flame_sft_no_reference"] == 1

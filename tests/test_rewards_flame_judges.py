"""FLAME's measured judges: rewards/fact-seeking (the classifier), rewards/instruction-following
(the IF reward), their use inside rewards/flame, and the pairs they give; hand-computed cases with a
stand-in encoder, and the packaged fits on the real MiniLM."""

from __future__ import annotations

import json
import math

import pytest
from _rewards_fakes import ScriptedCtx, item
from facttune_rewards import linear
from facttune_rewards.fact_seeking import FactSeekingClassifier
from facttune_rewards.flame import FlameReward, FlameSFT
from facttune_rewards.instruction import (
    FEATURES,
    Form,
    InstructionFollowing,
    asked_form,
    count,
    form_score,
    repetition,
)

from facttune_core import (
    ConfigError,
    Context,
    PairsConfig,
    Prompt,
    RewardCombiner,
    build_component,
    build_pairs,
    load_recipe,
)

VECS = {"Who was Ada Quill?": [1.0, 0.0], "Write a poem about cats.": [0.0, 1.0], "Cats nap.": [0.6, 0.8],
        "Ada Quill was a cartographer.": [1.0, 0.0]}


def sig(z: float) -> float:
    return 1 / (1 + math.exp(-z))


@pytest.fixture
def encoder(monkeypatch):
    """A stand-in encoder with fixed 2-d vectors; records what it was asked to embed."""
    asked: list[list[str]] = []

    def embed(self, texts):
        asked.append(list(texts))
        return [VECS.get(t, [0.0, 0.0]) for t in texts]

    monkeypatch.setattr(linear.Encoder, "embed", embed)
    return asked


def write(tmp_path, name, **kw):
    path = tmp_path / name
    path.write_text(json.dumps({"format": linear.FORMAT, **kw}))
    return str(path)


# ---------------------------------------------------------------------------- the classifier
def test_classifier_is_a_logistic_model_over_the_embedding(tmp_path, encoder):
    fitted = write(tmp_path, "fs.json", weights=[4.0, -4.0], bias=0.5)
    clf = FactSeekingClassifier(FactSeekingClassifier.Config(fitted=fitted), Context())
    p = clf.probabilities(["Who was Ada Quill?", "Write a poem about cats.", "Who was Ada Quill?"])
    assert p == pytest.approx([sig(4.5), sig(-3.5), sig(4.5)])
    assert encoder == [["Who was Ada Quill?", "Write a poem about cats."]]  # each distinct text once
    its = [item("q", "q/r0", "x", prompt="Who was Ada Quill?"), item("w", "w/r0", "y", prompt="Write a poem about cats.")]
    rows = clf.score(its)
    assert [(r.name, r.value, r.details["p"]) for [r] in rows] == [
        ("fact_seeking", 1.0, round(sig(4.5), 4)), ("fact_seeking", 0.0, round(sig(-3.5), 4))]
    assert encoder[1:] == []  # memoised
    strict = FactSeekingClassifier(FactSeekingClassifier.Config(fitted=fitted, threshold=0.995), Context())
    assert strict.classify([Prompt(id="q", text="Who was Ada Quill?")]) == {"q": False}  # sig(4.5) = 0.989


def test_fitted_files_are_checked_at_validate_time(tmp_path):
    with pytest.raises(ValueError, match="no packaged model 'flame-fact-seekin'.*flame-fact-seeking"):
        FactSeekingClassifier.Config(fitted="flame-fact-seekin")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not a fitted linear model"):
        FactSeekingClassifier.Config(fitted=str(bad))
    wrong = write(tmp_path, "wrong.json", weights=[1.0, 2.0], bias=0.0, features=["on_topic", "b"])
    with pytest.raises(ConfigError, match="weighs features"):
        InstructionFollowing(InstructionFollowing.Config(fitted=wrong), Context())


def test_packaged_classifier_on_the_real_encoder():
    clf = build_component(RewardCombiner, "rewards/fact-seeking", {}, Context())
    got = clf.classify([Prompt(id="a", text="Who was Marie Curie?"), Prompt(id="b", text="Write a haiku about snow."),
                        Prompt(id="c", text="how tall is mount everest lol"),
                        Prompt(id="d", text="Write a limerick about Charles Darwin.")])
    assert got == {"a": True, "b": False, "c": True, "d": False}


# ---------------------------------------------------------------------------- instruction-following features
@pytest.mark.parametrize("instruction, form", [
    ("Write a haiku about rain.", Form("lines", 3)),
    ("Write a limerick about a cat.", Form("lines", 5)),
    ("Write a story in under 50 words.", Form("words", 50, exact=False)),
    ("Write a six-word story.", Form("words", 6)),
    ("Explain it in two sentences.", Form("sentences", 2)),
    ("List five names for a dog.", Form("items", 5)),
    ("Give me a plan, two hours a day.", Form()),
    ("Turn this into a bulleted list: eggs, two towels.", Form("items", None)),
    ("Write a Python function that adds two numbers.", Form(code=True)),
    ("Explain what this Python code does: print(1)", Form()),
    ("Tell me about Ada Quill.", Form()),
])
def test_asked_form(instruction, form):
    assert asked_form(instruction) == form


def test_counts_form_score_and_repetition():
    assert count("- a\n- b\n3) c", "items") == 3 and count("red, blue, green", "items") == 3
    assert count("One. Two! Three?", "sentences") == 3 and count("a\n\nb\n", "lines") == 2
    assert form_score("Write a haiku.", "one\ntwo\nthree") == 1.0
    assert form_score("Write a haiku.", "one\ntwo") == pytest.approx(1 - 1 / 3)
    assert form_score("Write a haiku.", "1\n2\n3\n4\n5\n6\n7") == 0.0  # |7 − 3| / 3 > 1
    assert form_score("In under 10 words, greet me.", "Hello there.") == 1.0
    assert form_score("In under 10 words, greet me.", " ".join(["hi"] * 15)) == pytest.approx(0.5)
    assert form_score("Write a SQL query for it.", "SELECT * FROM t;") == 1.0
    assert form_score("Write a SQL query for it.", "Sure, here you go.") == 0.0
    assert form_score("Tell me a joke.", "anything") == 1.0
    assert repetition("a b c a b c") == pytest.approx(1 - 3 / 4)  # trigrams abc bca cab abc
    assert repetition("short") == 0.0


def test_instruction_reward_is_the_fitted_score_of_the_features(tmp_path, encoder):
    w = [2.0, 1.0, -3.0, 1.5, 0.25]
    fitted = write(tmp_path, "if.json", features=list(FEATURES[:5]), weights=w, bias=0.0)
    comp = InstructionFollowing(InstructionFollowing.Config(fitted=fitted), Context())
    assert comp.fluency is None  # not weighed: the LM is never loaded
    its = [item("w", "w/r0", "Cats nap.", prompt="Write a poem about cats."),
           item("w", "w/r1", "", prompt="Write a poem about cats.", sample=1)]
    [[r0], [r1]] = comp.score(its)
    f0 = [0.8, 1.0, 0.0, 1.0, math.log1p(2)]  # cos((0,1), (.6,.8)) = .8; ended by itself; 2 words
    assert r0.details == {**{k: round(v, 4) for k, v in zip(FEATURES, f0, strict=False)}, "fluency": 0.0}
    assert r0.value == pytest.approx(sig(sum(a * b for a, b in zip(w, f0, strict=True))))
    assert (r1.value, r1.details) == (0.0, {"reason": "empty"})  # an empty response follows nothing
    assert r0.name == "instruction"


def test_fluency_is_the_mean_token_log_probability_and_is_cached():
    from facttune_rewards.fluency import Fluency

    from facttune_core import CallCache

    flu = Fluency("smollm2-135m-instruct", CallCache(None), "reward.args.fluency_model")
    ask = "Write a sentence about the sea."
    good, noise = "The sea is calm and blue tonight.", "Sea ottoman qua glib 77 vortex ##-- lemma sprocket."
    [g, n] = flu.score([ask, ask], [good, noise])
    assert g < 0 and n < g - 1.0  # nats per token: the noise is far less likely
    runs = []
    flu._run = lambda batch: runs.append(batch) or [0.0] * len(batch)
    assert flu.score([ask], [good]) == [g] and runs == []  # from the call cache


def test_packaged_instruction_reward_prefers_the_on_topic_complete_answer():
    comp = build_component(RewardCombiner, "rewards/instruction-following", {}, Context())
    good = item("h", "h/r0", "Cold rain on the roof\nthe cat watches every drop\nwarm by the window",
                prompt="Write a haiku about a cat watching the rain.")
    bad = item("h", "h/r1", "The stock market closed lower on Tuesday as investors weighed interest rates and "
               "the stock market closed lower", prompt="Write a haiku about a cat watching the rain.", sample=1)
    [[g], [b]] = comp.score([good, bad])
    assert g.value > b.value


# ---------------------------------------------------------------------------- inside rewards/flame, and the pairs
class Classifier:
    def classify(self, prompts):
        return {p.id: "bio" in p.text for p in prompts}


class IFReward:
    def score(self, items):
        from facttune_core import Reward

        return [[Reward(response_id=it.response.id, prompt_id=it.prompt.id, name="instruction",
                        value={"A": 0.9, "B": 0.2, "C": 0.5}[it.response.text[0]])] for it in items]


def flame(**kw):
    ctx = ScriptedCtx(parts={"classifier": Classifier(), "instruction_reward": IFReward()}, key="reward.args")
    cfg = FlameReward.Config(classifier={"component": "fake/reward"}, instruction_reward={"component": "fake/reward"},
                             use_prompt_meta=False, **kw)
    return FlameReward(cfg, ctx)


def its():
    bio, poem = "Tell me a bio of Ada Quill.", "Write a poem about cats."
    return [item("bio", "bio/r0", "A Ada was born.", ["S", "NS"], prompt=bio, p_true=[0.9, 0.3], sample=0),
            item("bio", "bio/r1", "B Ada was born.", ["S", "S"], prompt=bio, p_true=[0.8, 0.6], sample=1),
            item("bio", "bio/r2", "C Ada.", ["NS", "NS"], prompt=bio, p_true=[0.1, 0.2], sample=2),
            item("poem", "poem/r0", "C cats nap.", ["S"], prompt=poem, topic=None, p_true=[0.7], sample=0),
            item("poem", "poem/r1", "A cats.", ["NS", "NS"], prompt=poem, topic=None, p_true=[0.2, 0.4], sample=1),
            item("poem", "poem/r2", "B cat.", ["NS"], prompt=poem, topic=None, p_true=[0.5], sample=2)]


def rewards_of(rew, items):
    return [r for row in rew.score(items) for r in row]


def pairs(config, items, rewards):
    prompts = list({it.prompt.id: it.prompt for it in items}.values())
    sel = build_pairs(config, prompts, [it.response for it in items], rewards)
    return sorted((p.reward, p.chosen_id, p.rejected_id, round(p.chosen_reward, 4), round(p.rejected_reward, 4))
                  for p in sel.pairs)


def test_separate_rewards_give_flames_union_of_pairs(fake_registry):
    items = its()
    rs = rewards_of(flame(), items)
    t = {(r.response_id, r.name): r.value for r in rs}
    assert t[("bio/r0", "fact_seeking")] == 1.0 and t[("poem/r0", "fact_seeking")] == 0.0
    assert t[("bio/r0", "factuality")] == 0.5 and t[("bio/r1", "factuality")] == 1.0 and t[("bio/r2", "factuality")] == 0
    assert t[("poem/r0", "factuality")] is None  # not fact-seeking: no factuality reward
    assert pairs(PairsConfig(mode="flame"), items, rs) == [
        ("factuality", "bio/r1", "bio/r2", 1.0, 0.0),        # best vs worst by factuality, fact-seeking only
        ("instruction", "bio/r0", "bio/r1", 0.9, 0.2),       # best vs worst by IF, every prompt
        ("instruction", "poem/r1", "poem/r2", 0.9, 0.2)]


def test_soft_factuality_and_one_combined_reward(fake_registry):
    items = its()
    soft = {(r.response_id, r.name): r.value for r in rewards_of(flame(soft=True), items)}
    assert soft[("bio/r0", "factuality")] == pytest.approx(0.6) and soft[("poem/r0", "factuality")] is None
    rs = rewards_of(flame(soft=True, factuality_for="all"), items)
    t = {(r.response_id, r.name): r.value for r in rs}
    assert t[("poem/r0", "factuality")] == pytest.approx(0.7) and t[("poem/r1", "factuality")] == pytest.approx(0.3)
    # combined = instruction + factuality, every pair whose sums differ, the 2 widest per prompt:
    # bio: r0 .9+.6=1.5, r1 .2+.7=.9, r2 .5+.15=.65; poem: r0 .5+.7=1.2, r1 .9+.3=1.2, r2 .2+.5=.7
    cfg = PairsConfig(mode="weighted", weights={"instruction": 1.0, "factuality": 1.0}, max_pairs_per_prompt=2)
    assert pairs(cfg, items, rs) == [
        ("weighted", "bio/r0", "bio/r1", 1.5, 0.9), ("weighted", "bio/r0", "bio/r2", 1.5, 0.65),
        ("weighted", "poem/r0", "poem/r2", 1.2, 0.7), ("weighted", "poem/r1", "poem/r2", 1.2, 0.7)]


def test_judge_or_classifier_exactly_one(fake_registry):
    with pytest.raises(ValueError, match="exactly one"):
        FlameReward.Config(instruction_reward={"component": "fake/reward"})
    with pytest.raises(ValueError, match="exactly one"):
        FlameReward.Config(judge={"component": "fake/generator"}, classifier={"component": "fake/reward"})
    with pytest.raises(ValueError, match="no judge to rate"):
        FlameReward.Config(classifier={"component": "fake/reward"})
    with pytest.raises(ValueError, match="exactly one"):
        FlameSFT.Config(base={"component": "fake/generator"})


def test_a_classifier_that_cannot_classify_is_one_line(fake_registry):
    args = {"classifier": {"component": "fake/reward"}, "instruction_reward": {"component": "fake/reward"}}
    from facttune_core import ComponentError

    with pytest.raises(ComponentError, match="cannot classify instructions"):
        build_component(RewardCombiner, "rewards/flame", args, Context(), key="reward.args")


def test_the_paper_recipes_validate():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "recipes" / "paper"
    for name in ("flame-sft.toml", "flame.toml", "flame-combined.toml"):
        r = load_recipe(root / name)
        assert r.recipe.data.args["meta_fields"] == ["fact_seeking"]
    flame_r = load_recipe(root / "flame.toml")
    assert flame_r.recipe.evaluate.group_by == "fact_seeking"
    assert flame_r.recipe.evaluate.reward.component == "rewards/instruction-following"
    assert flame_r.recipe.pairs.mode == "flame"
    assert load_recipe(root / "flame-combined.toml").recipe.pairs.mode == "weighted"

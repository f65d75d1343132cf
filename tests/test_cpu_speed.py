"""Issue 23's speed work: the sampling loop's pieces, merged adapters, the CPU bf16 probe, the CPU
path for TRL's fused LM head, and the trainer's per-device choices (tiny models, no download)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from facttune_core import CallCache, Context, Prompt

PROMPTS = [Prompt(id="p1", text="Write me a paragraph biography of Ada Quill.", topic="Ada Quill"),
           Prompt(id="p2", text="Here is a biography of Bruno Vell.", topic="Bruno Vell")]


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FACTTUNE_CACHE_DIR", str(tmp_path / "cache"))


def gen(model: Path, **kw: object):  # noqa: ANN201
    from facttune_hf.generate import HFGenerate

    return HFGenerate(HFGenerate.Config(model=str(model), dtype="fp32", **kw), Context(cache=CallCache(None),
                                                                                         key="generate.args"))


# ---------------------------------------------------------------------------- sampling loop
def test_sample_rows_draws_each_token_at_its_probability_and_never_a_zero_one() -> None:
    import torch
    from facttune_hf.decode import sample_rows

    v = 600  # not a multiple of the 256-token block: the padded tail must never be drawn
    p = torch.zeros(3, v)
    p[0, [1, 3, 4]] = torch.tensor([0.1, 0.6, 0.3])
    p[1, [0, 300, 599]] = torch.tensor([2.0, 1.0, 1.0])  # unnormalised weights
    p[2, 599] = 1.0
    gens = [torch.Generator().manual_seed(i) for i in range(3)]
    counts = torch.zeros(3, v)
    for _ in range(6000):
        t = sample_rows(p, gens)
        counts[torch.arange(3), t] += 1
    freq = counts / 6000
    assert counts[p == 0].sum() == 0
    assert freq[0, [1, 3, 4]].tolist() == pytest.approx([0.1, 0.6, 0.3], abs=0.025)
    assert freq[1, [0, 300, 599]].tolist() == pytest.approx([0.5, 0.25, 0.25], abs=0.025)
    assert freq[2, 599] == 1.0
    # a row's draws depend on its own generator only
    a = sample_rows(p[:1], [torch.Generator().manual_seed(7)])
    b = sample_rows(p, [torch.Generator().manual_seed(7), torch.Generator().manual_seed(1), gens[2]])
    assert int(a[0]) == int(b[0])


def test_top_p_keeps_the_nucleus_a_full_sort_keeps() -> None:
    import torch
    from facttune_hf.decode import _filter_top_p

    torch.manual_seed(0)
    probs = torch.softmax(torch.randn(4, 3000) * 3, dim=-1)
    for top_p in (0.3, 0.9, 0.999):
        got = _filter_top_p(probs, top_p)
        s, idx = torch.sort(probs, descending=True, dim=-1)
        keep = (torch.cumsum(s, -1) - s) <= top_p
        want = torch.zeros_like(probs).scatter(-1, idx, s * keep)
        assert torch.allclose(got, want / want.sum(-1, keepdim=True), atol=1e-7)


@pytest.mark.parametrize("arch", ["llama", "gemma3"])
def test_greedy_equals_transformers_generate_and_pruning_changes_nothing(arch: str, tiny: Path,
                                                                         tiny_gemma: Path) -> None:
    """The preallocated KV cache (sliding-window layers included), one prefill per distinct prompt,
    and dropping finished rows give transformers' own greedy tokens; sampled texts do not depend on
    pruning."""
    import torch
    from facttune_hf.decode import decode_batch
    from facttune_hf.generate import encode_prompt
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = tiny if arch == "llama" else tiny_gemma
    g = gen(path, chat=False)
    ids = [encode_prompt(g.lm, p.text, False, None) for p in PROMPTS]
    rows = [ids[0], ids[0], ids[1], ids[0]]  # repeated prompts share a prefill
    greedy = decode_batch(g.lm, rows, [0] * 4, temperature=0.0, top_p=1.0, max_new_tokens=20, stop=[])
    tok = AutoTokenizer.from_pretrained(str(path))
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
    for r, x in zip(greedy, rows, strict=True):
        ref = model.generate(torch.tensor([x]), max_new_tokens=20, do_sample=False, eos_token_id=2, pad_token_id=0)
        assert r["text"] == tok.decode(ref[0, len(x):], skip_special_tokens=True)
    seeds = [11, 12, 13, 14]
    free = decode_batch(g.lm, rows, seeds, temperature=1.0, top_p=0.9, max_new_tokens=16, stop=[])
    common = Counter(ch for r in free for ch in r["text"][1:] if ch.strip())
    kw = {"temperature": 1.0, "top_p": 0.9, "max_new_tokens": 16, "stop": [common.most_common(1)[0][0]]}
    pruned = decode_batch(g.lm, rows, seeds, prune=True, **kw)
    kept = decode_batch(g.lm, rows, seeds, prune=False, **kw)
    alone = [decode_batch(g.lm, [x], [s], **kw)[0] for x, s in zip(rows, seeds, strict=True)]
    assert pruned == kept == alone
    assert len({r["completion_tokens"] for r in pruned}) > 1 and any(r["finish_reason"] == "stop" for r in pruned)


def test_auto_batch_size_fits_the_memory_budget(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from facttune_hf import decode

    g = gen(tiny)
    assert decode.auto_batch_size(g.lm, 100) == decode.MAX_AUTO_BATCH
    per_row = 2 * 2 * 2 * 8 * 4 * 100 + 8 * g.lm.model.config.vocab_size  # layers, k+v, kv heads, head dim, fp32
    monkeypatch.setattr(decode, "CPU_KV_BUDGET", 5 * per_row)
    assert decode.auto_batch_size(g.lm, 100) == 5
    monkeypatch.setattr(decode, "CPU_KV_BUDGET", 1)
    assert decode.auto_batch_size(g.lm, 100) == 1
    assert gen(tiny).c.batch_size == "auto"
    out = gen(tiny, max_new_tokens=6).generate(PROMPTS, n=3)  # one row per batch still works
    assert [len(r) for r in out] == [3, 3]


def test_merged_adapter_gives_the_unmerged_outputs(tiny: Path, tmp_path: Path) -> None:
    import torch
    from facttune_hf import models
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(tiny), dtype=torch.float32)
    peft_model = get_peft_model(base, LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False))
    peft_model.save_pretrained(str(tmp_path / "adapter"))
    merged = models.load(str(tiny), key="m", dtype="fp32", adapter=str(tmp_path / "adapter"))
    unmerged = models.load(str(tiny), key="m", dtype="fp32", adapter=str(tmp_path / "adapter"), merge_adapter=False)
    assert merged is not unmerged
    assert not any("lora" in n for n, _ in merged.model.named_parameters())
    assert any("lora" in n for n, _ in unmerged.model.named_parameters())
    x = torch.tensor([[1, 5, 9, 30, 41, 7]])
    with torch.no_grad():
        a, b = merged.model(input_ids=x).logits, unmerged.model(input_ids=x).logits
    assert torch.allclose(a, b, atol=1e-5)
    plain = models.load(str(tiny), key="m", dtype="fp32")
    with torch.no_grad():
        assert not torch.allclose(plain.model(input_ids=x).logits, a, atol=1e-3)  # the adapter does something
    texts = [gen(tiny, adapter=str(tmp_path / "adapter"), merge_adapter=m, temperature=0.0, max_new_tokens=10)
             .generate(PROMPTS, n=1) for m in (True, False)]
    assert [r[0].text for r in texts[0]] == [r[0].text for r in texts[1]]


# ---------------------------------------------------------------------------- devices
def test_an_isa_cap_in_the_environment_means_no_native_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    from facttune_core import native_bf16
    from facttune_core.contract import devices

    for var in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA"):
        monkeypatch.delenv(var, raising=False)
    assert not devices.cpu_isa_capped()
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_AMX")
    assert not devices.cpu_isa_capped()
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert devices.cpu_isa_capped() and native_bf16(False) is False
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA")
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx2")
    assert devices.cpu_isa_capped() and native_bf16(False) is False


# ---------------------------------------------------------------------------- trl
def test_cpu_lm_head_equals_trls_fused_head(tmp_path: Path) -> None:
    import torch
    from _trl_tiny import make_tiny_model
    from facttune_trl.lm_head import install_on
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    path = make_tiny_model(tmp_path / "m")
    outs, grads = [], []
    for ours in (False, True):
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
        add_fused_lm_head(model, outputs=("log_probs", "entropy", "mean_logits", "is_top1", "log_sum_sq_probs"))
        if ours:
            assert install_on(model, want_sq=True) and not install_on(model)  # installed once
        ids = torch.randint(5, model.config.vocab_size, (3, 12), generator=torch.Generator().manual_seed(1))
        labels = ids.clone()
        labels[:, :5] = -100
        labels[2, 9:] = -100
        out = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels, fused_lm_head=True)
        out.log_probs.sum().backward()
        outs.append(out)
        grads.append(model.model.layers[0].mlp.up_proj.weight.grad.clone())
    trl_out, our_out = outs
    for k in ("log_probs", "entropy", "mean_logits", "log_sum_sq_probs"):
        assert torch.allclose(getattr(trl_out, k), getattr(our_out, k), atol=1e-5), k
    assert torch.equal(trl_out.is_top1.bool(), our_out.is_top1.bool())
    assert torch.allclose(trl_out.loss, our_out.loss, atol=1e-6)
    assert torch.allclose(grads[0], grads[1], atol=1e-6)


def test_trainer_choices_per_device() -> None:
    from facttune_trl.config import ModelConfig
    from facttune_trl.speed import planned_epochs, precompute_ref, resolve_4bit

    auto = ModelConfig(load_in_4bit="auto")
    assert resolve_4bit(auto, use_cuda=False) is False and resolve_4bit(auto, use_cuda=True) is True
    assert resolve_4bit(ModelConfig(load_in_4bit=True), use_cuda=False) is True
    args = {"per_device_train_batch_size": 4, "max_steps": 8}
    assert planned_epochs(args, 49) == pytest.approx(32 / 49)
    assert precompute_ref(args, 49) is False  # 8 steps of 4 over 49 pairs: each pair seen once at most
    assert precompute_ref({**args, "max_steps": 150}, 361) is True  # the paper recipes: 1.7 times over
    assert precompute_ref({**args, "max_steps": 150}, 361, cpu_4bit=True) is False
    assert precompute_ref({"num_train_epochs": 2}, 10) is True
    assert precompute_ref({**args, "precompute_ref_log_probs": False, "max_steps": 150}, 361) is False


def test_dpo_on_cpu_records_its_choices(tmp_path: Path) -> None:
    from _trl_tiny import make_tiny_model, tiny_pairs
    from facttune_trl import DPOTrainerComponent

    from facttune_core import TrainData

    path = make_tiny_model(tmp_path / "m")
    cfg = DPOTrainerComponent.Config.model_validate({
        "args": {"max_steps": 4, "learning_rate": 5e-3, "per_device_train_batch_size": 4, "max_length": 64},
        "model": {"name": str(path), "lora_r": 4, "load_in_4bit": "auto"}})
    res = DPOTrainerComponent(cfg, Context(key="train")).train(TrainData(pairs=tiny_pairs(8)), tmp_path / "out")
    m = res.metrics
    assert m["load_in_4bit"] is False and m["load_in_4bit_setting"] == "auto"
    assert m["lm_head"] == "cpu log_softmax" and m["precompute_ref_log_probs"] is True  # 16 visits of 8 pairs
    assert m["trainer_init_seconds"] > 0 and res.log[-1]["loss"] < res.log[0]["loss"]

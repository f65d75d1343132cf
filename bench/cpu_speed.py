"""Generation tokens/s and DPO steps/s of the embedded FactTune path on this CPU, side by side with
main's path before issue 23 ("today"), a plain transformers / TRL script doing the same work, and
the box's matmul limit; for this CPU as it is and for an emulated AVX2 CPU, in one run.

Work (recipes/bio.toml's shape): the first --prompts training people of retrieval/bio-people, --n
samples each at temperature 1.0, <= --max-new-tokens new tokens, SmolLM2-135M-Instruct (packaged),
dtype "auto" (bf16 where the CPU has it natively, else fp32); with and without a LoRA adapter
(random, r 16 on all linear layers, as trl/dpo trains). DPO: --dpo-steps steps of bio.toml's
trl/dpo settings (batch 4, lr 1e-4, beta 0.1, max_length 256, save_steps 2) on --dpo-pairs pairs of
the generated responses, each in its own training worker process as `facttune run` starts it.

  generation  today  main's loop (bench/_today_decode.py): batches of 8, peft adapter unmerged
              ours   hf/generate as recipes build it: batch auto, one prefill per prompt, merged adapter
              plain  transformers generate(do_sample=True), same rows per batch as ours, peft adapter
  DPO         today  trl/dpo as main ran it: QLoRA nf4, TRL's fused LM head, reference forward per step
              ours   trl/dpo now: load_in_4bit "auto", CPU LM head, reference precomputed (>= 1.25 epochs)
              ours, ref per step   the same with the reference forward at every step (< 1.25 epochs)
              plain  the same worker with TRL's defaults: plain LoRA, TRL's head (a plain TRL script)
Limit: the GFLOP/s of one big matmul (2048x576 @ 576x1536, all threads, the dtype used) over
2 x parameters FLOPs per generated token (x3 per trained token: forward, backward, reference).
Emulated AVX2: ATEN_CPU_CAPABILITY=avx2, ONEDNN_MAX_CPU_ISA=AVX2, MKL_ENABLE_INSTRUCTIONS=AVX2
(facttune then sees no native bf16 and runs fp32, as on an AVX2 machine). Each mode runs in its
own process; CPU seconds are printed beside wall seconds (on a shared machine the wall ratios move).

    python bench/cpu_speed.py [--modes native,avx2] [--quick] [--json out.json]
    python bench/cpu_speed.py --modes native --openai-url http://127.0.0.1:8000/v1 --openai-model smollm2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins"), str(ROOT / "bench")]

MODES: dict[str, dict[str, str]] = {
    "native": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
}
MODEL = "smollm2-135m-instruct"
DPO_ARGS = {"beta": 0.1, "learning_rate": 1e-4, "per_device_train_batch_size": 4, "gradient_accumulation_steps": 1,
            "max_length": 256, "logging_steps": 1, "save_steps": 2, "seed": 0}


def _keep(result: tuple[int, list[list[Any]]], into: dict[str, Any]) -> int:
    into["out"] = result[1]
    return result[0]


def timed(fn: Callable[[], int]) -> dict[str, float]:
    c, w = time.process_time(), time.perf_counter()
    tokens = fn()
    return {"tokens": tokens, "wall": time.perf_counter() - w, "cpu": time.process_time() - c}


def matmul_gflops(dtype: Any, seconds: float = 3.0) -> float:
    import torch

    a, w = torch.randn(2048, 576).to(dtype), torch.randn(1536, 576).to(dtype)
    for _ in range(3):
        torch.nn.functional.linear(a, w)
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds:
        torch.nn.functional.linear(a, w)
        n += 1
    return 2 * 2048 * 576 * 1536 * n / (time.perf_counter() - t) / 1e9


def bio_prompts(k: int) -> list[Any]:
    from facttune_core import CallCache, Context, build_component

    ctx = Context(cache=CallCache(None), key="data.args")
    data = build_component("prompt_source", "retrieval/bio-people", {"n_train": max(k, 12), "n_test": 32, "seed": 0},
                           ctx, "data.args").load()
    return [p for p in data.prompts if p.split == "train"][:k]


def random_adapter(path: str, out: Path) -> Path:
    """A LoRA adapter as trl/dpo makes one (r 16, alpha 32, all linear layers), small random weights."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32),
                           LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", init_lora_weights=False))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.mul_(0.01)
    model.save_pretrained(str(out))
    return out


Runner = Callable[[list[Any]], tuple[int, list[list[Any]]]]  # prompts -> (new tokens, responses)


def gen_today(n: int, max_new: int, adapter: Path | None) -> Runner:
    from _today_decode import decode_batch
    from facttune_hf.generate import encode_prompt, row_seed
    from facttune_hf.models import load

    lm = load(MODEL, key="bench.model", adapter=str(adapter) if adapter else None, merge_adapter=False)

    def run(prompts: list[Any]) -> tuple[int, list[list[Any]]]:
        enc = {p.text: encode_prompt(lm, p.text, True, None) for p in prompts}
        items = sorted([(p, k) for p in prompts for k in range(n)], key=lambda x: -len(enc[x[0].text]))
        tokens = 0
        for s in range(0, len(items), 8):  # main's batch_size default
            b = items[s:s + 8]
            rows = decode_batch(lm, [enc[p.text] for p, _ in b], [row_seed(0, p.text, k) for p, k in b],
                                temperature=1.0, top_p=1.0, max_new_tokens=max_new, stop=[])
            tokens += sum(r["completion_tokens"] for r in rows)
        return tokens, []
    return run


def gen_ours(n: int, max_new: int, adapter: Path | None) -> tuple[Runner, Callable[[int], int]]:
    from facttune_hf.decode import auto_batch_size
    from facttune_hf.generate import HFGenerate

    from facttune_core import CallCache, Context

    def build() -> Any:  # a fresh in-memory call cache per run: nothing is served from an earlier one
        return HFGenerate(HFGenerate.Config(model=MODEL, n=n, temperature=1.0, max_new_tokens=max_new,
                                            adapter=str(adapter) if adapter else None),
                          Context(cache=CallCache(None), key="generate.args"))

    g = build()

    def run(prompts: list[Any]) -> tuple[int, list[list[Any]]]:
        out = build().generate(prompts)
        return sum(r.completion_tokens or 0 for row in out for r in row), out
    return run, lambda width: auto_batch_size(g.lm, width + max_new)


def gen_plain(n: int, max_new: int, adapter: Path | None, rows_per_batch: int) -> Runner:
    """What a plain transformers script does: left-padded prompts, generate(num_return_sequences=n)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from facttune_core import native_bf16, resolve_model

    path = resolve_model(MODEL)
    tok = AutoTokenizer.from_pretrained(path, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16 if native_bf16(False) else torch.float32)
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter))
    model.eval()

    def run(prompts: list[Any]) -> tuple[int, list[list[Any]]]:
        texts = [tok.apply_chat_template([{"role": "user", "content": p.text}], add_generation_prompt=True,
                                         tokenize=False) for p in prompts]
        per = max(1, rows_per_batch // n)
        tokens = 0
        torch.manual_seed(0)
        with torch.inference_mode():
            for s in range(0, len(texts), per):
                enc = tok(texts[s:s + per], return_tensors="pt", padding=True, add_special_tokens=False)
                out = model.generate(**enc, do_sample=True, temperature=1.0, top_p=1.0, top_k=0,
                                     max_new_tokens=max_new, num_return_sequences=n, pad_token_id=tok.pad_token_id)
                new = out[:, enc["input_ids"].shape[1]:]
                ends = (new == tok.eos_token_id).int()
                first = torch.where(ends.any(-1), ends.argmax(-1), torch.full_like(ends[:, 0], new.shape[1]))
                tokens += int(first.sum())
        return tokens, []
    return run


def gen_openai(prompts: list[Any], n: int, max_new: int, url: str, model: str) -> int:
    from facttune_core import CallCache, Context, build_component

    g = build_component("generator", "openai/chat", {"model": model, "base_url": url, "n": n, "max_tokens": max_new,
                                                     "temperature": 1.0, "max_concurrency": 8},
                        Context(cache=CallCache(None), key="generate.args"), "generate.args")
    out = g.generate(prompts)
    return sum(r.completion_tokens or 0 for row in out for r in row)


def pairs_of(responses: list[list[Any]], prompt_text: dict[str, str]) -> list[Any]:
    from facttune_core import Pair

    pairs = []
    for row in responses:
        for i in range(len(row)):
            for j in range(i + 1, len(row)):
                a, b = row[i], row[j]
                if a.text.strip() and b.text.strip() and a.text.strip() != b.text.strip():
                    pairs.append(Pair(id=f"{a.id}>{b.id}", prompt_id=a.prompt_id, prompt=prompt_text[a.prompt_id],
                                      chosen=a.text, rejected=b.text, chosen_id=a.id, rejected_id=b.id,
                                      reward="bench", chosen_reward=1.0, rejected_reward=0.0))
    return pairs


def dpo(variant: str, pairs: list[Any], steps: int, out: Path) -> dict[str, Any]:
    from facttune_trl import DPOTrainerComponent

    from facttune_core import Context, TrainData

    model: dict[str, Any] = {"lora_r": 16, "lora_alpha": 32, "too_long": "truncate"}
    args: dict[str, Any] = {**DPO_ARGS, "max_steps": steps}
    table: dict[str, Any] = {}
    if variant == "today":
        model["load_in_4bit"], table["lm_head"], args["precompute_ref_log_probs"] = True, "trl", False
    elif variant == "plain":
        model["load_in_4bit"], table["lm_head"], args["precompute_ref_log_probs"] = False, "trl", False
    elif variant == "ours":
        model["load_in_4bit"] = "auto"
    else:  # ours with a reference forward at every step (bio.toml's regime: each pair seen at most once)
        model["load_in_4bit"], args["precompute_ref_log_probs"] = "auto", False
    cfg = DPOTrainerComponent.Config.model_validate({"args": args, "model": model, **table})
    w = time.perf_counter()
    res = DPOTrainerComponent(cfg, Context(key="train")).train(TrainData(pairs=pairs, base_model=MODEL), out)
    m = res.metrics
    tokens = float(res.log[-1].get("num_tokens", 0) or 0) if res.log else 0.0
    return {"steps": m["steps"], "train_s": m["seconds"], "init_s": m.get("trainer_init_seconds", 0.0),
            "worker_s": m.get("worker_seconds"), "run_s": time.perf_counter() - w, "tokens": tokens,
            "dtype": m.get("dtype"), "load_in_4bit": m.get("load_in_4bit"), "lm_head": m.get("lm_head"),
            "precompute": m.get("precompute_ref_log_probs"), "loss": m.get("last_loss")}


def child(a: argparse.Namespace) -> dict[str, Any]:
    import torch

    from facttune_core import native_bf16, resolve_model
    from facttune_core.contract.devices import cpu_kind

    res: dict[str, Any] = {"mode": a.child, "cpu": cpu_kind(), "threads": torch.get_num_threads(),
                           "loadavg_start": os.getloadavg()[0]}
    dtype = torch.bfloat16 if native_bf16(False) else torch.float32
    res["dtype"] = str(dtype).replace("torch.", "")
    res["gflops"] = matmul_gflops(dtype)
    from transformers import AutoModelForCausalLM

    path = resolve_model(MODEL)
    params = sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(path).parameters())
    res["params"] = params
    prompts = bio_prompts(a.prompts)
    warm = prompts[:1]
    tmp = Path(tempfile.mkdtemp(prefix="cpu_speed-"))
    adapter = random_adapter(path, tmp / "adapter")
    from facttune_hf.generate import encode_prompt
    from facttune_hf.models import load

    lm = load(MODEL, key="bench.model")
    width = max(len(encode_prompt(lm, p.text, True, None)) for p in prompts)
    gen: dict[str, Any] = {}
    responses: list[list[Any]] = []
    for ad_name, ad in (("base", None), ("adapter", adapter)):
        ours, rows_for = gen_ours(a.n, a.max_new_tokens, ad)
        rows = rows_for(width)
        runners = {"ours": ours, "today": gen_today(a.n, a.max_new_tokens, ad),
                   "plain": gen_plain(a.n, a.max_new_tokens, ad, rows)}
        for who, run in runners.items():  # models loaded and kernels warm before the clock starts
            run(warm)
            got: dict[str, Any] = {}
            gen[f"{who}/{ad_name}"] = timed(lambda run=run, got=got: _keep(run(prompts), got))
            responses = responses or got.get("out", [])
        print(f"[{a.child}] {ad_name}: " + ", ".join(f"{k} {v['tokens'] / v['wall']:.1f} tok/s"
                                                      for k, v in gen.items() if k.endswith(ad_name)), flush=True)
    if a.openai_url:
        gen_openai(warm, 1, 4, a.openai_url, a.openai_model)
        gen["openai/base"] = timed(lambda: gen_openai(prompts, a.n, a.max_new_tokens, a.openai_url, a.openai_model))
    res["gen"], res["rows_per_batch"] = gen, rows
    if a.dpo_steps:
        pairs = pairs_of(responses, {p.id: p.text for p in prompts})[:a.dpo_pairs]
        res["pairs"] = len(pairs)
        res["dpo"] = {}
        for v in ("today", "ours", "ours, ref per step", "plain"):
            res["dpo"][v] = dpo(v, pairs, a.dpo_steps, tmp / f"dpo-{v}")
            print(f"[{a.child}] dpo {v}: {res['dpo'][v]}", flush=True)
    res["loadavg_end"] = os.getloadavg()[0]
    return res


def report(results: list[dict[str, Any]]) -> None:
    for r in results:
        per_token = 2 * r["params"] / 1e9
        limit = r["gflops"] / per_token
        print(f"\n## {r['mode']}: CPU {r['cpu']}, {r['threads']} threads, {r['dtype']}, matmul {r['gflops']:.0f} "
              f"GFLOP/s -> limit {limit:.0f} tok/s; load average {r['loadavg_start']:.1f} -> {r['loadavg_end']:.1f}")
        print(f"generation ({r['gen']['ours/base']['tokens']} tokens per run; ours: {r['rows_per_batch']} rows/batch)")
        print("| run | tok/s | tok per CPU-s | x today | x plain | of limit |")
        print("|---|---|---|---|---|---|")
        for key, v in r["gen"].items():
            who, ad = key.split("/")
            tps = v["tokens"] / v["wall"]
            base = r["gen"].get(f"today/{ad}")
            plain = r["gen"].get(f"plain/{ad}")
            x_today = f"{tps / (base['tokens'] / base['wall']):.2f}" if base else ""
            x_plain = f"{tps / (plain['tokens'] / plain['wall']):.2f}" if plain else ""
            print(f"| {who}, {ad} | {tps:.1f} | {v['tokens'] / v['cpu']:.1f} | {x_today} | {x_plain} | "
                  f"{tps / limit:.2f} |")
        if "dpo" not in r:
            continue
        d = r["dpo"]
        print(f"DPO ({r['pairs']} pairs, {d['today']['steps']} steps of batch 4; s/step = (init + train) / steps, "
              "init = building the trainer, with the reference pass when precomputed)")
        print("| run | 4 bit | LM head | ref precomputed | s/step | steps/s | x today | x plain | of limit |")
        print("|---|---|---|---|---|---|---|---|---|")
        for key, v in d.items():
            sps = v["steps"] / (v["train_s"] + v["init_s"])
            x_t = sps / (d["today"]["steps"] / (d["today"]["train_s"] + d["today"]["init_s"]))
            x_p = sps / (d["plain"]["steps"] / (d["plain"]["train_s"] + d["plain"]["init_s"]))
            tok_step = v["tokens"] / max(1, v["steps"])
            lim = r["gflops"] / (3 * per_token * tok_step) if tok_step else 0.0
            print(f"| {key} | {v['load_in_4bit']} | {v['lm_head']} | {v['precompute']} | {1 / sps:.2f} | {sps:.3f} | "
                  f"{x_t:.2f} | {x_p:.2f} | {sps / lim if lim else 0:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modes", default="native,avx2")
    ap.add_argument("--prompts", type=int, default=12)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--max-new-tokens", type=int, default=96)
    ap.add_argument("--dpo-steps", type=int, default=6)
    ap.add_argument("--dpo-pairs", type=int, default=16, help="6 steps of 4 over 16 pairs: 1.5 epochs, as the paper "
                    "recipes train (150 steps over 361 pairs); ours then precomputes the reference")
    ap.add_argument("--quick", action="store_true", help="6 prompts, 48 tokens, 3 DPO steps on 8 pairs")
    ap.add_argument("--openai-url", default=None, help="also time openai/chat against this server")
    ap.add_argument("--openai-model", default="smollm2")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.quick:
        a.prompts, a.max_new_tokens, a.dpo_steps, a.dpo_pairs = 6, 48, 3, 8
    if a.child:
        print("@result " + json.dumps(child(a)), flush=True)
        return
    results = []
    for mode in a.modes.split(","):
        cmd = [sys.executable, __file__, "--child", mode, "--prompts", str(a.prompts), "--n", str(a.n),
               "--max-new-tokens", str(a.max_new_tokens), "--dpo-steps", str(a.dpo_steps),
               "--dpo-pairs", str(a.dpo_pairs)]
        if a.openai_url:
            cmd += ["--openai-url", a.openai_url, "--openai-model", a.openai_model]
        env = {**os.environ, **MODES[mode], "TOKENIZERS_PARALLELISM": "false"}
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True, bufsize=1)
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:  # progress lines through, the result kept
            (lines.append(line) if line.startswith("@result ") else print(line, end="", flush=True))
        if proc.wait() != 0 or not lines:
            sys.exit(f"{mode}: the benchmark process failed (exit {proc.returncode})")
        results.append(json.loads(lines[-1][len("@result "):]))
    report(results)
    if a.json:
        a.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

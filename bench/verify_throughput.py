"""hf/true-false throughput on a FactTune-shaped workload, against FActScore's reference loop.

Workload: P people from the packaged Wikipedia (retrieval/bio-people), n = 4 sampled biographies
each from the policy (hf/generate, smollm2-135m-instruct; cached across bench runs), their claims
(core/sentences by default, or hf/claims), top-5 evidence from the person's article
(retrieval/bm25 over wiki-vital). All claims of a person share that evidence.

Timed side by side in one process, on the same judge (default gemma3-270m) and the same claims:
  verifier   hf/true-false, fresh in-memory call cache (no hits), shared-prefix KV reuse
  plain      hf/true-false with prefix_cache = false: a plain batched forward pass over the full
             prompts (left padded, sorted by length): the machine's prompt tokens/s
  reference  one claim at a time: generate up to 128 new tokens (greedy, EOS stops), parse
             "True"/"False" (FActScore's loop); timed on the first --ref-claims claims
The last line is ``ratio=<verifier claims/s / reference claims/s>``.

    python bench/verify_throughput.py [--people 3] [--judge gemma3-270m] [--ref-claims 6]
"""

from __future__ import annotations

import argparse
import os
import time

from facttune_core import (
    CallCache,
    ClaimExtractor,
    ClaimVerifier,
    Context,
    EvidenceRetriever,
    Generator,
    PromptSource,
    build_component,
    cache_dir,
    parse_true_false,
    verify_prompt,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=3)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--policy", default="smollm2-135m-instruct")
    ap.add_argument("--judge", default="gemma3-270m")
    ap.add_argument("--extract", default="core/sentences", help="core/sentences or hf/claims")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--ref-claims", type=int, default=6, help="claims timed in the reference loop")
    ap.add_argument("--max-new-tokens", type=int, default=160, help="biography length")
    ap.add_argument("--dtype", default="auto")
    a = ap.parse_args()

    import torch

    print(f"torch threads={torch.get_num_threads()} cache_dir={cache_dir()}")
    persistent = Context(cache=CallCache(cache_dir() / "bench-calls.sqlite"))

    data = build_component(PromptSource, "retrieval/bio-people", {"n_train": a.people, "n_test": 0},
                           persistent, key="data.args").load()
    gen = build_component(Generator, "hf/generate", {"model": a.policy, "max_new_tokens": a.max_new_tokens,
                                                       "dtype": a.dtype}, persistent, key="generate.args")
    t = time.time()
    responses = [r for row in gen.generate(data.prompts, n=a.samples) for r in row]
    print(f"generate: {len(responses)} biographies in {time.time() - t:.1f}s (cached across runs)")
    ex_args = {} if a.extract == "core/sentences" else {"dtype": a.dtype}
    extractor = build_component(ClaimExtractor, a.extract, ex_args, persistent, key="extract.args")
    claims = [c for row in extractor.extract(responses) for c in row]
    retriever = build_component(EvidenceRetriever, "retrieval/bm25", {"source": "wiki-vital", "k": a.k},
                                persistent, key="retrieve.args")
    evidence = retriever.retrieve(claims)
    per_topic: dict[str, int] = {}
    for c in claims:
        per_topic[c.topic or ""] = per_topic.get(c.topic or "", 0) + 1
    n_pass = sum(len(e.passages) for e in evidence) / max(1, len(evidence))
    print(f"workload: {len(claims)} claims, {len(per_topic)} people, claims/person={sorted(per_topic.values())}, "
          f"passages/claim={n_pass:.1f}")

    def judge(prefix_cache: bool) -> tuple[object, Context]:
        ctx = Context(cache=CallCache(None), key="verify.args")  # fresh: no cache hits in the timing
        v = build_component(ClaimVerifier, "hf/true-false", {
            "model": a.judge, "dtype": a.dtype, "prefix_cache": prefix_cache, "batch_size": a.batch_size}, ctx,
            key="verify.args")
        return v, ctx

    v_fast, _ = judge(True)
    lm = v_fast.lm  # type: ignore[attr-defined]
    tok = lm.tokenizer
    prompts = [verify_prompt(c.text, c.topic, sorted(e.passages, key=lambda p: (p.title, p.id or "", p.text)))
               for c, e in zip(claims, evidence, strict=True)]
    prompt_tokens = sum(len(tok(p)["input_ids"]) for p in prompts)
    print(f"judge {a.judge}: dtype={lm.dtype} device={lm.device}; {prompt_tokens} prompt tokens "
          f"({prompt_tokens / len(prompts):.0f}/claim)")
    v_fast.verify(claims[:2], evidence[:2])  # warm-up (allocations, kernels)

    v_fast, _ = judge(True)
    t = time.time()
    fast = v_fast.verify(claims, evidence)
    t_fast = time.time() - t
    print(f"verifier (prefix reuse): {len(claims) / t_fast:.2f} claims/s, {prompt_tokens / t_fast:.0f} prompt tok/s "
          f"({t_fast:.1f}s)")

    v_plain, _ = judge(False)
    t = time.time()
    plain = v_plain.verify(claims, evidence)
    t_plain = time.time() - t
    print(f"plain batched forward:   {len(claims) / t_plain:.2f} claims/s, {prompt_tokens / t_plain:.0f} prompt "
          f"tok/s ({t_plain:.1f}s)")
    diff = max(abs(x.p_true - y.p_true) for x, y in zip(fast, plain, strict=True))
    agree = sum(x.supported == y.supported for x, y in zip(fast, plain, strict=True)) / len(fast)
    print(f"prefix reuse vs plain: max |dP(True)|={diff:.4f}, same verdict {agree:.1%}")

    n_ref = min(a.ref_claims, len(claims))
    model = lm.model
    t = time.time()
    gen_tokens = 0
    ref_verdicts = []
    with torch.inference_mode():
        for p in prompts[:n_ref]:
            ids = tok(p, return_tensors="pt").to(lm.device)
            out = model.generate(**ids, max_new_tokens=128, do_sample=False, pad_token_id=tok.pad_token_id)
            new = out[0, ids["input_ids"].shape[1]:]
            gen_tokens += len(new)
            ref_verdicts.append(parse_true_false(tok.decode(new, skip_special_tokens=True)))
    t_ref = time.time() - t
    ref_rate = n_ref / t_ref
    same = sum(r == f.supported for r, f in zip(ref_verdicts, fast, strict=False)) / n_ref
    print(f"reference loop: {ref_rate:.3f} claims/s on {n_ref} claims ({t_ref:.1f}s, "
          f"{gen_tokens / n_ref:.0f} generated tokens/claim; verdict agreement with logit read {same:.0%})")
    print(f"supported: verifier {sum(v.supported for v in fast)}/{len(fast)}")
    print(f"speed-up over the plain batched pass: {t_plain / t_fast:.2f}x")
    print(f"ratio={(len(claims) / t_fast) / ref_rate:.2f}")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()

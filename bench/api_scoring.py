"""Concurrent API scoring vs the reference's one-call-at-a-time loop, over loopback HTTP.

Starts tests/api_server.py (in its own process) with a fixed latency per call, then verifies the same claims twice:
with ``openai/true-false`` (max_concurrency 32, fresh in-memory cache) and with a plain loop
that sends one chat-completions request at a time through the synchronous OpenAI client (how
FActScore scores). Both read the same answers; the verdicts must agree.

    python bench/api_scoring.py [--responses 20] [--claims 10] [--latency 0.2] [--concurrency 32]

Last line: ``speedup_vs_sequential=<x> efficiency_vs_limit=<latency-bound minimum ÷ measured>``,
where the latency-bound minimum is ceil(calls / concurrency) × latency. The concurrent side runs
``--repeats`` times (fresh cache each time) and the best counts: on a shared machine the client's
CPU share varies; all times are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
from facttune_core import (  # noqa: E402  # noqa: E402
    CHAT_TRUE_FALSE_SYSTEM,
    CallCache,
    Claim,
    Context,
    Evidence,
    Passage,
    p_true_from_logprobs,
    verify_prompt,
)


def workload(n_resp: int, n_claims: int) -> tuple[list[Claim], list[Evidence]]:
    """n_resp people × n_claims distinct claims; even claims are in the person's passage."""
    claims, evs = [], []
    for r in range(n_resp):
        who = f"Person {r}"
        passage = Passage(title=who, text=" ".join(f"{who} visited City{c}." for c in range(0, n_claims, 2)))
        for c in range(n_claims):
            text = f"{who} visited City{c}." if c % 2 == 0 else f"{who} visited Nowhere{c}."
            cl = Claim(id=f"b{r}/r0/c{c}", response_id=f"b{r}/r0", prompt_id=f"b{r}", text=text, topic=who)
            claims.append(cl)
            evs.append(Evidence(claim_id=cl.id, passages=(passage,)))
    return claims, evs


@contextlib.contextmanager
def server_process(latency: float) -> Iterator[str]:
    """tests/api_server.py in its own process (so the client does not share its GIL)."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "api_server.py"), "--port", "0",
                             "--latency", str(latency)], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        port = int(line.split()[1].rstrip(":"))
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def stats(base: str, path: str = "/stats") -> dict:
    import httpx

    return httpx.get(base + path, timeout=10).json()


def sequential(url: str, claims: list[Claim], evs: list[Evidence]) -> list[bool]:
    """The reference's way: one blocking request per claim."""
    import openai

    client = openai.OpenAI(api_key="bench", base_url=url, max_retries=0)
    out = []
    for cl, ev in zip(claims, evs, strict=True):
        resp = client.chat.completions.create(
            model="judge", max_tokens=16, temperature=0.0, logprobs=True, top_logprobs=20,
            messages=[{"role": "system", "content": CHAT_TRUE_FALSE_SYSTEM},
                      {"role": "user", "content": verify_prompt(cl.text, cl.topic, ev.passages)}])
        top = resp.choices[0].logprobs.content[0].top_logprobs
        out.append((p_true_from_logprobs([(t.token, t.logprob) for t in top]) or 0.0) >= 0.5)
    client.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--responses", type=int, default=20)
    ap.add_argument("--claims", type=int, default=10)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3, help="concurrent runs; the best one counts")
    args = ap.parse_args()

    import openai  # both sides pay the import outside the timings
    from facttune_openai.components import TrueFalse

    os.environ.setdefault("FT_BENCH_KEY", "bench-key")
    claims, evs = workload(args.responses, args.claims)
    n = len(claims)
    with server_process(args.latency) as base:
        url = base + "/v1"
        openai.AsyncOpenAI(api_key="warm-up", base_url=url)  # the SDK's lazy imports, once

        times, cpus = [], []
        for _ in range(args.repeats):  # each repeat with a fresh cache: every call goes out
            stats(base, "/reset")
            ctx = Context(cache=CallCache(None), key="verify.args")
            judge = TrueFalse(TrueFalse.Config(model="judge", base_url=url, api_key_env="FT_BENCH_KEY",
                                               max_concurrency=args.concurrency), ctx)
            t0, c0 = time.perf_counter(), time.process_time()
            verdicts = judge.verify(claims, evs)
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        t_conc = min(times)
        st = stats(base)
        conc_requests, peak = st["requests"], st["max_inflight"]

        stats(base, "/reset")
        t0 = time.perf_counter()
        seq = sequential(url, claims, evs)
        t_seq = time.perf_counter() - t0
        seq_requests = stats(base)["requests"]

    assert [v.supported for v in verdicts] == seq, "concurrent and sequential verdicts differ"
    floor = math.ceil(n / args.concurrency) * args.latency
    u = judge.runner.usage
    print(f"claims={n} latency={args.latency:g}s max_concurrency={args.concurrency}")
    print(f"concurrent: best {t_conc:.2f}s of {' '.join(f'{t:.2f}' for t in times)}  requests={conc_requests}  "
          f"peak_in_flight={peak}  {n / t_conc:.1f} claims/s  client_cpu={min(cpus):.2f}s  "
          f"tokens_in={u.tokens_in} tokens_out={u.tokens_out}")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(f"sequential: {t_seq:.2f}s  requests={seq_requests}  {n / t_seq:.1f} claims/s")
    print(f"latency-bound minimum: ceil({n}/{args.concurrency})×{args.latency:g}s = {floor:.2f}s")
    print(f"speedup_vs_sequential={t_seq / t_conc:.1f} efficiency_vs_limit={floor / t_conc:.2f}")


if __name__ == "__main__":
    main()

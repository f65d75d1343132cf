"""The embedded verifier's speed against the judge it replaced, on the same claims, side by side.

Claims: the labelled claims of ../shared/data/judge-dev (or --file, same format), each with its
evidence. Both verifiers are built as recipes build them (fresh in-memory call caches, models loaded
before timing) and judge the same claims in the same process:
  support      judges/support (packaged MiniLM + name/number/date checks), as recipes/bio.toml
  true-false   hf/true-false on the packaged Gemma 3 270M, calibrated (the previous embedded default)
Prints claims/s of each and ``ratio=<support claims/s / true-false claims/s>`` (>= 1: not slower).

    python bench/judge_speed.py [--claims 200] [--file claims.jsonl]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from facttune_core import CallCache, Claim, ClaimVerifier, Context, Evidence, Passage, build_component

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "judge-dev" / "claims.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, default=DEV)
    ap.add_argument("--claims", type=int, default=200)
    args = ap.parse_args()
    every = [json.loads(x) for x in args.file.read_text(encoding="utf-8").splitlines() if x.strip()]
    rows = every[: args.claims]
    warm = [r for r in every if r["topic"] not in {x["topic"] for x in rows}][:2] or every[-2:]
    claims = [Claim(id=f"c{i}", response_id=f"r{i}", prompt_id=r["topic"], text=r["claim"], topic=r["topic"])
              for i, r in enumerate(rows)]
    evidence = [Evidence(claim_id=f"c{i}", passages=tuple(Passage(title=p["title"], text=p["text"])
                                                          for p in r["evidence"])) for i, r in enumerate(rows)]
    w_claims = [Claim(id=f"w{i}", response_id="w", prompt_id=r["topic"], text=r["claim"], topic=r["topic"])
                for i, r in enumerate(warm)]
    w_ev = [Evidence(claim_id=f"w{i}", passages=tuple(Passage(title=p["title"], text=p["text"]) for p in r["evidence"]))
            for i, r in enumerate(warm)]
    judges = {"support": ("judges/support", {"fitted": "wiki-vital"}),
              "true-false": ("hf/true-false", {"model": "gemma3-270m", "calibrate": True})}
    rate = {}
    for name, (comp, cargs) in judges.items():
        v = build_component(ClaimVerifier, comp, cargs, Context(cache=CallCache(None)))
        v.verify(w_claims, w_ev)  # load the model outside the timing (claims of another topic)
        t0 = time.perf_counter()
        out = v.verify(claims, evidence)
        dt = time.perf_counter() - t0
        rate[name] = len(claims) / dt
        print(f"{name:<11} {comp:<16} {len(out)} claims in {dt:6.1f} s: {rate[name]:7.2f} claims/s, "
              f"{sum(bool(x.supported) for x in out) / len(out):.0%} called supported")
    print(f"ratio={rate['support'] / rate['true-false']:.2f}")


if __name__ == "__main__":
    main()

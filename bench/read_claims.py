"""Read what a tuned model's newly supported claims say: specific facts, or vague filler?

A judge's FActScore can rise because the policy learned the judge's blind spot (evaluative filler
that shares words with the evidence) rather than new true facts. For each run folder's held-out
evaluation this splits the claims the judge called supported into

  specific  the claim names something checkable besides the topic (a name, number or date), and the
            evidence has all of them (``judges/consistency``'s analysis), and
  vague     nothing checkable besides the topic's name and common words,

and prints per response, before vs after tuning, with paired-bootstrap 95% CIs over prompts, plus a
sample of the after model's supported claims of each kind to read.

    python bench/read_claims.py runs/facttune-fs [runs/facttune-aq ...] [--sample 8]
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

from facttune_judges import text

from facttune_core import Claim, Evidence, Response, Verdict, paired_bootstrap, read_json_file
from facttune_core.contract.store import read_records


def _records(folder: Path, stage: str) -> list[Any]:
    (d,) = sorted(folder.glob(f"[0-9][0-9]-{stage}-*"))
    return read_records(d / "records.jsonl")


def variant(folder: Path) -> dict[str, Any]:
    """Per prompt: responses, supported specific / vague / unsupported claims; and the claims."""
    responses = [r for r in _records(folder, "generate") if isinstance(r, Response)]
    claims = {c.id: c for c in _records(folder, "extract") if isinstance(c, Claim)}
    evidence = {e.claim_id: e for e in _records(folder, "retrieve") if isinstance(e, Evidence)}
    verdicts = [v for v in _records(folder, "verify") if isinstance(v, Verdict)]
    per: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in responses:
        per[r.prompt_id]["responses"] += 1
    kinds: dict[str, list[str]] = {"specific": [], "vague": []}
    for v in verdicts:
        c = claims[v.claim_id]
        pid = c.response_id.split("/")[0]
        if not v.supported:
            per[pid]["unsupported"] += 1
            continue
        ev = text.Evidence.of(text.evidence_text(evidence[c.id].passages)) if c.id in evidence else text.Evidence.of("")
        words = text.analyse(c.text, c.topic, ev)
        checkable = [w for w in words if w.kind in ("name", "number", "date")]
        kind = "specific" if checkable and all(w.found for w in checkable) else "vague" if not checkable else "mixed"
        per[pid][kind] += 1
        if kind in kinds:
            kinds[kind].append(c.text)
    return {"per": per, "claims": kinds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--sample", type=int, default=6)
    args = ap.parse_args()
    for run in args.runs:
        info = read_json_file(run / "run.json")
        ev_dir = run / info["stages"]["evaluate"]["dir"]
        before, after = variant(ev_dir / "before"), variant(ev_dir / "after")
        prompts = sorted(set(before["per"]) & set(after["per"]))
        print(f"\n== {run.name}: {len(prompts)} held-out prompts")
        for kind in ("specific", "vague", "mixed", "unsupported"):
            b = [before["per"][p][kind] / before["per"][p]["responses"] for p in prompts]
            a = [after["per"][p][kind] / after["per"][p]["responses"] for p in prompts]
            mean, lo, hi = paired_bootstrap(b, a)
            print(f"  {kind:<12} per response: before {sum(b) / len(b):.2f}  after {sum(a) / len(a):.2f}  "
                  f"diff {mean:+.2f} [{lo:+.2f}, {hi:+.2f}]")
        rng = random.Random(0)
        for kind in ("specific", "vague"):
            pool = after["claims"][kind]
            print(f"  after, supported and {kind} ({len(pool)}), a sample:")
            for t in rng.sample(pool, min(args.sample, len(pool))):
                print(f"    - {t[:150]}")


if __name__ == "__main__":
    main()

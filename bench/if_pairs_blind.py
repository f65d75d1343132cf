"""Blind instruction-following pairs between two held-out generations of the same instruction.

    python bench/if_pairs_blind.py packets OUT_DIR --base RUN:before --add flame=RUN:after \\
        --add combined=RUN2:after --prompts recipes/data/flame/instructions.jsonl --where-not fact_seeking
        One pair per instruction and source: the base response and the source's (the first sample of
        each), A/B order seeded at random, the pairs of all sources shuffled together and split into
        packets of --per-packet; OUT_DIR/packet{i}.md shows INSTRUCTION, RESPONSE A, RESPONSE B only;
        OUT_DIR/../if_key_<name>.json (kept apart) says which is which. Annotators write
        OUT_DIR/labels{i}.jsonl: {"pair": "P0007", "label": "A" | "B" | "tie"}.

    python bench/if_pairs_blind.py score OUT_DIR --key KEY
        Per source: win rate over the base (a tie counts one half), with a bootstrap 95% CI over
        instructions.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

from gold_pool import labelled_rows, records  # bench/: the run records and annotators' files, read one way


def first_samples(spec: str) -> dict[str, dict[str, Any]]:
    """The first held-out response to each instruction of RUN:before / RUN:after."""
    out: dict[str, dict[str, Any]] = {}
    for r in records(spec):
        out.setdefault(r["prompt_id"], r)
    return out


def cmd_packets(a: argparse.Namespace) -> None:
    prompts = {r["id"]: r for r in (json.loads(x) for x in open(a.prompts, encoding="utf-8") if x.strip())}
    base = first_samples(a.base)
    rng = random.Random(a.seed)
    pairs = []
    for item in a.add:
        label, _, spec = item.partition("=")
        other = first_samples(spec)
        for pid, b in base.items():
            p = prompts.get(pid)
            if p is None or (a.where_not and p.get(a.where_not)) or pid not in other:
                continue
            swap = rng.random() < 0.5
            pairs.append({"instruction_id": pid, "prompt": p["prompt"], "source": label,
                          "A": other[pid]["text"] if swap else b["text"], "B": b["text"] if swap else other[pid]["text"],
                          "tuned": "A" if swap else "B"})
    rng.shuffle(pairs)
    out = Path(a.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n = max(1, -(-len(pairs) // a.per_packet))
    key = {}
    packets: list[list[str]] = [[] for _ in range(n)]
    for i, pr in enumerate(pairs):
        pid = f"P{i:04d}"
        key[pid] = {k: pr[k] for k in ("instruction_id", "source", "tuned")}
        packets[i % n].append(f"## PAIR {pid}\nINSTRUCTION: {pr['prompt']}\n\nRESPONSE A:\n{pr['A']}\n\n"
                              f"RESPONSE B:\n{pr['B']}\n")
    for i, p in enumerate(packets):
        (out / f"packet{i}.md").write_text(f"# Packet {i}: {len(p)} pairs; write labels{i}.jsonl\n\n" + "\n".join(p),
                                           encoding="utf-8")
    keyfile = out.parent / f"if_key_{out.name}.json"
    keyfile.write_text(json.dumps(key, indent=0), encoding="utf-8")
    print(f"{len(pairs)} pairs in {n} packets -> {out}; key -> {keyfile}")


def cmd_score(a: argparse.Namespace) -> None:
    key = json.load(open(a.key, encoding="utf-8"))
    labels = {row["pair"]: row["label"] for row in labelled_rows(Path(a.out_dir), "labels")}
    missing = [p for p in key if p not in labels]
    if missing:
        print(f"warning: {len(missing)} pairs without a label (e.g. {missing[0]})")
    by: dict[str, list[float]] = {}
    for pid, k in key.items():
        lab = labels.get(pid)
        if lab not in ("A", "B", "tie"):
            continue
        by.setdefault(k["source"], []).append(0.5 if lab == "tie" else float(lab == k["tuned"]))
    rng = random.Random(0)
    for src, ws in sorted(by.items()):
        bs = sorted(sum(ws[rng.randrange(len(ws))] for _ in ws) / len(ws) for _ in range(2000))
        wins, ties = sum(1 for w in ws if w == 1.0), sum(1 for w in ws if w == 0.5)
        print(f"{src:10s} pairs {len(ws):3d}  tuned wins {wins}  ties {ties}  base wins {len(ws) - wins - ties}  "
              f"win rate {sum(ws) / len(ws):.3f} [{bs[50]:.3f}, {bs[1949]:.3f}]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("packets")
    p.add_argument("out_dir")
    p.add_argument("--base", required=True, help="RUN_DIR:before")
    p.add_argument("--add", action="append", required=True, help="LABEL=RUN_DIR:after")
    p.add_argument("--prompts", required=True, help="JSONL of the instructions (id, prompt, fields)")
    p.add_argument("--where-not", help="leave out instructions whose FIELD is true (e.g. fact_seeking)")
    p.add_argument("--per-packet", type=int, default=46)
    p.add_argument("--seed", type=int, default=0)
    s = sub.add_parser("score")
    s.add_argument("out_dir")
    s.add_argument("--key", required=True)
    a = ap.parse_args()
    cmd_packets(a) if a.cmd == "packets" else cmd_score(a)


if __name__ == "__main__":
    main()

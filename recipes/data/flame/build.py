"""Builds instructions.jsonl from the hand-written rows in fact_seeking.py and other_*.py.

    python recipes/data/flame/build.py          # rewrites instructions.jsonl beside this file

Ids are assigned after a seeded shuffle (so neither order nor id gives a label away). The split is
2/3 train : 1/3 test by groups: all instructions that name the same topic fall in one split, and
fact-seeking and other groups are split separately so both splits keep the same mix.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fact_seeking import FACT_SEEKING  # noqa: E402
from other_a import OTHER_A  # noqa: E402
from other_b import OTHER_B  # noqa: E402
from other_c import OTHER_C  # noqa: E402

SEED = 24
TEST_SHARE = 1 / 3


def rows() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for topic, kind, text in FACT_SEEKING:
        out.append({"prompt": text, "topic": topic, "fact_seeking": True, "kind": kind})
    for kind, text, reference, topic in [*OTHER_A, *OTHER_B, *OTHER_C]:
        row: dict[str, object] = {"prompt": text, "fact_seeking": False, "kind": kind, "reference": reference}
        if topic:
            row["topic"] = topic
        out.append(row)
    texts = [r["prompt"] for r in out]
    dupes = {t for t in texts if texts.count(t) > 1}
    if dupes:
        raise SystemExit(f"duplicate instructions: {sorted(dupes)}")
    return out


def split(items: list[dict[str, object]], rng: random.Random) -> None:
    groups: dict[str, list[dict[str, object]]] = {}
    for i, r in enumerate(items):
        groups.setdefault(str(r.get("topic") or f"#{i}"), []).append(r)
    order = sorted(groups)
    rng.shuffle(order)
    for label in (True, False):
        target = round(TEST_SHARE * sum(1 for r in items if r["fact_seeking"] is label))
        taken = 0
        for g in order:
            members = groups[g]
            if any(m.get("split") for m in members):
                continue
            lead = members[0]["fact_seeking"] if len(members) == 1 else any(m["fact_seeking"] for m in members)
            if lead is not label:
                continue
            n = sum(1 for m in members if m["fact_seeking"] is label)
            where = "test" if taken + n <= target else "train"
            taken += n if where == "test" else 0
            for m in members:
                m["split"] = where


def main() -> None:
    rng = random.Random(SEED)
    items = rows()
    rng.shuffle(items)
    for i, r in enumerate(items, 1):
        r["id"] = f"i{i:03d}"
    split(items, rng)
    keys = ("id", "prompt", "topic", "fact_seeking", "kind", "split", "reference")
    lines = [json.dumps({k: r[k] for k in keys if k in r}, ensure_ascii=False) for r in items]
    (HERE / "instructions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for s in ("train", "test"):
        part = [r for r in items if r["split"] == s]
        print(f"{s}: {len(part)} ({sum(1 for r in part if r['fact_seeking'])} fact-seeking)")


if __name__ == "__main__":
    main()

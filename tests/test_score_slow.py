"""`facttune score` as a new user runs it, with the embedded default judge (recipes/bio.toml):
a biography copied from the person's own Wikipedia summary must score clearly higher than an
invented one. This measures the judge as much as the command: with a weak judge it can fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# (person, an invented biography: every fact wrong)
INVENTED = {
    "Marie Curie": ("Marie Curie was a Brazilian jazz pianist born in Recife in 1931. She recorded forty albums for "
                    "a label in Lisbon. She never studied science and worked as a taxi driver in Chicago. She died "
                    "in Toronto in 2004."),
    "Frida Kahlo": ("Frida Kahlo was a Canadian astronaut born in Winnipeg in 1962. She flew two Space Shuttle "
                    "missions for NASA. She later led the Canadian Space Agency and wrote a textbook on rocket "
                    "engines."),
    "Albert Einstein": ("Albert Einstein was a Portuguese footballer born in Porto in 1950. He played as a goalkeeper "
                        "for Benfica and won the European Cup twice. He later coached the national team of Angola."),
}


def copied(person: str, sentences: int = 4) -> str:
    from facttune_retrieval.kb import wiki_vital_entries

    from facttune_core.scoring.text import split_sentences

    extract = next(e["extract"] for e in wiki_vital_entries() if e["title"] == person)
    return " ".join(split_sentences(extract)[:sentences])


@pytest.mark.slow
def test_copied_biography_scores_clearly_higher_than_an_invented_one(tmp_path):
    rows = []
    for person, fake in INVENTED.items():
        rows.append({"topic": person, "output": copied(person)})
        rows.append({"topic": person, "output": fake})
    f = tmp_path / "x.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-m", "facttune_core.cli", "score", str(f), "--recipe",
                          str(ROOT / "recipes" / "bio.toml"), "--out", str(tmp_path / "out"),
                          "--set", f"run.cache={tmp_path / 'calls.sqlite'}"],
                         env=env, capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    scores = [json.loads(x) for x in (tmp_path / "out" / "scores.jsonl").read_text().splitlines()]
    assert len(scores) == 6 and all(s["factscore"] is not None for s in scores)
    real = [s["factscore"] for s in scores[0::2]]
    fake = [s["factscore"] for s in scores[1::2]]
    print("copied:", real, "invented:", fake)
    assert all(r > f for r, f in zip(real, fake, strict=True)), (real, fake)
    assert sum(real) / 3 - sum(fake) / 3 >= 0.3, (real, fake)

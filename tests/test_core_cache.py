from __future__ import annotations

import sqlite3

from facttune_core import CallCache, call_key


def test_key_depends_on_every_part():
    base = call_key("hf/true-false", "gemma", {"claim": "x"}, {"t": 0})
    assert base == call_key("hf/true-false", "gemma", {"claim": "x"}, {"t": 0})
    assert base != call_key("hf/belief", "gemma", {"claim": "x"}, {"t": 0})
    assert base != call_key("hf/true-false", "smol", {"claim": "x"}, {"t": 0})
    assert base != call_key("hf/true-false", "gemma", {"claim": "y"}, {"t": 0})
    assert base != call_key("hf/true-false", "gemma", {"claim": "x"}, {"t": 1})
    assert len(base) == 64


def test_map_calls_only_misses_and_persists(tmp_path):
    path = tmp_path / "c.sqlite"
    seen: list[list[int]] = []

    def fn(batch):
        seen.append(list(batch))
        return [x * 10 for x in batch]

    c = CallCache(path)
    assert c.map("comp", "m", [1, 2, 3, 2], None, fn, batch_size=2) == [10, 20, 30, 20]
    assert sorted(x for b in seen for x in b) == [1, 2, 3]  # duplicate input computed once
    assert all(len(b) <= 2 for b in seen)
    c.close()
    c2 = CallCache(path)
    seen.clear()
    assert c2.map("comp", "m", [3, 4], None, fn) == [30, 40]
    assert seen == [[4]]
    assert c2.stats.hits == 1 and c2.stats.misses == 1
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode.lower() == "wal"


def test_batches_are_stored_as_they_finish(tmp_path):
    c = CallCache(tmp_path / "c.sqlite")
    calls = []

    def fn(batch):
        calls.append(batch)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return [x + 1 for x in batch]

    try:
        c.map("comp", None, [1, 2, 3, 4], None, fn, batch_size=2)
    except KeyboardInterrupt:
        pass
    assert c.count() == 2  # the first batch survived the interrupt


def test_refresh_ignores_stored_answers(tmp_path):
    c = CallCache(tmp_path / "c.sqlite")
    c.map("comp", None, [1], None, lambda b: [5 for _ in b])
    c.refresh = True
    assert c.map("comp", None, [1], None, lambda b: [6 for _ in b]) == [6]
    c.refresh = False
    assert c.map("comp", None, [1], None, lambda b: [7 for _ in b]) == [6]

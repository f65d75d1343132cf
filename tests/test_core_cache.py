from __future__ import annotations

import sqlite3

import pytest

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


@pytest.mark.parametrize("garbage", [b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\x00" * 40])
def test_a_broken_cache_file_is_set_aside_with_one_warning(tmp_path, capsys, garbage):
    path = tmp_path / "calls.sqlite"
    path.write_bytes(garbage)
    cache = CallCache(path)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and "set aside as calls.sqlite.broken-" in err[0]
    aside = list(tmp_path.glob("calls.sqlite.broken-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == garbage  # nothing lost: the old file is kept
    cache.put("k", {"v": 1})
    assert cache.get("k") == {"v": 1}
    cache.close()
    assert CallCache(path).get("k") == {"v": 1}  # the new file is a good cache


def test_jsonl_reading_errors_are_one_line_naming_file_and_line(tmp_path):
    from facttune_core import DataError, iter_jsonl

    bad = tmp_path / "p.jsonl"
    bad.write_bytes(b'{"a": 1}\n{"b": "caf\xe9"}\n')
    with pytest.raises(DataError) as e:
        list(iter_jsonl(bad))
    assert e.value.render() == f"{bad}: line 2: not UTF-8 text (byte 11 of the line)"
    with pytest.raises(DataError, match="is a folder, not a file"):
        list(iter_jsonl(tmp_path))
    torn = tmp_path / "t.jsonl"
    torn.write_text('{"a": 1}\n{"b": ')
    assert [o for _, o in iter_jsonl(torn, tolerate_torn_tail=True)] == [{"a": 1}]


@pytest.mark.parametrize("lines,template,needle", [
    (['{"id": "a", "topic": "X"}'], "Bio of {nme}.", "line 1: the template 'Bio of {nme}.' names 'nme'"),
    (['{"id": "a", "topic": 3}'], "Bio of {topic}.", "line 1: 'topic' must be a string (got int)"),
    (['{"id": "a", "topic": "X"}', '{"id": "b", "topic": "Y"}', '{"id": "a", "topic": "Z"}'], "Bio of {topic}.",
     "line 3: duplicate prompt id 'a' (first on line 1)"),
])
def test_core_jsonl_prompt_errors_name_file_and_line(tmp_path, lines, template, needle):
    from facttune_basic import JsonlPrompts

    from facttune_core import Context, DataError

    f = tmp_path / "prompts.jsonl"
    f.write_text("\n".join(lines) + "\n")
    src = JsonlPrompts(JsonlPrompts.Config(path=str(f), template=template), Context())
    with pytest.raises(DataError) as e:
        src.load()
    assert e.value.render() == f"{f}: {needle}" or e.value.render().startswith(f"{f}: {needle}")

"""The retrieval plugin: knowledge dbs (FActScore's format), topic lookup, BM25 / dense, bio prompts."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from facttune_core import (
    Claim,
    ConfigError,
    Context,
    DataError,
    EvidenceRetriever,
    FacttuneError,
    PromptSource,
    build_component,
)

SEP = "####SPECIAL####SEPARATOR####"

# A tiny world: each article has passages about different things, so a claim has one right passage.
ARTICLES = {
    "Ada Quill": [
        "Ada Quill was a Portuguese cartographer born in Lisbon in 1840.",
        "Quill drew three atlases of the Atlantic islands, printed in Porto by her brother.",
        "In later life Ada Quill taught geometry at a school for sailors and died in 1901.",
    ],
    "Émile Durkheim": [
        "Émile Durkheim was a French sociologist who founded the academic discipline of sociology.",
        "Durkheim wrote The Division of Labour in Society and a study of suicide rates.",
    ],
    "Bruno Vell": [
        "Bruno Vell was an Italian violinist who toured Argentina with an orchestra.",
    ],
}


def make_factscore_db(path: Path, articles: dict[str, list[str]] = ARTICLES) -> Path:
    """A db exactly as FActScore's build_db writes it: one table, passages joined by the separator."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE documents (title PRIMARY KEY, text);")
    conn.executemany("INSERT INTO documents VALUES (?, ?)", [(t, SEP.join(ps)) for t, ps in articles.items()])
    conn.commit()
    conn.close()
    return path


def claim(text: str, topic: str | None, i: int = 0) -> Claim:
    return Claim(id=f"p/r0/c{i}", response_id="p/r0", prompt_id="p", text=text, topic=topic)


def kb_app() -> typer.Typer:
    import facttune_retrieval

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    facttune_retrieval.register_commands(cli=app)
    return app


def retriever(name: str, args: dict, key: str = "retrieve.args"):
    return build_component(EvidenceRetriever, f"retrieval/{name}", args, Context(key=key), key=key)


def one_line(err: BaseException) -> str:
    s = str(err)
    assert "\n" not in s and "Traceback" not in s, s
    return s


@pytest.fixture(autouse=True)
def _cache(monkeypatch, tmp_path):
    monkeypatch.setenv("FACTTUNE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def fs_db(tmp_path) -> Path:
    return make_factscore_db(tmp_path / "enwiki.db")


@pytest.fixture(scope="module")
def vital_db(tmp_path_factory) -> Path:
    """The packaged source built once for this module (in its own cache dir)."""
    from facttune_retrieval.kb import WIKI_VITAL, build_db, open_docs
    from facttune_retrieval.sources import SourceSpec

    out = tmp_path_factory.mktemp("vital") / "wiki-vital.db"
    docs, total = open_docs(WIKI_VITAL, SourceSpec())
    build_db(docs, out, source=WIKI_VITAL, total=total)
    return out


# ---------------------------------------------------------------------------- FActScore db as is

def test_factscore_db_read_unchanged_and_cli_search_finds_the_passage(fs_db):
    before = hashlib.sha256(fs_db.read_bytes()).hexdigest()
    from facttune_retrieval.kb import KnowledgeBase

    kb = KnowledgeBase(fs_db)
    assert [p.text for p in kb.passages("Ada Quill")] == ARTICLES["Ada Quill"]
    kb.close()
    res = CliRunner().invoke(kb_app(), ["kb", "search", str(fs_db), "she drew atlases of islands",
                                        "--topic", "Ada Quill", "-k", "2"])
    assert res.exit_code == 0, res.output
    first = res.output.split("[2]")[0]
    assert "three atlases of the Atlantic islands" in first
    assert "Bruno" not in res.output and "Durkheim" not in res.output  # topic only
    # retrievers read it directly too; the file is never touched (no index, no meta table)
    ev = retriever("bm25", {"source": str(fs_db)}).retrieve([claim("Ada Quill died in 1901.", "Ada Quill")])
    assert "died in 1901" in ev[0].passages[-1].text
    assert hashlib.sha256(fs_db.read_bytes()).hexdigest() == before


def test_passages_best_last_with_ascending_scores(fs_db):
    r = retriever("bm25", {"source": str(fs_db), "k": 3})
    ev = r.retrieve([claim("She taught geometry at a school for sailors.", "Ada Quill"),
                     claim("Ada Quill was born in Lisbon.", "Ada Quill", 1)])
    assert "geometry" in ev[0].passages[-1].text and "Lisbon" in ev[1].passages[-1].text
    for e in ev:
        scores = [p.score for p in e.passages]
        assert len(scores) == 3 and scores == sorted(scores) and scores[-1] > scores[0]
        assert e.query and e.query.startswith("Ada Quill ")
    k1 = retriever("bm25", {"source": str(fs_db), "k": 1}).retrieve([claim("born in Lisbon", "Ada Quill")])
    assert len(k1[0].passages) == 1 and "Lisbon" in k1[0].passages[0].text


def test_whole_source_search_and_index_cached_on_disk(fs_db, tmp_path):
    r = retriever("bm25", {"source": str(fs_db), "topic_only": False, "k": 2})
    ev = r.retrieve([claim("a violinist who toured Argentina", None), claim("sociology founder", None, 1)])
    assert ev[0].passages[-1].title == "Bruno Vell" and ev[1].passages[-1].title == "Émile Durkheim"
    idx = r.index_dir()
    assert (idx / "ids.json").exists() and idx.parent.name == "enwiki.db.index"
    # a claim with no word the index knows finds nothing, beside ones that do (bm25s refuses unknown ids)
    ev = r.retrieve([claim("This is 2.", None), claim("zzyzx qwertyuiop", None, 1), claim("sociology founder", None, 2)])
    assert ev[0].passages == () and ev[1].passages == () and ev[2].passages[-1].title == "Émile Durkheim"
    # another instance reuses it; a db with other content gets another index
    r2 = retriever("bm25", {"source": str(fs_db), "topic_only": False, "k": 2})
    assert r2.index_dir() == idx
    other = make_factscore_db(tmp_path / "other.db", {"Zed": ["Zed is a letter."]})
    assert retriever("bm25", {"source": str(other), "topic_only": False}).index_dir().name != idx.name
    assert retriever("bm25", {"source": str(fs_db), "topic_only": False, "k1": 1.2}).index_dir() != idx


# ---------------------------------------------------------------------------- topic lookup

def test_topic_lookup_exact_then_normalised(fs_db):
    from facttune_retrieval.kb import KnowledgeBase

    kb = KnowledgeBase(fs_db)
    assert kb.resolve("Ada Quill") == "Ada Quill"
    assert kb.resolve("ada  QUILL") == "Ada Quill"
    assert kb.resolve("Emile Durkheim") == "Émile Durkheim"
    assert kb.resolve("émile durkheim.") == "Émile Durkheim"
    assert kb.resolve("Ada Quil") is None
    assert kb.unknown_topic_message("Ada Quil") == "unknown topic 'Ada Quil'; did you mean 'Ada Quill'?"
    assert kb.unknown_topic_message("Xyzzy Plugh") == "unknown topic 'Xyzzy Plugh'"
    ev = retriever("bm25", {"source": str(fs_db)}).retrieve([claim("Durkheim studied suicide.", "emile durkheim")])
    assert ev[0].passages[-1].title == "Émile Durkheim"


def test_unknown_topic_error_and_options(fs_db):
    with pytest.raises(DataError) as e:
        retriever("bm25", {"source": str(fs_db)}).retrieve([claim("x was born.", "Ada Quil")])
    msg = one_line(e.value)
    assert "unknown topic 'Ada Quil'; did you mean 'Ada Quill'?" in msg
    assert str(fs_db) in msg and "retrieve.args.source" in msg
    with pytest.raises(DataError, match="has no topic"):
        retriever("bm25", {"source": str(fs_db)}).retrieve([claim("x was born.", None)])
    empty = retriever("bm25", {"source": str(fs_db), "on_unknown_topic": "empty"})
    assert empty.retrieve([claim("x", "Nobody")])[0].passages == ()
    src = retriever("bm25", {"source": str(fs_db), "on_unknown_topic": "source"})
    assert src.retrieve([claim("toured Argentina with an orchestra", "Nobody")])[0].passages[-1].title == "Bruno Vell"
    res = CliRunner().invoke(kb_app(), ["kb", "search", str(fs_db), "x", "--topic", "Ada Quil"])
    assert res.exit_code == 1 and "did you mean 'Ada Quill'?" in res.output


def test_check_topics_says_up_front_what_retrieve_would_fail_on(fs_db):
    """`facttune score` asks this before any stage runs, to name the input line of a bad topic."""
    r = retriever("bm25", {"source": str(fs_db)})
    got = r.check_topics(["Ada Quill", "ada quill", "Ada Quil", None, "Nobody Atall"])
    assert got[:2] == [None, None]
    assert got[2] == "unknown topic 'Ada Quil'; did you mean 'Ada Quill'?"
    assert "no topic" in got[3] and got[4] == "unknown topic 'Nobody Atall'"
    for ok in ({"on_unknown_topic": "empty"}, {"topic_only": False}):  # these never fail on a topic
        assert retriever("bm25", {"source": str(fs_db), **ok}).check_topics(["Ada Quil", None]) == [None, None]



# ---------------------------------------------------------------------------- bad input

def test_missing_db_names_file_and_key(tmp_path):
    missing = tmp_path / "nope.db"
    with pytest.raises(FacttuneError) as e:
        retriever("bm25", {"source": str(missing)})
    msg = one_line(e.value)
    assert str(missing) in msg and "retrieve.args.source" in msg and "not found" in msg
    res = CliRunner().invoke(kb_app(), ["kb", "search", str(missing), "x"])
    assert res.exit_code == 1 and str(missing) in res.output and "Traceback" not in res.output


def test_bad_config_is_a_config_error_naming_the_key(fs_db):
    with pytest.raises(FacttuneError) as e:  # validation problems come as a ProblemList
        retriever("bm25", {"source": str(fs_db), "query_template": "{person} {claim}"})
    assert "retrieve.args.query_template" in str(e.value)
    with pytest.raises(FacttuneError) as e:
        retriever("dense", {"source": str(fs_db), "topic_onyl": False})
    assert "retrieve.args.topic_onyl" in str(e.value) and "Did you mean 'topic_only'" in str(e.value)


def test_empty_source_and_wrong_columns(tmp_path):
    from facttune_retrieval.kb import resolve_db
    from facttune_retrieval.sources import SourceSpec

    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        retriever("bm25", {"source": str(empty)})
    assert "empty knowledge source" in one_line(e.value) and str(empty) in str(e.value)
    wrong = tmp_path / "docs.jsonl"
    wrong.write_text(json.dumps({"name": "A", "body": "A is a letter."}) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        retriever("bm25", {"source": str(wrong)})
    msg = one_line(e.value)
    assert str(wrong) in msg and "line 1" in msg and "'title'" in msg and "name, body" in msg
    ok = resolve_db(str(wrong), SourceSpec(title_field="name", text_field="body"))
    assert ok.exists()
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    pfile = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"page": ["A"], "content": ["A is a letter."]}), pfile)
    res = CliRunner().invoke(kb_app(), ["kb", "build", str(pfile), "--out", str(tmp_path / "p.db")])
    assert res.exit_code == 1 and "no column 'title'" in res.output and "page, content" in res.output
    assert not (tmp_path / "p.db").exists()
    notdb = tmp_path / "x.db"
    sqlite3.connect(notdb).execute("CREATE TABLE t (a)").connection.commit()
    with pytest.raises(DataError, match="no table 'documents"):
        retriever("bm25", {"source": str(notdb)})


def test_build_from_jsonl_and_parquet_then_search(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    rows = [{"title": t, "text": "\n\n".join(ps)} for t, ps in ARTICLES.items()]
    rows.append({"title": "Ada Quill", "text": "a duplicate title is skipped"})
    j = tmp_path / "docs.jsonl"
    j.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    p = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"t": [r["title"] for r in rows], "x": [r["text"] for r in rows]}), p)
    runner = CliRunner()
    for src, extra in ((j, []), (p, ["--title-field", "t", "--text-field", "x"])):
        out = tmp_path / f"{src.suffix[1:]}.db"
        res = runner.invoke(kb_app(), ["kb", "build", str(src), "--out", str(out), *extra])
        assert res.exit_code == 0, res.output
        assert "3 documents" in res.output and "1 skipped" in res.output
        res = runner.invoke(kb_app(), ["kb", "search", str(out), "Who printed the atlases in Porto?",
                                       "--topic", "ada quill", "-k", "1"])
        assert res.exit_code == 0 and "printed in Porto" in res.output, res.output
    # retrievers build a non-db source into the cache once, keyed by content
    r = retriever("bm25", {"source": str(j)})
    assert r.db_path.parent.parent == Path(__import__("os").environ["FACTTUNE_CACHE_DIR"])
    assert retriever("bm25", {"source": str(j)}).db_path == r.db_path


def test_passage_splitting_respects_the_token_budget():
    from facttune_retrieval.kb import count_tokens, split_passages

    text = " ".join(f"Sentence number {i} says something about the history of cartography." for i in range(200))
    ps = split_passages(text, 64)
    assert len(ps) > 5 and all(count_tokens(p) <= 64 for p in ps)
    assert " ".join(ps).split() == text.split()  # nothing lost or reordered
    long_word_run = "word " * 1000
    assert all(count_tokens(p) <= 50 for p in split_passages(long_word_run, 50))
    assert split_passages(["First para.", "", "Second para."], 256) == ["First para. Second para."]


# ---------------------------------------------------------------------------- atomic build

def test_interrupted_build_leaves_nothing_that_looks_complete(tmp_path):
    from facttune_retrieval.kb import KnowledgeBase, build_db

    out = tmp_path / "kb.db"

    def docs():
        yield "A", "A is first."
        yield "B", "B is second."
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_db(docs(), out, source="test")
    assert not out.exists() and list(tmp_path.iterdir()) == []
    # killed outright (no cleanup runs): the partial file is not the db, and it is refused if opened
    script = textwrap.dedent(f"""
        import os, signal
        from facttune_retrieval.kb import build_db
        def docs():
            yield "A", "A is first."
            yield "B", "B is second."
            os.kill(os.getpid(), signal.SIGKILL)
        build_db(docs(), {str(out)!r}, source="test")
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode != 0
    assert not out.exists()
    for partial in tmp_path.iterdir():
        if partial.stat().st_size:
            with pytest.raises(DataError, match="incomplete|cannot read|no table"):
                KnowledgeBase(partial)
    # a db whose meta lacks 'complete' is refused
    bad = tmp_path / "bad.db"
    build_db([("A", "A is first.")], bad, source="test")
    conn = sqlite3.connect(bad)
    conn.execute("DELETE FROM facttune_meta WHERE key='complete'")
    conn.commit()
    conn.close()
    with pytest.raises(DataError, match="incomplete"):
        KnowledgeBase(bad)


# ---------------------------------------------------------------------------- packaged source

def test_packaged_db_marie_curie_cli_offline(vital_db):
    res = CliRunner().invoke(kb_app(), ["kb", "search", str(vital_db), "Nobel Prize", "--topic", "Marie Curie"])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("[1] Marie Curie") and "Nobel Prize in Chemistry" in res.output


def test_packaged_cli_subprocess(vital_db):
    proc = subprocess.run(["facttune", "kb", "search", str(vital_db), "Nobel Prize", "--topic", "Marie Curie",
                           "-k", "1"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Marie Curie" in proc.stdout and "1903 Nobel Prize in Physics" in proc.stdout


def test_bio_people_split_deterministic_disjoint(vital_db):
    def load(**kw):
        args = {"n_train": 30, "n_val": 5, "n_test": 10, "source": str(vital_db), **kw}
        return build_component(PromptSource, "retrieval/bio-people", args, Context(key="data.args"),
                               key="data.args").load()

    a, b, c = load(), load(), load(seed=1)
    assert [(p.id, p.split, p.text) for p in a.prompts] == [(p.id, p.split, p.text) for p in b.prompts]
    assert [p.id for p in a.prompts] != [p.id for p in c.prompts]
    splits = {s: {p.topic for p in a.prompts if p.split == s} for s in ("train", "val", "test")}
    assert [len(splits[s]) for s in ("train", "val", "test")] == [30, 5, 10]
    assert not (splits["train"] & splits["test"]) and not (splits["train"] & splits["val"])
    assert not (splits["val"] & splits["test"])
    assert all(p.id.startswith("bio-") and p.text == f"Write me a paragraph biography of {p.topic}."
               for p in a.prompts)
    # a bigger train set keeps the order: the first prompts are the same people
    bigger = load(n_train=40)
    assert [p.topic for p in bigger.prompts[:30]] == [p.topic for p in a.prompts if p.split == "train"]
    from facttune_retrieval.kb import KnowledgeBase

    kb = KnowledgeBase(vital_db)
    assert all(kb.has(p.topic) for p in a.prompts)
    base = load(template="Here is a biography of {topic}.", reference=True)
    assert base.prompts[0].text.startswith("Here is a biography of") and base.prompts[0].reference
    with pytest.raises(ConfigError) as e:
        load(n_train=5000)
    assert "data.args.n_train" in one_line(e.value)
    with pytest.raises(FacttuneError, match="data.args.template"):
        load(template="About {person}.")


def test_hf_prompts_from_jsonl_and_parquet(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    rows = [{"q": f"Tell me about {n}.", "name": n, "part": "test" if i % 2 else "train"}
            for i, n in enumerate(ARTICLES)]
    p = tmp_path / "prompts.parquet"
    pq.write_table(pa.Table.from_pylist(rows), p)
    j = tmp_path / "prompts.jsonl"
    j.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    for path in (p, j):
        args = {"path": str(path), "text_field": "q", "topic_field": "name", "split_field": "part"}
        bundle = build_component(PromptSource, "retrieval/hf-prompts", args, Context(key="data.args"),
                                 key="data.args").load()
        assert [x.text for x in bundle.prompts] == [r["q"] for r in rows]
        assert [x.split for x in bundle.prompts] == [r["part"] for r in rows]
        assert bundle.prompts[1].topic == "Émile Durkheim"
    with pytest.raises(DataError) as e:
        build_component(PromptSource, "retrieval/hf-prompts", {"path": str(p), "text_field": "prompt"},
                        Context(key="data.args"), key="data.args").load()
    assert "no column 'prompt'" in one_line(e.value) and "data.args.text_field" in str(e.value)


# ---------------------------------------------------------------------------- dense (real model)

@pytest.mark.slow
def test_dense_ranks_the_right_passage_first(fs_db):
    r = retriever("dense", {"source": str(fs_db), "k": 3})
    ev = r.retrieve([claim("Quill produced maps of islands in the Atlantic.", "Ada Quill"),
                     claim("She was a teacher of mathematics for seamen.", "Ada Quill", 1),
                     claim("Durkheim wrote a book about suicide.", "Émile Durkheim", 2)])
    assert "atlases" in ev[0].passages[-1].text
    assert "geometry" in ev[1].passages[-1].text
    assert "suicide" in ev[2].passages[-1].text
    assert all([p.score for p in e.passages] == sorted(p.score for p in e.passages) for e in ev)
    whole = retriever("dense", {"source": str(fs_db), "k": 2, "topic_only": False})
    got = whole.retrieve([claim("an Italian musician who played the violin in South America", None)])
    assert got[0].passages[-1].title == "Bruno Vell"
    assert (whole.index_dir() / "embeddings.npy").exists()

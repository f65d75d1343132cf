"""A SQLite (WAL) cache of model and API calls, shared across runs.

Keyed by sha256 of (component, model, input, decoding params): two recipes that share a judge share
its answers, and a killed run resumes without paying twice. Values are JSON.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .errors import DataError
from .store import make_dir

T = TypeVar("T")
R = TypeVar("R")


def stable_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def call_key(component: str, model: str | None, input: Any, params: Any = None) -> str:
    """sha256 over (component, model, input, params)."""
    blob = stable_json({"c": component, "m": model, "i": input, "p": params})
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0

    def snapshot(self) -> tuple[int, int]:
        return self.hits, self.misses


class CallCache:
    """Thread-safe; ``path=None`` keeps an in-memory cache (tests, ``--no-cache``)."""

    def __init__(self, path: Path | str | None) -> None:
        self.path = Path(path) if path else None
        self.stats = CacheStats()
        self.refresh = False  # True: ignore stored answers (recompute and overwrite), e.g. --force-from
        self._lock = threading.Lock()
        if self.path is not None:
            make_dir(self.path.parent)
            if self.path.exists() and not self.path.is_file():
                raise DataError("is a folder, not a call cache file (run.cache or FACTTUNE_CACHE_DIR names it)",
                                where=str(self.path))
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as err:  # garbage or a truncated file: the cache is only an optimisation
            if self.path is None or not self.path.is_file() or "unable to open" in str(err):
                raise DataError(f"cannot open the call cache ({err})", where=str(self.path)) from None
            aside = self.path.with_name(f"{self.path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
            for suffix in ("", "-wal", "-shm"):
                part = Path(str(self.path) + suffix)
                if part.exists():
                    part.replace(Path(str(aside) + suffix))
            sys.stderr.write(f"warning: {self.path}: not a usable call cache ({err}); set aside as {aside.name}, "
                             "continuing with an empty one\n")
            self._conn = self._open()

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path) if self.path else ":memory:", check_same_thread=False,
                               timeout=30.0, isolation_level=None)
        try:
            if self.path is not None:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, component TEXT, "
                         "value TEXT NOT NULL, created REAL)")
            conn.execute("SELECT key, value FROM calls LIMIT 1").fetchall()
        except sqlite3.DatabaseError:
            conn.close()
            raise
        return conn

    def get(self, key: str) -> Any | None:
        if self.refresh:
            self.stats.misses += 1
            return None
        with self._lock:
            row = self._conn.execute("SELECT value FROM calls WHERE key=?", (key,)).fetchone()
        if row is None:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        return json.loads(row[0])

    def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        uniq = list(dict.fromkeys(keys)) if not self.refresh else []
        with self._lock:
            for i in range(0, len(uniq), 500):
                chunk = uniq[i:i + 500]
                marks = ",".join("?" * len(chunk))
                for k, v in self._conn.execute(f"SELECT key, value FROM calls WHERE key IN ({marks})", chunk):
                    found[k] = json.loads(v)
        self.stats.hits += sum(1 for k in keys if k in found)
        self.stats.misses += sum(1 for k in keys if k not in found)
        return found

    def put(self, key: str, value: Any, component: str = "") -> None:
        self.put_many([(key, value)], component)

    def put_many(self, items: Sequence[tuple[str, Any]], component: str = "") -> None:
        if not items:
            return
        now = time.time()
        rows = [(k, component, json.dumps(v, ensure_ascii=False), now) for k, v in items]
        with self._lock:
            self._conn.execute("BEGIN")
            self._conn.executemany("INSERT OR REPLACE INTO calls VALUES (?,?,?,?)", rows)
            self._conn.execute("COMMIT")

    def map(self, component: str, model: str | None, inputs: Sequence[T], params: Any,
            fn: Callable[[list[T]], list[R]], batch_size: int | None = None) -> list[R]:
        """Look every input up; call ``fn`` on the misses (in batches of ``batch_size``, each
        batch stored as soon as it returns), and return results aligned with ``inputs``."""
        keys = [call_key(component, model, x, params) for x in inputs]
        found = self.get_many(keys)
        todo = [i for i, k in enumerate(keys) if k not in found]
        # identical inputs in one batch are computed once
        first: dict[str, int] = {}
        todo_uniq = [i for i in todo if first.setdefault(keys[i], i) == i]
        step = batch_size or max(1, len(todo_uniq))
        for s in range(0, len(todo_uniq), step):
            idx = todo_uniq[s:s + step]
            out = fn([inputs[i] for i in idx])
            if len(out) != len(idx):
                raise RuntimeError(f"{component}: returned {len(out)} results for {len(idx)} inputs")
            # round-trip through JSON so a hit and a miss look identical to the caller
            pairs = [(keys[i], json.loads(json.dumps(o))) for i, o in zip(idx, out, strict=True)]
            self.put_many(pairs, component)
            found.update(pairs)
        return [found[k] for k in keys]

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

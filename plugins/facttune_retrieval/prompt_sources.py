"""Prompt sources: bio prompts about the packaged people, and prompts from HF / parquet / JSONL."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from facttune_core import (
    ConfigError,
    Context,
    DataBundle,
    DataError,
    FacttuneError,
    Prompt,
    import_extra,
    iter_jsonl,
    slug,
)

from .kb import (
    WIKI_VITAL,
    WIKI_VITAL_ATTRIBUTION,
    KnowledgeBase,
    resolve_db,
    resolve_path,
)
from .sources import SourceSpec, wiki_vital_entries


def _check_topic_template(v: str) -> str:
    try:
        v.format(topic="x")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"the template may use only {{topic}} ({exc!r})") from None
    return v


class BioPeople:
    """Bio prompts about the people of the packaged Wikipedia summaries, split by a fixed seed."""

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        n_train: int = Field(100, ge=0)
        n_val: int = Field(0, ge=0)
        n_test: int = Field(50, ge=0)
        seed: int = 0
        template: str = Field("Write me a paragraph biography of {topic}.",
                              description="base models: 'Here is a biography of {topic}.'")
        category: str = Field("People", description="the packaged summaries' topic to draw from")
        source: str = Field(WIKI_VITAL, description="the knowledge db the topics must exist in (so topic "
                            "lookup works): 'wiki-vital' or a db path")
        reference: bool = Field(False, description="attach the Wikipedia summary as the prompt's reference")

        @field_validator("template")
        @classmethod
        def _template(cls, v: str) -> str:
            return _check_topic_template(v)

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx

    def load(self) -> DataBundle:
        c = self.c
        rows = [r for r in wiki_vital_entries() if r.get("topic") == c.category]
        if not rows:
            cats = sorted({str(r.get("topic")) for r in wiki_vital_entries()})
            raise ConfigError(f"no packaged articles in category '{c.category}' (categories: {', '.join(cats)})",
                              key=self.ctx.key_for("category"))
        base = self.ctx.recipe_path.parent if self.ctx.recipe_path else None
        try:
            kb = KnowledgeBase(resolve_db(c.source, SourceSpec(), base))
        except FacttuneError as err:
            raise err.located(key=self.ctx.key_for("source")) from None
        try:
            rows = [r for r in rows if kb.has(r["title"])]
        finally:
            kb.close()
        need = c.n_train + c.n_val + c.n_test
        if need == 0:
            raise ConfigError("n_train + n_val + n_test is 0", key=self.ctx.key_for("n_train"))
        if need > len(rows):
            raise ConfigError(f"asks for {need} prompts (n_train + n_val + n_test) but the source has "
                              f"{len(rows)} people", key=self.ctx.key_for("n_train"))
        rows.sort(key=lambda r: r["title"])
        random.Random(f"bio-people:{c.seed}").shuffle(rows)
        splits = ["train"] * c.n_train + ["val"] * c.n_val + ["test"] * c.n_test
        prompts: list[Prompt] = []
        used: set[str] = set()
        for r, split in zip(rows, splits, strict=False):
            pid = "bio-" + slug(r["title"])
            n = 2
            while pid in used:  # two titles with the same slug
                pid = f"bio-{slug(r['title'])}-{n}"
                n += 1
            used.add(pid)
            prompts.append(Prompt(id=pid, text=c.template.format(topic=r["title"]), topic=r["title"], split=split,
                                  reference=r["extract"] if c.reference else None,
                                  meta={"description": r.get("description") or ""}))
        return DataBundle(prompts=prompts, info={"source": WIKI_VITAL, "attribution": WIKI_VITAL_ATTRIBUTION,
                                                 "available": len(rows)})


class HFPrompts:
    """Prompts from a HF dataset ('hf:<name>[:<config>]' or a save_to_disk folder), parquet or JSONL."""

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        path: str = Field(description="'hf:<name>[:<config>]', a datasets folder, .parquet or .jsonl")
        split: str = Field("train", description="the dataset's split to read (HF)")
        text_field: str | None = "prompt"
        template: str | None = Field(None, description="build the prompt from the row, e.g. "
                                     "'Write me a paragraph biography of {topic}.'")
        id_field: str | None = None
        topic_field: str | None = None
        split_field: str | None = None
        reference_field: str | None = None
        default_split: str = "train"
        id_prefix: str = "p"
        limit: int | None = Field(None, ge=1)

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx

    def _rows(self) -> tuple[list[dict[str, Any]], str]:
        c = self.c
        base = self.ctx.recipe_path.parent if self.ctx.recipe_path else None
        if c.path.startswith("hf:") or (resolve_path(c.path, base).is_dir()):
            datasets = import_extra("datasets", "datasets")

            name = c.path[3:] if c.path.startswith("hf:") else str(resolve_path(c.path, base))
            try:
                if Path(name).is_dir():
                    ds = datasets.load_from_disk(name)
                    if isinstance(ds, datasets.DatasetDict):
                        ds = ds[c.split]
                else:
                    repo, _, conf = name.partition(":")
                    ds = datasets.load_dataset(repo, conf or None, split=c.split)
            except Exception as exc:  # noqa: BLE001 - the user fixes the name / split
                msg = str(exc).splitlines()[0] if str(exc) else ""
                raise DataError(f"cannot load dataset ({type(exc).__name__}: {msg})", where=name,
                                key=self.ctx.key_for("path")) from None
            if c.limit:
                ds = ds.select(range(min(c.limit, len(ds))))
            return [dict(r) for r in ds], name
        path = resolve_path(c.path, base)
        if not path.exists():
            raise DataError("file not found", where=str(path), key=self.ctx.key_for("path"))
        if path.name.lower().endswith(".parquet"):
            pq = import_extra("pyarrow.parquet", "datasets")

            try:
                table = pq.read_table(str(path))
            except Exception as exc:  # noqa: BLE001
                raise DataError(f"not a readable parquet file ({exc})", where=str(path)) from None
            rows = table.to_pylist()
            return rows[: c.limit] if c.limit else rows, str(path)

        rows = [r for _, r in iter_jsonl(path)]
        return rows[: c.limit] if c.limit else rows, str(path)

    def load(self) -> DataBundle:
        c = self.c
        rows, where = self._rows()
        if not rows:
            raise DataError("no prompts", where=where)
        columns = list(rows[0])
        for name in ("text_field", "id_field", "topic_field", "split_field", "reference_field"):
            col = getattr(c, name)
            if col and not (name == "text_field" and c.template) and col not in columns:
                raise DataError(f"no column '{col}' (columns: {', '.join(map(str, columns))})", where=where,
                                key=self.ctx.key_for(name))
        prompts = []
        for i, row in enumerate(rows):
            topic = row.get(c.topic_field) if c.topic_field else None
            if c.template:
                try:
                    text = c.template.format(topic=topic, **{k: v for k, v in row.items() if k != "topic"})
                except (KeyError, IndexError) as exc:
                    raise ConfigError(f"template names {exc} which is not a column", key=self.ctx.key_for("template")
                                      ) from None
            else:
                text = row.get(c.text_field or "")
            if not isinstance(text, str) or not text.strip():
                raise DataError(f"missing or empty '{c.text_field}'", where=where, key=f"row {i}")
            pid = str(row[c.id_field]) if c.id_field and row.get(c.id_field) is not None else f"{c.id_prefix}{i:05d}"
            split = str(row.get(c.split_field) or c.default_split) if c.split_field else c.default_split
            prompts.append(Prompt(id=pid, text=text, topic=str(topic) if topic is not None else None, split=split,
                                  reference=row.get(c.reference_field) if c.reference_field else None))
        ids = [p.id for p in prompts]
        if len(set(ids)) != len(ids):
            raise DataError("duplicate prompt ids", where=where, key=self.ctx.key_for("id_field"))
        return DataBundle(prompts=prompts, info={"source": where})

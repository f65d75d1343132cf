"""facttune bundled plugin 'retrieval': knowledge sources, BM25 / dense evidence, bio prompt sets.

- evidence retrievers ``retrieval/bm25`` and ``retrieval/dense`` over a passage db in FActScore's
  format (FActScore's own db is read as is; JSONL, parquet, HF datasets and the packaged
  ``wiki-vital`` summaries are built into one);
- prompt sources ``retrieval/bio-people`` (the packaged people, split by seed) and
  ``retrieval/hf-prompts`` (HF dataset / parquet / JSONL);
- CLI ``facttune kb build|search|info``.

Heavy libraries (bm25s, sentence-transformers, datasets) load inside the components.
"""

from __future__ import annotations

from typing import Any

from facttune_core import Register, hookimpl

from .prompt_sources import BioPeople, HFPrompts
from .retrievers import BM25Retriever, DenseRetriever

__version__ = "0.1.0"


@hookimpl
def register_evidence_retrievers(register: Register) -> None:
    register("bm25", BM25Retriever)
    register("dense", DenseRetriever)


@hookimpl
def register_prompt_sources(register: Register) -> None:
    register("bio-people", BioPeople)
    register("hf-prompts", HFPrompts)


@hookimpl
def register_commands(cli: Any) -> None:
    from .commands import register

    register(cli)

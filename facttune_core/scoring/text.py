"""Sentence splitting and the sentence → claim loop shared by claim extractors; slugs."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from ..contract.context import Context
from ..contract.records import Claim, Response

_FALLBACK = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


@lru_cache(maxsize=1)
def _splitter() -> Any:
    try:
        import nupunkt  # light: pure Python, model bundled

        return nupunkt
    except ImportError:  # pragma: no cover - nupunkt is a dependency
        return None


def split_sentences(text: str) -> list[str]:
    text = text.strip()
    if not text:
        return []
    mod = _splitter()
    sents = list(mod.sent_tokenize(text)) if mod is not None else _FALLBACK.split(text)
    return [s.strip() for s in sents if s and s.strip()]


def merge_short_sentences(sentences: list[str], min_words: int = 11) -> list[str]:
    """FactTune's variant: a sentence of ``<= min_words`` words is merged into the next one."""
    out: list[str] = []
    carry = ""
    for s in sentences:
        s = (carry + " " + s).strip() if carry else s
        if len(s.split()) <= min_words:
            carry = s
            continue
        out.append(s)
        carry = ""
    if carry:
        if out:
            out[-1] = out[-1] + " " + carry
        else:
            out.append(carry)
    return out


def word_count(text: str) -> int:
    return len(text.split())


def slug(text: str) -> str:
    """An id-safe name: accents and case folded, every run of other characters one dash
    ('Émile  Durkheim!' → 'emile-durkheim'); 'x' when nothing is left."""
    t = unicodedata.normalize("NFKD", text)
    t = "".join(ch for ch in t if not unicodedata.combining(ch)).casefold()
    return "-".join(re.sub(r"[\W_]+", " ", t).split()) or "x"


def sentence_claims(responses: Sequence[Response], facts: Callable[[list[tuple[Response, str]]], list[list[str]]],
                    ctx: Context, *,
                    merge_short: int = 0, min_words: int = 0) -> list[list[Claim]]:
    """The loop every sentence-based claim extractor shares: split each response into sentences
    (merging sentences of <= ``merge_short`` words into the next; one under ``min_words`` words is
    skipped and counted as ``dropped_fragments``), ask ``facts`` for the facts of every kept sentence
    (with its response) at once (one batch: a local model pads, an API runs its calls concurrently), and number each
    response's claims ``<response id>/c<k>``."""
    kept: list[list[tuple[int, str]]] = []
    for r in responses:
        sents = split_sentences(r.text)
        if merge_short:
            sents = merge_short_sentences(sents, merge_short)
        ks = []
        for i, s in enumerate(sents):
            if len(s.split()) < min_words:
                ctx.count("dropped_fragments")
                continue
            ks.append((i, s))
        kept.append(ks)
    answers = iter(facts([(r, s) for r, ks in zip(responses, kept, strict=True) for _, s in ks]))
    out: list[list[Claim]] = []
    for r, ks in zip(responses, kept, strict=True):
        claims: list[Claim] = []
        for i, s in ks:
            for f in next(answers):
                claims.append(Claim(id=f"{r.id}/c{len(claims)}", response_id=r.id, prompt_id=r.prompt_id, text=f,
                                    topic=r.topic, sentence=s, sentence_index=i))
        out.append(claims)
    return out

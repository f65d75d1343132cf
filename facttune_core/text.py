"""Sentence splitting shared by claim extractors."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

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

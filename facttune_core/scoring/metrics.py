"""Factuality formulas: FActScore (Min et al. 2023) with FactTune's length penalty, SAFE's F1@K, and the
evaluation's summary and paired bootstrap. Pure functions, pinned by unit tests."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass


def factscore(n_supported: int, n_claims: int, gamma: float = 0.0) -> float | None:
    """Supported fraction; None when the response has no claims (abstained). With ``gamma > 0``
    a response with ``n < gamma`` claims is multiplied by ``exp(1 - gamma / n)``."""
    if n_claims <= 0:
        return None
    score = n_supported / n_claims
    if gamma and n_claims < gamma:
        score *= math.exp(1.0 - gamma / n_claims)
    return score


def f1_at_k(n_supported: int, n_not_supported: int, k: int) -> float:
    """SAFE's F1@K: P = S/(S+NS) (irrelevant excluded), R = min(1, S/K); 0 when S = 0."""
    if n_supported <= 0:
        return 0.0
    if k <= 0:
        raise ValueError("K must be positive")
    p = n_supported / (n_supported + n_not_supported)
    r = min(1.0, n_supported / k)
    return 2 * p * r / (p + r)


@dataclass(frozen=True)
class Summary:
    """Aggregate factuality of a set of responses."""

    n_responses: int
    n_scored: int  # responses with at least one claim
    factscore: float | None  # mean over scored responses, in [0, 1]
    mean_supported: float
    mean_unsupported: float
    mean_words: float
    abstention_rate: float
    error_rate: float | None  # unsupported / all claims (pooled)

    def as_dict(self) -> dict[str, float | int | None]:
        return dict(self.__dict__)


def summarize(per_response: Sequence[tuple[int, int, int]]) -> Summary:
    """``per_response``: (n_supported, n_claims, n_words) per response."""
    n = len(per_response)
    scored = [(s, c) for s, c, _ in per_response if c > 0]
    fs = [s / c for s, c in scored]
    tot_claims = sum(c for _, c in scored)
    tot_sup = sum(s for s, _ in scored)
    return Summary(
        n_responses=n,
        n_scored=len(scored),
        factscore=(sum(fs) / len(fs)) if fs else None,
        mean_supported=(tot_sup / n) if n else 0.0,
        mean_unsupported=((tot_claims - tot_sup) / n) if n else 0.0,
        mean_words=(sum(w for _, _, w in per_response) / n) if n else 0.0,
        abstention_rate=((n - len(scored)) / n) if n else 0.0,
        error_rate=((tot_claims - tot_sup) / tot_claims) if tot_claims else None,
    )


def paired_bootstrap(before: Sequence[float], after: Sequence[float], n_boot: int = 2000,
                     seed: int = 0, alpha: float = 0.05) -> tuple[float, float, float]:
    """Mean of (after - before) over paired units, with a percentile bootstrap CI."""
    if len(before) != len(after):
        raise ValueError("paired bootstrap needs aligned samples")
    diffs = [a - b for a, b in zip(after, before, strict=True)]
    if not diffs:
        return math.nan, math.nan, math.nan
    mean = sum(diffs) / len(diffs)
    rng = random.Random(seed)
    n = len(diffs)
    boots = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(n_boot))
    lo = boots[int((alpha / 2) * (n_boot - 1))]
    hi = boots[int((1 - alpha / 2) * (n_boot - 1))]
    return mean, lo, hi

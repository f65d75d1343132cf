"""One FActScore. Every number facttune prints about factuality is counted here, the same way:

- one joined record per claim, :class:`JoinedClaim` (claim → evidence → verdict), made by
  :func:`join_claims` from a chain's records (matched by claim id, never by position);
- one rule, :class:`FactScoreRule`: the length penalty γ and what an IR (irrelevant) verdict does
  (counts as unsupported, as in FActScore, or is left out);
- one count per response, :func:`score_claims` → :class:`ResponseScore` (supported, unsupported,
  irrelevant, the FActScore with and without γ, F1@K), and one summary over responses,
  :func:`summarize_scores`.

The reward (``rewards/factscore``, ``rewards/flame``'s factuality), ``facttune score``, the evaluate
stage, ``facttune compare`` and the reports all use these, so a ``scores.jsonl`` row, the reward of
the same response and an evaluate row cannot disagree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..contract.errors import DataError
from ..contract.records import Claim, Evidence, Prompt, Response, ScoredResponse, Verdict
from .metrics import f1_at_k, factscore
from .text import word_count

IRRELEVANT = ("unsupported", "exclude")


@dataclass(frozen=True)
class FactScoreRule:
    """How a response's verdicts become its FActScore: ``gamma`` (a response with n < γ counted
    claims is multiplied by exp(1 − γ/n); 0 = off) and ``irrelevant`` (``"unsupported"``: an IR
    claim counts against the response, as in FActScore; ``"exclude"``: it is left out)."""

    gamma: float = 0.0
    irrelevant: str = "unsupported"

    def __post_init__(self) -> None:
        if isinstance(self.gamma, bool) or not isinstance(self.gamma, int | float) or not math.isfinite(self.gamma) \
                or self.gamma < 0:
            raise ValueError(f"gamma must be a number >= 0 (got {self.gamma!r})")
        if self.irrelevant not in IRRELEVANT:
            raise ValueError(f"irrelevant must be one of {', '.join(IRRELEVANT)} (got {self.irrelevant!r})")
        object.__setattr__(self, "gamma", float(self.gamma))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of(cls, config: Any) -> FactScoreRule:
        """The rule a reward component's config sets: its ``gamma`` and ``irrelevant`` fields when it
        has them (``rewards/factscore``, ``rewards/flame``), else FActScore's defaults (γ 0, IR
        unsupported). ``facttune score`` and the evaluate stage count with the recipe's reward's rule."""
        fields = getattr(type(config), "model_fields", {}) if config is not None else {}
        kw: dict[str, Any] = {}
        if "gamma" in fields:
            kw["gamma"] = config.gamma
        if "irrelevant" in fields:
            kw["irrelevant"] = config.irrelevant
        return cls(**kw)

    @classmethod
    def from_dict(cls, data: Any) -> FactScoreRule:
        """A rule recorded in a manifest or ``score.json`` (missing: the default rule)."""
        if not isinstance(data, Mapping):
            return cls()
        return cls(gamma=data.get("gamma", 0.0), irrelevant=data.get("irrelevant", "unsupported"))


@dataclass(frozen=True)
class JoinedClaim:
    """One claim with the evidence its verifier saw and its verdict (None: not verified)."""

    claim: Claim
    evidence: Evidence | None
    verdict: Verdict | None

    def as_row(self) -> dict[str, Any]:
        """The claim → evidence → verdict row (``claims.jsonl``, the report's drill-down)."""
        c, e, v = self.claim, self.evidence, self.verdict
        return {"response_id": c.response_id, "claim_id": c.id, "topic": c.topic, "claim": c.text,
                "sentence": c.sentence, "label": v.label if v else None, "supported": v.supported if v else None,
                "p_true": v.p_true if v else None, "judge": v.judge if v else None,
                "query": e.query if e else None,
                "evidence": [{"title": p.title, "text": p.text, "score": p.score} for p in e.passages] if e else []}


def join_claims(claims: Iterable[Claim], evidence: Iterable[Evidence] = (),
                verdicts: Iterable[Verdict] = ()) -> dict[str, list[JoinedClaim]]:
    """Each response's claims, in order, joined with their evidence and verdict by claim id."""
    emap = {e.claim_id: e for e in evidence}
    vmap = {v.claim_id: v for v in verdicts}
    out: dict[str, list[JoinedClaim]] = {}
    for c in claims:
        out.setdefault(c.response_id, []).append(JoinedClaim(c, emap.get(c.id), vmap.get(c.id)))
    return out


def scored_responses(prompts: Iterable[Prompt], responses: Iterable[Response], claims: Iterable[Claim],
                     evidence: Iterable[Evidence] = (), verdicts: Iterable[Verdict] = (), *,
                     require_verdicts: bool = False) -> list[ScoredResponse]:
    """Each response with its prompt and its claims joined with their evidence and verdict (what a
    reward combiner sees). ``require_verdicts``: a claim without a verdict is an error."""
    by_id = {p.id: p for p in prompts}
    joined = join_claims(claims, evidence, verdicts)
    out = []
    for r in responses:
        js = joined.get(r.id, [])
        missing = [j.claim.id for j in js if j.verdict is None]
        if require_verdicts and missing:
            raise DataError(f"claim '{missing[0]}' has no verdict", key="verify")
        if r.prompt_id not in by_id:
            raise DataError(f"response '{r.id}' names unknown prompt '{r.prompt_id}'", key="data")
        out.append(ScoredResponse(prompt=by_id[r.prompt_id], response=r, claims=tuple(j.claim for j in js),
                                  verdicts=tuple(j.verdict for j in js if j.verdict is not None),
                                  evidence=tuple(j.evidence for j in js)))
    return out


@dataclass(frozen=True)
class ClaimCounts:
    """A response's verdicts counted: ``not_supported`` excludes IR; ``undecided``: no verdict, or
    one with ``supported`` None (both count against the response, as FActScore counts them)."""

    supported: int = 0
    not_supported: int = 0
    irrelevant: int = 0
    undecided: int = 0

    @property
    def claims(self) -> int:
        return self.supported + self.not_supported + self.irrelevant + self.undecided


def count_verdicts(verdicts: Iterable[Verdict | None]) -> ClaimCounts:
    s = ns = ir = und = 0
    for v in verdicts:
        if v is not None and v.label == "IR":
            ir += 1
        elif v is not None and v.supported is True:
            s += 1
        elif v is not None and v.supported is False:
            ns += 1
        else:
            und += 1
    return ClaimCounts(s, ns, ir, und)


@dataclass(frozen=True)
class ResponseScore:
    """One response's FActScore under a rule. ``unsupported``: the counted claims not supported (IR
    among them unless the rule leaves IR out); ``factscore`` None when no claim counts (abstained)."""

    claims: int
    supported: int
    unsupported: int
    irrelevant: int
    undecided: int
    factscore: float | None
    factscore_unpenalized: float | None

    @property
    def counted(self) -> int:
        return self.supported + self.unsupported

    @property
    def abstained(self) -> bool:
        return self.counted == 0

    def f1_at_k(self, k: int) -> float | None:
        """SAFE's F1@K: IR always left out of its precision; None when abstained."""
        if self.claims == 0:
            return None
        return f1_at_k(self.supported, self.claims - self.supported - self.irrelevant, k)

    def as_dict(self) -> dict[str, Any]:
        return {"claims": self.claims, "supported": self.supported, "unsupported": self.unsupported,
                "irrelevant": self.irrelevant, "abstained": self.abstained, "factscore": self.factscore,
                "factscore_unpenalized": self.factscore_unpenalized}


def score_counts(counts: ClaimCounts, rule: FactScoreRule = FactScoreRule()) -> ResponseScore:
    """The one counting rule: supported / counted claims (IR counted or left out), times exp(1 − γ/n)
    when n < γ; None with no counted claim."""
    counted = counts.claims - (counts.irrelevant if rule.irrelevant == "exclude" else 0)
    return ResponseScore(claims=counts.claims, supported=counts.supported, unsupported=counted - counts.supported,
                         irrelevant=counts.irrelevant, undecided=counts.undecided,
                         factscore=factscore(counts.supported, counted, rule.gamma),
                         factscore_unpenalized=factscore(counts.supported, counted))


def score_claims(joined: Sequence[JoinedClaim], rule: FactScoreRule = FactScoreRule()) -> ResponseScore:
    """A response's score from its joined claims."""
    return score_counts(count_verdicts(j.verdict for j in joined), rule)


def expected_factscore(verdicts: Sequence[Verdict | None], rule: FactScoreRule = FactScoreRule()) -> float | None:
    """The soft FActScore: each counted claim contributes its verdict's P(True) instead of 0 or 1 (a
    verdict without one contributes its supported flag; IR and undecided contribute 0), averaged, times
    exp(1 − γ/n) when n < γ; None with no counted claim. With a calibrated judge it is the expected
    FActScore, and it separates responses the hard count ties (0 supported of 6 vs 0 of 9 at P 0.4)."""
    counted = [v for v in verdicts if not (rule.irrelevant == "exclude" and v is not None and v.label == "IR")]
    if not counted:
        return None
    total = 0.0
    for v in counted:
        if v is None or v.label == "IR" or v.supported is None:
            continue
        total += float(v.p_true) if v.p_true is not None and math.isfinite(v.p_true) else float(bool(v.supported))
    n = len(counted)
    score = total / n
    if rule.gamma and n < rule.gamma:
        score *= math.exp(1.0 - rule.gamma / n)
    return score


def no_fact_share(text: str, claims: Sequence[Claim]) -> float | None:
    """The share of a response's words in sentences that gave no claim: with an extractor that drops
    filler (``spacy/atomic``), how much of the text carried no checkable fact, so a drift into filler
    shows even when the FActScore of what is left rises. None when the claims do not say which
    sentence they came from."""
    words = word_count(text)
    if not words:
        return None
    if claims and not any(c.sentence for c in claims):
        return None
    sentences = {(c.sentence_index, c.sentence) for c in claims if c.sentence}
    covered = sum(word_count(s) for _, s in sentences)
    return max(0.0, 1.0 - covered / words)


REPEAT_NGRAM = 4


def repeated_share(text: str, n: int = REPEAT_NGRAM) -> float:
    """The share of a response's word n-grams (4 words, case and punctuation folded) that already
    occurred earlier in the same response: 0 for text that never repeats itself, towards 1 for a
    sentence said over and over. FActScore counts a repeated fact once, so a model that learns to
    repeat a true sentence is not caught by it; this figure shows it. 0 for text shorter than n words."""
    words = re.findall(r"\w+", text.casefold())
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    return (1.0 - len(set(grams)) / len(grams)) if grams else 0.0


def row_repeated_share(row: Mapping[str, Any]) -> float | None:
    """A row's repeated share: as recorded, else from its text (rows written before it was recorded)."""
    if "repeated_share" in row:
        return row["repeated_share"]
    text = row.get("text")
    return repeated_share(text) if isinstance(text, str) else None


def score_of_row(row: Mapping[str, Any]) -> ResponseScore:
    """A per-response row read back (``scores.jsonl``, an evaluate row), rescored with no length
    penalty from its counts. A row written before ``unsupported`` was recorded counted every claim
    not supported."""
    sup, claims = int(row["supported"]), int(row["claims"])
    uns = row.get("unsupported")
    uns = claims - sup if uns is None else int(uns)
    ir = int(row.get("irrelevant") or 0)
    return ResponseScore(claims=claims, supported=sup, unsupported=uns, irrelevant=ir, undecided=0,
                         factscore=factscore(sup, sup + uns), factscore_unpenalized=factscore(sup, sup + uns))


def summarize_scores(scores: Sequence[ResponseScore], words: Sequence[int],
                     rule: FactScoreRule = FactScoreRule(),
                     no_fact: Sequence[float | None] = (),
                     repeated: Sequence[float | None] = ()) -> dict[str, Any]:
    """Over responses: FActScore (mean over those that did not abstain; with γ, and without it),
    claims / supported / unsupported per response, the error rate (unsupported / counted claims,
    pooled), words per response, the abstention rate, the mean share of words that gave no claim and
    the mean share of repeated 4-grams (each None when no row knows it)."""
    shares = [x for x in no_fact if x is not None]
    reps = [x for x in repeated if x is not None]
    n = len(scores)
    scored = [s for s in scores if not s.abstained]
    counted = sum(s.counted for s in scored)
    unsupported = sum(s.unsupported for s in scores)

    def mean(xs: Sequence[float]) -> float | None:
        return sum(xs) / len(xs) if xs else None

    return {
        "n_responses": n, "n_scored": len(scored), "gamma": rule.gamma, "irrelevant": rule.irrelevant,
        "factscore": mean([s.factscore for s in scored if s.factscore is not None]),
        "factscore_unpenalized": mean([s.factscore_unpenalized for s in scored if s.factscore_unpenalized is not None]),
        "claims_per_response": (sum(s.claims for s in scores) / n) if n else 0.0,
        "mean_supported": (sum(s.supported for s in scores) / n) if n else 0.0,
        "mean_unsupported": (unsupported / n) if n else 0.0,
        "mean_words": (sum(words) / n) if n else 0.0,
        "abstention_rate": ((n - len(scored)) / n) if n else 0.0,
        "error_rate": (unsupported / counted) if counted else None,
        "no_fact_share": (sum(shares) / len(shares)) if shares else None,
        "repeated_share": (sum(reps) / len(reps)) if reps else None,
    }


__all__ = ["ClaimCounts", "FactScoreRule", "JoinedClaim", "ResponseScore", "count_verdicts", "expected_factscore",
           "join_claims", "no_fact_share", "repeated_share", "row_repeated_share", "scored_responses",
           "score_claims", "score_counts", "score_of_row", "summarize_scores"]

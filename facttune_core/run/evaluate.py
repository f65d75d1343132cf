"""The evaluate stage's scores: one row per held-out response, and the statistics per variant and
for after − before (paired bootstrap CIs over prompts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from .. import metrics
from ..claim_scores import (
    FactScoreRule,
    ResponseScore,
    join_claims,
    no_fact_share,
    score_claims,
    score_of_row,
    summarize_scores,
)
from ..contract.records import Claim, Evidence, Response, Verdict
from ..text import word_count


def evaluation_rows(variant: str, responses: Sequence[Response], claims: Sequence[Claim],
                    verdicts: Sequence[Verdict], rule: FactScoreRule = FactScoreRule(),
                    evidence: Sequence[Evidence] = ()) -> list[dict[str, Any]]:
    """Per response: its claims, how many are supported / unsupported / irrelevant, its words and
    FActScore, counted by the one rule (``claim_scores``) the reward and ``facttune score`` use."""
    joined = join_claims(claims, evidence, verdicts)
    rows = []
    for r in responses:
        js = joined.get(r.id, [])
        rs = score_claims(js, rule)
        rows.append({"variant": variant, "prompt_id": r.prompt_id, "response_id": r.id, "topic": r.topic,
                     **rs.as_dict(), "words": word_count(r.text),
                     "no_fact_share": no_fact_share(r.text, [j.claim for j in js]), "text": r.text})
    return rows


def evaluation_summary(rows: list[dict[str, Any]], n_boot: int = 2000, seed: int = 0,
                       rule: FactScoreRule = FactScoreRule()) -> dict[str, Any]:
    """Per variant: FActScore %, mean supported / unsupported claims, mean words, abstention rate;
    and for after − before, paired bootstrap CIs over prompts."""
    out: dict[str, Any] = {"variants": {}}
    by_var: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_var.setdefault(r["variant"], []).append(r)
    for v, rs in by_var.items():
        scores = [_row_score(r) for r in rs]
        out["variants"][v] = summarize_scores(scores, [r["words"] for r in rs], rule,
                                              [r.get("no_fact_share") for r in rs])
    if "before" in by_var and "after" in by_var:
        def per_prompt(rs: list[dict[str, Any]], field_name: str) -> dict[str, float]:
            acc: dict[str, list[float]] = {}
            for r in rs:
                val = r[field_name]
                if field_name.startswith("factscore") and val is None:
                    continue
                acc.setdefault(r["prompt_id"], []).append(float(val))
            return {k: sum(v) / len(v) for k, v in acc.items()}

        diffs = {}
        for name in ("factscore", "factscore_unpenalized", "supported", "unsupported", "claims", "words",
                     "no_fact_share"):
            if any(r.get(name) is None and not name.startswith("factscore") for r in rows):
                continue  # rows written before this figure existed
            b, a = per_prompt(by_var["before"], name), per_prompt(by_var["after"], name)
            common = sorted(set(a) & set(b))
            mean, lo, hi = metrics.paired_bootstrap([b[k] for k in common], [a[k] for k in common], n_boot, seed)
            diffs[name] = {"mean": mean, "ci_low": lo, "ci_high": hi, "n_prompts": len(common)}
        out["difference"] = diffs
        eb, ea = out["variants"]["before"].get("error_rate"), out["variants"]["after"].get("error_rate")
        if eb and ea is not None:
            out["relative_error_reduction"] = (eb - ea) / eb
    return out


def _row_score(row: dict[str, Any]) -> ResponseScore:
    """An evaluate row as a ResponseScore, keeping the FActScore (with γ) it was written with."""
    return replace(score_of_row(row), factscore=row["factscore"])

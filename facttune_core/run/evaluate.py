"""The evaluate stage's scores: one row per held-out response, and the statistics per variant and
for after − before (paired bootstrap CIs over prompts): FActScore and the claim counts (by the one
counting rule, ``claim_scores``), the share of words that gave no fact, and for each reward of an
``[evaluate.reward]`` component its mean and the after-vs-before win rate. With ``group_by`` every
figure again per group of prompts (FLAME: fact-seeking or not)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..contract.records import Claim, Evidence, Response, Reward, Verdict
from ..scoring import metrics
from ..scoring.claim_scores import (
    FactScoreRule,
    ResponseScore,
    join_claims,
    no_fact_share,
    repeated_share,
    row_repeated_share,
    score_claims,
    score_of_row,
    summarize_scores,
)
from ..scoring.text import word_count


def evaluation_rows(variant: str, responses: Sequence[Response], claims: Sequence[Claim],
                    verdicts: Sequence[Verdict], rule: FactScoreRule = FactScoreRule(),
                    evidence: Sequence[Evidence] = (), rewards: Sequence[Reward] = (),
                    groups: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Per response: its claims, how many are supported / unsupported / irrelevant, its words, the
    share of its words that gave no fact and its FActScore, counted by the one rule (``claim_scores``)
    the reward and ``facttune score`` use; its rewards (when the evaluation scores some) and its
    prompt's group (``groups``: prompt id → group)."""
    joined = join_claims(claims, evidence, verdicts)
    by_resp: dict[str, dict[str, float | None]] = {}
    for w in rewards:
        by_resp.setdefault(w.response_id, {})[w.name] = w.value
    rows = []
    for r in responses:
        js = joined.get(r.id, [])
        rs = score_claims(js, rule)
        rows.append({"variant": variant, "prompt_id": r.prompt_id, "response_id": r.id, "topic": r.topic,
                     **rs.as_dict(), "words": word_count(r.text),
                     "no_fact_share": no_fact_share(r.text, [j.claim for j in js]),
                     "repeated_share": repeated_share(r.text), "text": r.text})
        if rewards:
            rows[-1]["rewards"] = by_resp.get(r.id, {})
        if groups is not None:
            rows[-1]["group"] = group_name(groups.get(r.prompt_id))
    return rows


def group_name(value: Any) -> str:
    """A prompt.meta value as a group's name (JSON spelling: true / false / null)."""
    return value if isinstance(value, str) else json.dumps(value)


def win_rate(before: Sequence[float], after: Sequence[float], tie: float = 1e-6) -> float | None:
    """P(an after response beats a before one) over all before × after pairs, ties counted half; values
    within ``tie`` of each other are a tie (the same text scored in another batch may differ in the
    last digits)."""
    if not before or not after:
        return None
    wins = sum(0.5 if abs(a - b) <= tie else 1.0 if a > b else 0.0 for a in after for b in before)
    return wins / (len(before) * len(after))


def evaluation_summary(rows: list[dict[str, Any]], n_boot: int = 2000, seed: int = 0,
                       rule: FactScoreRule = FactScoreRule()) -> dict[str, Any]:
    """Per variant: FActScore %, facts, supported and unsupported claims per response, words, the share
    of words with no fact and of repeated 4-grams (from the text for rows written before it was recorded),
    abstention rate, mean of each reward; for after − before, paired bootstrap CIs over prompts, and each
    reward's win rate (after vs before, per prompt, then the mean over prompts with a bootstrap CI); with
    groups, the same per group under ``groups``."""
    rows = [r if "repeated_share" in r else {**r, "repeated_share": row_repeated_share(r)} for r in rows]
    out = _summary(rows, n_boot, seed, rule)
    names = sorted({str(r["group"]) for r in rows if "group" in r})
    if names:
        out["groups"] = {g: _summary([r for r in rows if r.get("group") == g], n_boot, seed, rule) for g in names}
    return out


def _reward_values(rs: list[dict[str, Any]]) -> dict[str, dict[str, list[float]]]:
    """reward name → prompt id → its responses' values (None left out)."""
    out: dict[str, dict[str, list[float]]] = {}
    for r in rs:
        for name, value in (r.get("rewards") or {}).items():
            if value is not None:
                out.setdefault(name, {}).setdefault(r["prompt_id"], []).append(float(value))
    return out


DIFFERENCES = ("factscore", "factscore_unpenalized", "supported", "unsupported", "claims", "words", "no_fact_share",
               "repeated_share")


def _summary(rows: list[dict[str, Any]], n_boot: int, seed: int, rule: FactScoreRule) -> dict[str, Any]:
    out: dict[str, Any] = {"variants": {}}
    by_var: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_var.setdefault(r["variant"], []).append(r)
    for v, rs in by_var.items():
        scores = [_row_score(r) for r in rs]
        out["variants"][v] = summarize_scores(scores, [r["words"] for r in rs], rule,
                                              [r.get("no_fact_share") for r in rs],
                                              [r.get("repeated_share") for r in rs])
        values = _reward_values(rs)
        if values:
            out["variants"][v]["rewards"] = {
                name: sum(x for xs in per.values() for x in xs) / sum(len(xs) for xs in per.values())
                for name, per in sorted(values.items())}
    if "before" in by_var and "after" in by_var:
        def per_prompt(rs: list[dict[str, Any]], field_name: str) -> dict[str, float]:
            acc: dict[str, list[float]] = {}
            for r in rs:
                val = r.get(field_name)
                if val is None:
                    continue  # an abstained response has no FActScore
                acc.setdefault(r["prompt_id"], []).append(float(val))
            return {k: sum(v) / len(v) for k, v in acc.items()}

        diffs = {}
        for name in DIFFERENCES:
            if any(r.get(name) is None and not name.startswith("factscore") for r in rows):
                continue  # rows written before this figure existed
            b, a = per_prompt(by_var["before"], name), per_prompt(by_var["after"], name)
            common = sorted(set(a) & set(b))
            mean, lo, hi = metrics.paired_bootstrap([b[k] for k in common], [a[k] for k in common], n_boot, seed)
            diffs[name] = {"mean": mean, "ci_low": lo, "ci_high": hi, "n_prompts": len(common)}
        out["difference"] = diffs
        wb, wa = _reward_values(by_var["before"]), _reward_values(by_var["after"])
        wins = {}
        for name in sorted(set(wb) & set(wa)):
            per = {k: win_rate(wb[name][k], wa[name][k]) for k in sorted(set(wb[name]) & set(wa[name]))}
            rates = [v for v in per.values() if v is not None]
            if not rates:
                continue
            mean, lo, hi = metrics.paired_bootstrap([0.0] * len(rates), rates, n_boot, seed)
            wins[name] = {"mean": mean, "ci_low": lo, "ci_high": hi, "n_prompts": len(rates)}
        if wins:
            out["win_rate"] = wins
        eb, ea = out["variants"]["before"].get("error_rate"), out["variants"]["after"].get("error_rate")
        if eb and ea is not None:
            out["relative_error_reduction"] = (eb - ea) / eb
    return out


def _row_score(row: dict[str, Any]) -> ResponseScore:
    """An evaluate row as a ResponseScore, keeping the FActScore (with γ) it was written with."""
    return replace(score_of_row(row), factscore=row["factscore"])

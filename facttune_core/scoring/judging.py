"""Measure a claim verifier against labelled claims (``facttune judge eval``) and fit one
(``facttune judge fit``).

Labelled files (JSONL), detected per line:
- claims (the ``judge-dev`` format): ``{"id", "topic", "claim", "label": "S"|"NS", "kind"?,
  "response_id"?, "evidence"?: [{"title", "text"}]}``;
- FActScore's labelled biographies: ``{"topic", "output", "annotations": [{"text", "is-relevant",
  "human-atomic-facts": [{"text", "label": "S"|"NS"|"IR"}]}]}``; every human atomic fact becomes a
  claim (IR counts as not supported, as in the paper's FActScore), its response is the line.

Rows without evidence get it from the recipe's ``[retrieve]`` component.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract.errors import DataError
from ..contract.records import Claim, Evidence, Passage, Verdict
from ..contract.store import iter_jsonl


@dataclass
class Labelled:
    claims: list[Claim]
    evidence: list[Evidence | None]
    labels: list[int]  # 1 = supported
    kinds: list[str]
    responses: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.claims)

    def topics(self) -> list[str]:
        return sorted({c.topic or "" for c in self.claims})

    def subset(self, idx: Sequence[int]) -> Labelled:
        return Labelled([self.claims[i] for i in idx], [self.evidence[i] for i in idx],
                        [self.labels[i] for i in idx], [self.kinds[i] for i in idx],
                        [self.responses[i] for i in idx])


def read_labelled(path: Path, kinds: Sequence[str] | None = None, limit: int | None = None) -> Labelled:
    """Read either format; errors name the file and line."""
    where = str(path)
    if not path.exists():
        raise DataError("labelled claims file not found", where=where)
    out = Labelled([], [], [], [], [])

    def add(cid: str, text: Any, topic: Any, label: Any, kind: str, resp: str | None, ev: Any, line: int) -> None:
        if kinds and kind not in kinds:
            return
        if not isinstance(text, str) or not text.strip():
            raise DataError("missing or empty claim text", where=where, key=f"line {line}")
        if label not in ("S", "NS", "IR"):
            raise DataError(f"label must be S, NS or IR (got {label!r})", where=where, key=f"line {line}")
        if topic is not None and not isinstance(topic, str):
            raise DataError(f"topic must be a string (got {type(topic).__name__})", where=where, key=f"line {line}")
        evidence: Evidence | None = None
        if ev is not None:
            if not isinstance(ev, list) or not all(isinstance(p, dict) and isinstance(p.get("text"), str) for p in ev):
                raise DataError("evidence must be a list of {title, text}", where=where, key=f"line {line}")
            evidence = Evidence(claim_id=cid, passages=tuple(Passage(title=str(p.get("title") or topic or ""),
                                                                      text=p["text"]) for p in ev))
        rid = resp or cid
        out.claims.append(Claim(id=cid, response_id=rid, prompt_id=str(topic or rid), text=text, topic=topic))
        out.evidence.append(evidence)
        out.labels.append(1 if label == "S" else 0)
        out.kinds.append(kind)
        out.responses.append(resp)

    for i, row in iter_jsonl(path):
        if "annotations" in row:  # FActScore's labelled biographies
            anns = row.get("annotations") or []
            if not isinstance(anns, list):
                raise DataError("'annotations' must be a list", where=where, key=f"line {i}")
            for s, ann in enumerate(anns):
                if ann is not None and not isinstance(ann, dict):
                    raise DataError(f"annotation {s + 1} must be an object (got {ann!r})", where=where,
                                    key=f"line {i}")
                facts = (ann or {}).get("human-atomic-facts") or []
                if not isinstance(facts, list):
                    raise DataError(f"annotation {s + 1}: 'human-atomic-facts' must be a list (got {facts!r})",
                                    where=where, key=f"line {i}")
                for k, f in enumerate(facts):
                    if not isinstance(f, dict):
                        raise DataError(f"annotation {s + 1}: atomic fact {k + 1} must be an object with text and "
                                        f"label (got {f!r})", where=where, key=f"line {i}")
                    add(f"l{i}/s{s}/f{k}", f.get("text"), row.get("topic"), f.get("label"), "atomic", f"l{i}",
                        None, i)
        elif "claim" in row:
            rid = row.get("response_id")
            if rid is not None and (not isinstance(rid, str | int) or isinstance(rid, bool)):
                raise DataError(f"'response_id' must be a string (got {rid!r})", where=where, key=f"line {i}")
            add(str(row.get("id") or f"l{i}"), row.get("claim"), row.get("topic"), row.get("label"),
                str(row.get("kind") or "claim"), None if rid is None else str(rid), row.get("evidence"), i)
        else:
            raise DataError("neither a labelled claim (claim, label) nor a FActScore labelled line (annotations)",
                            where=where, key=f"line {i}")
        if limit and len(out) >= limit:
            break
    if not out.claims:
        raise DataError("no labelled claims" + (f" of kind {', '.join(kinds)}" if kinds else ""), where=where)
    ids = [c.id for c in out.claims]
    if len(set(ids)) != len(ids):
        dup = next(x for x in ids if ids.count(x) > 1)
        raise DataError(f"duplicate claim id '{dup}'", where=where)
    return out


# ---------------------------------------------------------------------------- metrics

def auroc(scores: Sequence[float], labels: Sequence[int]) -> float | None:
    """Area under the ROC curve (ties count half); None without both classes."""
    pos = sum(labels)
    neg = len(labels) - pos
    if not pos or not neg:
        return None
    pairs = sorted(zip(scores, labels, strict=True))
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        rank_sum += (i + j + 1) / 2 * sum(y for _, y in pairs[i:j])
        i = j
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def reliability(probs: Sequence[float], labels: Sequence[int], bins: int = 10) -> tuple[float, list[dict[str, Any]]]:
    """Expected calibration error and the bins of a reliability diagram."""
    rows = []
    ece = 0.0
    n = len(probs)
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, p in enumerate(probs) if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if not idx:
            continue
        conf = sum(probs[i] for i in idx) / len(idx)
        acc = sum(labels[i] for i in idx) / len(idx)
        ece += len(idx) / n * abs(conf - acc)
        rows.append({"lo": lo, "hi": hi, "n": len(idx), "mean_p": conf, "share_supported": acc})
    return ece, rows


def binary_report(pred: Sequence[int], p_true: Sequence[float], labels: Sequence[int]) -> dict[str, Any]:
    n = len(labels)
    tp = sum(1 for p, y in zip(pred, labels, strict=True) if p and y)
    tn = sum(1 for p, y in zip(pred, labels, strict=True) if not p and not y)
    fp = sum(1 for p, y in zip(pred, labels, strict=True) if p and not y)
    fn = sum(1 for p, y in zip(pred, labels, strict=True) if not p and y)
    pos, neg = tp + fn, tn + fp
    rec_s = tp / pos if pos else None
    rec_ns = tn / neg if neg else None
    prec_ns = tn / (tn + fn) if tn + fn else None
    f1_ns = (2 * prec_ns * rec_ns / (prec_ns + rec_ns)) if prec_ns and rec_ns else 0.0 if neg else None
    ece, bins = reliability(p_true, labels)
    return {
        "n": n, "gold_supported": pos / n if n else None, "called_supported": (tp + fp) / n if n else None,
        "auroc": auroc(p_true, labels),
        "balanced_accuracy": (rec_s + rec_ns) / 2 if rec_s is not None and rec_ns is not None else None,
        "accuracy": (tp + tn) / n if n else None,
        "ns_precision": prec_ns, "ns_recall": rec_ns, "ns_f1": f1_ns,
        "confusion": {"gold_S_called_S": tp, "gold_S_called_NS": fn, "gold_NS_called_S": fp, "gold_NS_called_NS": tn},
        "ece": ece, "reliability": bins,
    }


def response_mae(data: Labelled, pred: Sequence[int]) -> tuple[float | None, int]:
    """Mean |predicted − gold| response-level FActScore (points) over rows that carry a response id."""
    by: dict[str, list[tuple[int, int]]] = {}
    for r, p, y in zip(data.responses, pred, data.labels, strict=True):
        if r is not None:
            by.setdefault(r, []).append((p, y))
    if not by:
        return None, 0
    errs = [abs(sum(p for p, _ in v) - sum(y for _, y in v)) / len(v) * 100 for v in by.values()]
    return sum(errs) / len(errs), len(errs)


def evaluate(data: Labelled, verdicts: Sequence[Verdict]) -> dict[str, Any]:
    """The whole report: overall, and per kind when rows have more than one."""
    pred = [1 if v.supported else 0 for v in verdicts]
    p_true = [float(v.p_true) if v.p_true is not None and math.isfinite(v.p_true) else float(p)
              for v, p in zip(verdicts, pred, strict=True)]
    out: dict[str, Any] = {"overall": binary_report(pred, p_true, data.labels), "kinds": {}}
    mae, n_resp = response_mae(data, pred)
    out["overall"].update({"response_mae": mae, "responses": n_resp})
    for kind in sorted(set(data.kinds)):
        idx = [i for i, k in enumerate(data.kinds) if k == kind]
        sub = data.subset(idx)
        rep = binary_report([pred[i] for i in idx], [p_true[i] for i in idx], sub.labels)
        m, nr = response_mae(sub, [pred[i] for i in idx])
        rep.update({"response_mae": m, "responses": nr})
        out["kinds"][kind] = rep
    return out


def guard_warning(share_supported: float | None, n: int) -> str | None:
    """A judge calling almost everything (or almost nothing) supported is suspect: say so."""
    if share_supported is None or n < 20:
        return None
    if share_supported > 0.90:
        return (f"the judge called {share_supported:.0%} of {n} claims supported: check it against labels "
                "(facttune judge eval)")
    if share_supported < 0.05:
        return (f"the judge called only {share_supported:.0%} of {n} claims supported: either the text is almost "
                "all unsupported or the judge is too strict; check it against labels (facttune judge eval)")
    return None


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=float)


# ---------------------------------------------------------------------------- fitted calibration

FIT_FORMAT = "facttune-judge-fit/1"


@dataclass
class Calibration:
    """A logistic map from a verifier's features (``features(claims, evidence)``) to P(True), as
    ``facttune judge fit`` writes it (JSON, ``format = "facttune-judge-fit/1"``)."""

    weights: list[float]
    bias: float
    features: list[str] = field(default_factory=lambda: ["score"])
    info: dict[str, Any] = field(default_factory=dict)

    def p_true(self, *xs: float) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, xs, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def to_dict(self) -> dict[str, Any]:
        return {"format": FIT_FORMAT, "features": self.features, "weights": self.weights, "bias": self.bias,
                **self.info}

    @classmethod
    def from_dict(cls, data: Any, where: str = "") -> Calibration:
        from ..contract.errors import ConfigError

        try:
            if not isinstance(data, dict) or data.get("format") != FIT_FORMAT:
                raise ValueError(f"not a {FIT_FORMAT} file")
            return cls(weights=[float(x) for x in data["weights"]], bias=float(data["bias"]),
                       features=[str(f) for f in data.get("features") or ["score"]],
                       info={k: v for k, v in data.items() if k not in ("format", "features", "weights", "bias")})
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigError(f"not a judge calibration file ({err})", where=where) from None


def fit_logistic(x: Sequence[Sequence[float]], y: Sequence[int], l2: float = 1e-3,
                 iters: int = 100) -> tuple[list[float], float]:
    """Logistic regression with balanced class weights (Newton steps; a handful of features), so
    that P(True) = 0.5 sits near the best balanced accuracy."""
    import numpy as np

    X = np.asarray(x, dtype=float)
    t = np.asarray(y, dtype=float)
    n, d = X.shape
    pos = t.sum()
    if pos == 0 or pos == n:
        raise DataError(f"fitting needs both supported and unsupported claims (all {n} are "
                        f"{'supported' if pos else 'not supported'})")
    sw = np.where(t == 1, n / (2 * pos), n / (2 * (n - pos)))
    A = np.c_[X, np.ones(n)]
    w = np.zeros(d + 1)
    reg = np.full(d + 1, l2 * n)
    reg[-1] = 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-np.clip(A @ w, -60, 60)))
        g = A.T @ (sw * (p - t)) + reg * w
        h = (A * (sw * p * (1 - p))[:, None]).T @ A + np.diag(reg + 1e-9)
        step = np.linalg.solve(h, g)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return [float(v) for v in w[:-1]], float(w[-1])

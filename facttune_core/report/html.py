"""Results as tables, plots and one self-contained HTML page with a per-claim drill-down."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from rich.table import Table

from ..contract.errors import DataError
from ..contract.store import atomic_write_text, read_json_file, read_manifest
from ..scoring.claim_scores import FactScoreRule
from .html_parts import CSS, _drill, _e, _fmt, _load, _stage_dirs
from .overview import overview_html, run_overview
from .plots import make_plots

METRICS = (
    ("factscore", "FActScore %", 100.0),
    ("claims_per_response", "facts (claims) / response", 1.0),
    ("mean_supported", "supported / response", 1.0),
    ("mean_unsupported", "unsupported / response", 1.0),
    ("mean_words", "words / response", 1.0),
    ("no_fact_share", "words with no fact %", 100.0),
    ("repeated_share", "repeated 4-grams %", 100.0),
    ("abstention_rate", "abstention %", 100.0),
    ("error_rate", "error rate % (unsupported/all)", 100.0),
)


# the evaluate summary's difference (after − before) of each table row
DIFF_OF = {"factscore": "factscore", "factscore_unpenalized": "factscore_unpenalized",
           "claims_per_response": "claims", "mean_supported": "supported", "mean_unsupported": "unsupported",
           "mean_words": "words", "no_fact_share": "no_fact_share",
           "repeated_share": "repeated_share"}


def metrics_of(summary: dict[str, Any]) -> list[tuple[str, str, float]]:
    """The rows of the held-out table: with a length penalty (the reward's γ), FActScore says so and
    the unpenalized one follows it."""
    gammas = {v.get("gamma") for v in summary.get("variants", {}).values() if v.get("gamma")}
    if not gammas:
        return list(METRICS)
    g = ", ".join(f"{x:g}" for x in sorted(gammas))
    return [("factscore", f"FActScore % (γ = {g})", 100.0),
            ("factscore_unpenalized", "FActScore % without the length penalty", 100.0), *METRICS[1:]]



REPEAT_WARN = 0.10  # the tuned model's repeated 4-grams at which the table warns (the base: about 1%)


def repetition_note(summary: dict[str, Any]) -> str | None:
    """A warning when the tuned model repeats itself (repeated 4-grams ≥ 10% after, and the rise's CI
    above 0): FActScore counts a repeated fact once, so its gain does not show it."""
    after = (summary.get("variants", {}).get("after") or {}).get("repeated_share")
    before = (summary.get("variants", {}).get("before") or {}).get("repeated_share")
    d = summary.get("difference", {}).get("repeated_share")
    if after is None or before is None or not d or after < REPEAT_WARN or d.get("ci_low", 0.0) <= 0:
        return None
    return (f"the tuned model repeats itself: repeated 4-grams {before * 100:.1f}% → {after * 100:.1f}% "
            "(FActScore counts a repeated fact once, so its gain does not show this)")


def evaluation_tables(summary: dict[str, Any]) -> list[Table]:
    """The held-out table, then one per group of prompts (``[evaluate] group_by``)."""
    key = summary.get("group_by", "group")
    return [evaluation_table(summary), *(evaluation_table(g, f"held out, {key} = {name}")
                                         for name, g in (summary.get("groups") or {}).items())]


def evaluation_table(summary: dict[str, Any], title: str = "held-out evaluation") -> Table:
    variants = summary.get("variants", {})
    t = Table(title=title + (" (before → after tuning)" if "after" in variants else ""))
    t.add_column("metric")
    for v in variants:
        t.add_column(v, justify="right")
    diff = summary.get("difference", {})
    if diff:
        t.add_column("after − before [95% CI]", justify="right")
    for key, label, scale in metrics_of(summary):
        row = [label] + [_fmt(variants[v].get(key), scale) for v in variants]
        if diff:
            d = diff.get(DIFF_OF.get(key, ""))
            row.append(f"{d['mean'] * scale:+.1f} [{d['ci_low'] * scale:+.1f}, {d['ci_high'] * scale:+.1f}]"
                       if d and d.get("n_prompts") else "")
        t.add_row(*row)
    wins = summary.get("win_rate", {})
    for name in sorted({k for v in variants.values() for k in (v.get("rewards") or {})}):
        w = wins.get(name)
        means = [(variants[v].get("rewards") or {}).get(name) for v in variants]
        t.add_row(f"{name} (mean)", *["-" if m is None else f"{m:.3f}" for m in means],
                  *([f"win rate {w['mean']:.2f} [{w['ci_low']:.2f}, {w['ci_high']:.2f}]" if w else ""] if diff else []))
    n = [str(variants[v].get("n_responses")) for v in variants]
    t.add_row("responses", *n, *([""] if diff else []))
    notes = []
    if "relative_error_reduction" in summary:
        notes.append(f"relative cut in the error rate: {summary['relative_error_reduction'] * 100:.1f}%")
    warn = repetition_note(summary)
    if warn:
        notes.append(f"[bold yellow]{warn}[/]")
    if notes:
        t.caption = "\n".join(notes)
    return t


def evaluation_summary_of(run_dir: Path) -> dict[str, Any]:
    d = _stage_dirs(Path(run_dir)).get("evaluate")
    m = read_manifest(d) if d else None
    return (m or {}).get("summary", {})


def write_report(run_dir: Path, max_drilldown: int = 200) -> Path:
    """report.html of a run or score folder, from what it holds, checked as a run checks it (each
    stage's records against its manifest; a score folder's outputs against score.json). An
    unfinished run is reported as far as it got, and says so; an unfinished score folder is an error."""
    from ..run.readers import open_folder, rule_of

    run_dir = Path(run_dir)
    folder = open_folder(run_dir)
    if folder.kind == "score":
        from .score_report import write_score_report

        return write_score_report(run_dir, max_drilldown)
    dirs = folder.stages
    if not dirs:
        raise DataError("no finished stage in this folder (is it a facttune run folder?)", where=str(run_dir))
    ev_dir = dirs.get("evaluate")
    ev_manifest, rows = folder.stage_records("evaluate") if ev_dir else ({}, [])
    summary = (ev_manifest or {}).get("summary", {})
    rows = [r for r in rows if isinstance(r, dict)]
    rule = rule_of(ev_manifest.get("factscore_rule"), ev_dir / "manifest.json") if ev_dir else None
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
    note = "" if folder.status != "running" else f"<p class='warn'>{_e(folder.unfinished())}: what it finished so far.</p>"
    page = _html(run_dir, summary, manifests, plots, groups, max_drilldown, dirs, rule, note)
    out = run_dir / "report.html"
    atomic_write_text(out, page)
    return out


def _f3(v: Any) -> str:
    return "-" if v is None else f"{v:.3f}"


def _judge_html(run_dir: Path, manifests: dict[str, dict[str, Any]]) -> str:
    """The judge's share of supported verdicts per verify stage (warned when suspect), and its measured
    quality when `facttune judge eval ... --out RUN_DIR` left a judge-eval.json here."""
    rows = []
    for stage, m in manifests.items():
        stats = {stage: m["verdicts"]} if m.get("verdicts") else {}
        stats.update({f"{stage} {v}": s for v, s in (m.get("judged") or {}).items() if s})
        for name, s in stats.items():
            warn = f"<td class='warn'>⚠ {_e(s['warning'])}</td>" if s.get("warning") else "<td>ok</td>"
            rows.append(f"<tr><td>{_e(name)}</td><td>{_e(s.get('claims'))}</td>"
                        f"<td>{s.get('supported_share', 0) * 100:.1f}%</td>{warn}</tr>")
    if not rows:
        return ""
    out = ("<h2>Judge</h2><table><tr><th>verify stage</th><th>claims</th><th>called supported</th><th>check</th>"
           f"</tr>{''.join(rows)}</table>")
    ev_path = run_dir / "judge-eval.json"
    try:
        ev = read_json_file(ev_path) if ev_path.exists() else None
    except DataError:
        ev = None  # an optional extra: a damaged one is left out of the page
    if isinstance(ev, dict) and isinstance(ev.get("overall"), dict):
        kinds = ev.get("kinds") or {}
        cells = "".join(
            f"<tr><td>{_e(k)}</td><td>{_e(r.get('n'))}</td><td>{_e(_f3(r.get('auroc')))}</td>"
            f"<td>{_e(_f3(r.get('balanced_accuracy')))}</td><td>{_e(_fmt(r.get('response_mae')))}</td></tr>"
            for k, r in ({"all": ev["overall"], **kinds} if len(kinds) > 1 else {"all": ev["overall"]}).items())
        out += (f"<p>Measured quality of {_e(ev.get('component'))} on {_e(ev.get('file'))}:</p><table><tr><th>kind</th>"
                f"<th>claims</th><th>AUROC</th><th>balanced acc.</th><th>response MAE (pts)</th></tr>{cells}</table>")
    else:
        out += ("<p><small>The judge's quality was not measured for this run: <code>facttune judge eval LABELLED "
                f"--recipe RECIPE --out {_e(run_dir)}</code> puts it here.</small></p>")
    return out


def _html(run_dir: Path, summary: dict[str, Any], manifests: dict[str, dict[str, Any]], plots: list[Path],
          groups: list[tuple[str, dict[str, Path]]], limit: int, dirs: dict[str, Path],
          rule: FactScoreRule | None = None, note: str = "") -> str:
    variants = summary.get("variants", {})
    diff = summary.get("difference", {})
    rows_html = ""
    for key, label, scale in metrics_of(summary):
        cells = "".join(f"<td>{_e(_fmt(variants[v].get(key), scale))}</td>" for v in variants)
        d = diff.get(DIFF_OF.get(key, ""))
        dcell = (f"<td>{d['mean'] * scale:+.1f} [{d['ci_low'] * scale:+.1f}, {d['ci_high'] * scale:+.1f}]</td>"
                 if d and d.get("n_prompts") else ("<td></td>" if diff else ""))
        rows_html += f"<tr><td>{_e(label)}</td>{cells}{dcell}</tr>"
    head = "".join(f"<th>{_e(v)}</th>" for v in variants) + ("<th>after − before [95% CI]</th>" if diff else "")
    ev_html = (f"<h2>Held-out evaluation</h2><table><tr><th>metric</th>{head}</tr>{rows_html}</table>"
               if variants else overview_html(run_overview(dirs)))
    if "relative_error_reduction" in summary:
        ev_html += f"<p>Relative cut in the error rate: <b>{summary['relative_error_reduction'] * 100:.1f}%</b></p>"
    if warn := repetition_note(summary):
        ev_html += f"<p><b>Warning</b>: {_e(warn)}</p>"
    st = "".join(
        f"<tr><td>{_e(s)}</td><td>{_e(m.get('component') or '')}</td><td>{_e(m.get('items', ''))}</td>"
        f"<td>{_e(m.get('seconds', ''))}</td><td>{_e((m.get('cache') or {}).get('hits', ''))}</td>"
        f"<td style='text-align:left'>{_e(', '.join(f'{k}={v}' for k, v in sorted((m.get('counts') or {}).items())))}</td></tr>"
        for s, m in manifests.items())
    judge_html = _judge_html(run_dir, manifests)
    imgs = "".join(f"<img alt='{_e(p.stem)}' src='data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}'>"
                   for p in plots)
    data_records = _load(dirs.get("data"))
    drill = "".join(f"<h3>{_e(name)}</h3>{_drill(chain, data_records, limit, rule or FactScoreRule())}"
                    for name, chain in groups)
    credits = sorted({m["info"]["attribution"] for d in dirs.values() for p in d.rglob("manifest.json")
                      if "attribution" in ((m := read_manifest(p.parent) or {}).get("info") or {})})
    attribution = f"<p><small>Text from: {_e('; '.join(credits))}.</small></p>" if credits else ""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>facttune report: {_e(run_dir.name)}</title>"
            f"<style>{CSS}</style></head><body><h1>facttune report: {_e(run_dir.name)}</h1>{note}{ev_html}"
            f"{judge_html}<h2>Plots</h2>{imgs or '<p>(none)</p>'}<h2>Stages</h2><table><tr><th>stage</th><th>component</th>"
            f"<th>items</th><th>seconds</th><th>cache hits</th><th>counts</th></tr>{st}</table>"
            f"<h2>Per-claim drill-down</h2><p>Each response → its claims (S supported / NS not) → the evidence "
            f"the judge saw.</p>{drill}{attribution}</body></html>")

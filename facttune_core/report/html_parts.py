"""The pieces every HTML report shares (run reports, score reports, compare pages): the stage
folders of a run, their records, the per-claim drill-down and the page's style."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from ..contract.records import Claim, Evidence, Response, Verdict
from ..contract.store import RECORDS, read_stage_records
from ..run.folders import read_run_json
from ..scoring.claim_scores import FactScoreRule, join_claims, score_claims


def _fmt(v: Any, scale: float = 1.0) -> str:
    if v is None:
        return "-"
    return f"{v * scale:.1f}"


def _stage_dirs(run_dir: Path) -> dict[str, Path]:
    """The current stage folders, from run.json (or, failing that, the newest per stage)."""
    info = read_run_json(run_dir)
    if info is not None:
        return {stage: run_dir / s["dir"] for stage, s in info["stages"].items()
                if (run_dir / s["dir"] / "manifest.json").exists()}
    out: dict[str, Path] = {}
    for d in sorted(run_dir.glob("[0-9][0-9]-*-*"), key=lambda p: p.stat().st_mtime):
        if (d / "manifest.json").exists():
            out[d.name.split("-")[1]] = d
    return out


def _load(d: Path | None) -> list[Any]:
    """A finished stage's records, checked against its manifest's count and sha256 (as a run reuses
    them): an edited file is a one-line error, never a silently different report."""
    if d is None or not (d / RECORDS).exists():
        return []
    return read_stage_records(d, f"Delete {d.name} and run the command that made this folder again to "
                                 "recompute it")[1]


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _drill(chain: dict[str, Path], data_records: list[Any], limit: int, rule: FactScoreRule = FactScoreRule()) -> str:
    """Each response → its claims (joined with evidence and verdict) → the evidence, scored by the
    one FActScore rule of the run (``claim_scores``)."""
    responses = [r for r in _load(chain.get("generate")) if isinstance(r, Response)]
    if not responses:
        responses = [r for r in data_records if isinstance(r, Response)]
    claims = [c for c in _load(chain.get("extract")) if isinstance(c, Claim)] or \
        [c for c in data_records if isinstance(c, Claim)]
    evidence = [e for e in _load(chain.get("retrieve")) if isinstance(e, Evidence)]
    verdicts = [v for v in _load(chain.get("verify")) if isinstance(v, Verdict)] or \
        [v for v in data_records if isinstance(v, Verdict)]
    joined = join_claims(claims, evidence, verdicts)
    parts = []
    for r in responses[:limit]:
        js = joined.get(r.id, [])
        rs = score_claims(js, rule)
        score = "abstained" if rs.factscore is None else f"{100 * rs.factscore:.0f}%"
        items = []
        for j in js:
            c, v, ev = j.claim, j.verdict, j.evidence
            cls = "s" if v and v.supported else "ns"
            p = f" p(True)={v.p_true:.2f}" if v and v.p_true is not None else ""
            label = v.label if v else "?"
            ev_html = "".join(f"<li><b>{_e(p_.title)}</b>: {_e(p_.text)}</li>" for p_ in (ev.passages if ev else ()))
            raw = f"<p class='raw'>{_e(v.judge or 'verifier')}: {_e(v.raw)}</p>" if v and v.raw else ""
            items.append(f"<li class='{cls}'><details><summary><span class='lab'>{_e(label)}</span> {_e(c.text)}"
                         f"<small>{_e(p)}</small></summary>{raw}<ol class='ev'>{ev_html or '<li>(no evidence)</li>'}"
                         f"</ol></details></li>")
        parts.append(f"<details class='resp'><summary><b>{_e(r.topic or r.prompt_id)}</b> · {_e(r.id)} · "
                     f"{len(js)} claims · {score}</summary><p class='text'>{_e(r.text)}</p>"
                     f"<ul class='claims'>{''.join(items)}</ul></details>")
    more = f"<p>… {len(responses) - limit} more responses not shown</p>" if len(responses) > limit else ""
    return "".join(parts) + more


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}img{width:48%;min-width:320px;border:1px solid #eee;margin:4px}
.warn{color:#a40;font-weight:bold;text-align:left}.s .lab{background:#cfc}.ns .lab{background:#fcc}.lab{padding:0 4px;border-radius:3px;font-weight:bold}
.text{white-space:pre-wrap;background:#f8f8f8;padding:6px}.ev{font-size:90%;color:#444}
details.resp{border-bottom:1px solid #eee;padding:4px 0}small{color:#666;margin-left:6px}
.raw{font-size:90%;color:#555;white-space:pre-wrap;margin:2px 0 2px 1em}"""

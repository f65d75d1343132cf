"""The pieces every HTML report shares (run reports, score reports, compare pages): the stage
folders of a run, their records, the per-claim drill-down and the page's style."""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import Any

from .contract.errors import DataError
from .contract.records import Claim, Evidence, Response, Verdict
from .store import RECORDS, read_json_file, read_records


def _fmt(v: Any, scale: float = 1.0) -> str:
    if v is None:
        return "-"
    return f"{v * scale:.1f}"


def _stage_dirs(run_dir: Path) -> dict[str, Path]:
    """The current stage folders, from run.json (or, failing that, the newest per stage)."""
    out: dict[str, Path] = {}
    meta = run_dir / "run.json"
    if meta.exists():
        fix = "delete it: the report then uses the newest folder of each stage"
        info = read_json_file(meta, fix=fix)
        stages = info.get("stages", {})
        if not isinstance(stages, dict) or not all(isinstance(s, dict) and isinstance(s.get("dir"), str)
                                                   for s in stages.values()):
            raise DataError(f"'stages' is not a table of stage folders; {fix}", where=str(meta), key="stages")
        for stage, s in stages.items():
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
            raw = f"<p class='raw'>{_e(v.judge or 'verifier')}: {_e(v.raw)}</p>" if v and v.raw else ""
            items.append(f"<li class='{cls}'><details><summary><span class='lab'>{_e(label)}</span> {_e(c.text)}"
                         f"<small>{_e(p)}</small></summary>{raw}<ol class='ev'>{ev_html or '<li>(no evidence)</li>'}"
                         f"</ol></details></li>")
        parts.append(f"<details class='resp'><summary><b>{_e(r.topic or r.prompt_id)}</b> · {_e(r.id)} · "
                     f"{len(cs)} claims · {score}</summary><p class='text'>{_e(r.text)}</p>"
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

"""One table across run and score folders: ``facttune compare DIR... [--baseline NAME]``.

Like the papers' tables: a row per model or method (a run folder gives its ``before`` and
``after`` rows from the evaluate stage; a score folder one row, or one per ``model`` when its input
named several), columns for responses, claims / supported / unsupported per response, FActScore
%, error rate, words and abstention, and for each a paired-bootstrap 95% CI of the difference from
the baseline over the prompts both rows share (by topic, or by prompt id where a row lacks
topics). FActScore here has no length penalty (γ), so folders scored with different γ compare
fairly. Writes ``compare.json``, ``compare.png`` and ``compare.html``. docs/evaluation.md.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..contract.errors import ConfigError, DataError, did_you_mean
from ..contract.store import (
    atomic_write_json,
    atomic_write_text,
    iter_jsonl,
    json_object_with,
    make_dir,
    refuse_overwrite,
)
from ..scoring import metrics
from ..scoring.claim_scores import row_repeated_share, score_of_row, summarize_scores
from .plots import mpl_text, save_figure

if TYPE_CHECKING:
    from rich.table import Table

# key, label, short label (terminal), scale (a value × scale is shown)
COLUMNS: tuple[tuple[str, str, str, float], ...] = (
    ("responses", "responses", "responses", 1.0),
    ("claims", "claims / response", "claims", 1.0),
    ("supported", "supported / response", "supported", 1.0),
    ("unsupported", "unsupported / response", "unsupported", 1.0),
    ("factscore", "FActScore %", "FActScore %", 100.0),
    ("error_rate", "error rate % (unsupported / all)", "error %", 100.0),
    ("words", "words / response", "words", 1.0),
    ("no_fact_share", "words with no fact %", "no-fact %", 100.0),
    ("repeated_share", "repeated 4-grams %", "repeated %", 100.0),
    ("abstention", "abstention %", "abstain %", 100.0),
)
DIFF_METRICS = tuple(c[0] for c in COLUMNS if c[0] != "responses")
COMPARE_FORMAT = "facttune-compare/1"


@dataclass
class Arm:
    """One row of the table: the responses of one model or method."""

    label: str
    folder: Path
    source: str  # "run/before", "run/after", "score"
    rows: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)
    difference: dict[str, dict[str, Any]] = field(default_factory=dict)
    shared: int = 0
    pair_on: str = "topic"


@dataclass
class Comparison:
    arms: list[Arm]
    baseline: Arm
    notes: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline.label, "notes": self.notes,
                "arms": [{"label": a.label, "folder": str(a.folder), "source": a.source, "summary": a.summary,
                          "difference": a.difference, "shared_prompts": a.shared, "pair_on": a.pair_on,
                          "baseline": a is self.baseline} for a in self.arms]}


# ---------------------------------------------------------------------------- reading folders


def _check_rows(path: Path, rows: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per-response rows (prompt_id, topic, model, claims, supported, unsupported, words), checked
    line by line (they were checked against their manifest or score.json already)."""
    out = []
    for i, row in rows:
        for name in ("claims", "supported", "words"):
            v = row.get(name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise DataError(f"'{name}' must be a count (got {v!r})", where=str(path), key=f"line {i}")
        uns = row.get("unsupported")
        if uns is not None and (not isinstance(uns, int) or isinstance(uns, bool) or uns < 0):
            raise DataError(f"'unsupported' must be a count (got {uns!r})", where=str(path), key=f"line {i}")
        if not isinstance(row.get("prompt_id"), str):
            raise DataError("missing 'prompt_id'", where=str(path), key=f"line {i}")
        for name in ("topic", "model"):
            if row.get(name) is not None and not isinstance(row[name], str):
                raise DataError(f"'{name}' must be a string (got {row[name]!r})", where=str(path), key=f"line {i}")
        if row["supported"] + (uns or 0) > row["claims"]:
            raise DataError("more supported (and unsupported) claims than claims", where=str(path), key=f"line {i}")
        out.append(row)
    return out


def load_folder(path: Path) -> list[Arm]:
    """The rows a folder contributes: a score folder's scores.jsonl (one arm, or one per model),
    a run folder's evaluate stage (before, after), each read through the checks a run makes (the
    folder finished; records match their manifest or score.json). Anything else is a one-line
    DataError."""
    from ..run.readers import SCORES, evaluate_rows, open_folder, score_outputs

    path = Path(path)
    folder = open_folder(path)
    if folder.kind == "score":
        score_outputs(folder)  # finished, and scores.jsonl is what score.json recorded
        rows = _check_rows(path / SCORES, list(iter_jsonl(path / SCORES)))
        models = list(dict.fromkeys(r.get("model") for r in rows))
        if len(models) > 1:
            return [Arm(f"{path.name}/{m}", path, "score", [r for r in rows if r.get("model") == m])
                    for m in models]
        return [Arm(path.name, path, "score", rows)]
    _, records = evaluate_rows(folder)
    where = folder.stages["evaluate"] / "records.jsonl"
    arms = []
    for variant in ("before", "after"):
        rows = _check_rows(where, [(i, r) for i, r in enumerate(records, start=1) if r.get("variant") == variant])
        if rows:
            arms.append(Arm(f"{path.name}/{variant}", path, f"run/{variant}", rows))
    if not arms:
        raise DataError("the evaluate stage has no before/after rows", where=str(where))
    return arms


# ---------------------------------------------------------------------------- numbers


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A row's numbers by the one FActScore (``claim_scores``), without the length penalty, so
    folders scored with different γ compare fairly; IR counted as each folder's rule counted it."""
    scores = [score_of_row(r) for r in rows]
    s = summarize_scores(scores, [r["words"] for r in rows], no_fact=[r.get("no_fact_share") for r in rows],
                         repeated=[row_repeated_share(r) for r in rows])
    return {"responses": s["n_responses"], "claims": s["claims_per_response"], "supported": s["mean_supported"],
            "unsupported": s["mean_unsupported"], "factscore": s["factscore_unpenalized"],
            "error_rate": s["error_rate"], "words": s["mean_words"], "no_fact_share": s["no_fact_share"],
            "repeated_share": s["repeated_share"], "abstention": s["abstention_rate"]}


def per_unit(rows: Sequence[dict[str, Any]], unit: Callable[[dict[str, Any]], str]) -> dict[str, dict[str, Any]]:
    """Each prompt's (or topic's) values: means over its responses; FActScore over those with
    claims and the error rate pooled over its claims (None when it has none)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(unit(r), []).append(r)
    out = {}
    for u, rs in groups.items():
        s = summarize(rs)
        s.pop("responses")
        out[u] = s
    return out


def _unit_of(a: Arm, b: Arm) -> tuple[str, Callable[[dict[str, Any]], str]]:
    if all(r.get("topic") for r in a.rows) and all(r.get("topic") for r in b.rows):
        return "topic", lambda r: str(r["topic"])
    return "prompt_id", lambda r: str(r["prompt_id"])


def differences(arm: Arm, base: Arm, n_boot: int, seed: int) -> None:
    """Fill ``arm.difference``: per metric, mean of (arm − baseline) over shared units + 95% CI."""
    arm.pair_on, unit = _unit_of(arm, base)
    a, b = per_unit(arm.rows, unit), per_unit(base.rows, unit)
    shared = sorted(set(a) & set(b))
    arm.shared = len(shared)
    arm.difference = {}
    if not shared:
        return
    for m in DIFF_METRICS:
        units = [u for u in shared if a[u][m] is not None and b[u][m] is not None]
        mean, lo, hi = metrics.paired_bootstrap([b[u][m] for u in units], [a[u][m] for u in units], n_boot, seed)
        arm.difference[m] = {"mean": None if math.isnan(mean) else mean, "ci_low": None if math.isnan(lo) else lo,
                             "ci_high": None if math.isnan(hi) else hi, "n": len(units)}


def _pick_baseline(arms: list[Arm], name: str | None) -> Arm:
    if name is None:
        return arms[0]
    for a in arms:
        if a.label == name:
            return a
    folders = list(dict.fromkeys(a.folder for a in arms if name in (a.folder.name, str(a.folder))))
    if len(folders) > 1:
        raise ConfigError(f"'{name}' names {len(folders)} folders ({', '.join(map(str, folders))}): give the row's "
                          f"name ({', '.join(a.label for a in arms if a.folder in folders)})", where="--baseline")
    by_folder = [a for a in arms if folders and a.folder == folders[0]]
    if by_folder:  # a folder's name: a score folder's row, a run folder's "before"
        return next((a for a in by_folder if a.source == "run/before"), by_folder[0])
    labels = [a.label for a in arms]
    raise ConfigError(f"no row named '{name}'.{did_you_mean(name, labels)} Rows: {', '.join(labels)}",
                      where="--baseline")


def _same_base_once(arms: list[Arm]) -> tuple[list[Arm], list[str], dict[str, str]]:
    """Runs of one base model on the same held-out prompts and seed have the same "before" rows (base
    vs each method, as in the papers' tables): show that row once and say so."""
    kept: dict[Any, Arm] = {}
    out: list[Arm] = []
    notes: list[str] = []
    alias: dict[str, str] = {}
    for a in arms:
        if a.source == "run/before":
            sig = tuple(sorted(json.dumps(r, sort_keys=True, default=str) for r in a.rows))
            first = kept.setdefault(sig, a)
            if first is not a:
                notes.append(f"{a.label} has the same responses and scores as {first.label}: shown once")
                alias[a.label] = first.label
                continue
        out.append(a)
    return out, notes, alias


def _unique_labels(arms: list[Arm]) -> None:
    """Two folders with the same name (runs/a/bio, runs/b/bio): prefix as many parent folders as it
    takes to tell every row apart."""
    base = {id(a): a.label[len(a.folder.name):] for a in arms}  # "/before", "/<model>" or ""
    depth = {id(a): 1 for a in arms}
    for _ in range(64):
        seen: dict[str, list[Arm]] = {}
        for a in arms:
            seen.setdefault(a.label, []).append(a)
        clash = [a for same in seen.values() if len({x.folder for x in same}) > 1 for a in same]
        if not clash:
            return
        for a in clash:
            parts = a.folder.resolve().parts
            depth[id(a)] = min(depth[id(a)] + 1, len(parts))
            a.label = "/".join(parts[-depth[id(a)]:]).lstrip("/") + base[id(a)]


def compare(folders: Sequence[Path], baseline: str | None = None, n_boot: int = 2000, seed: int = 0,
            group: str | None = None) -> Comparison:
    """``group``: keep only the rows of that group (the value of the prompt.meta key a run's
    ``[evaluate] group_by`` named, e.g. "true" for FLAME's fact-seeking instructions)."""
    if not folders:
        raise ConfigError("give at least one run or score folder", where="compare")
    seen: dict[Path, Path] = {}
    arms: list[Arm] = []
    for f in folders:
        real = Path(f).resolve()
        if real in seen and Path(f).exists():
            raise DataError(f"given twice (also as {seen[real]})", where=str(f))
        seen[real] = Path(f)
        got = load_folder(Path(f))
        if group is not None:
            known = sorted({str(r.get("group")) for a in got for r in a.rows} - {"None"})
            if group not in known:
                here = ", ".join(known) or "none: its evaluate stage has no group_by"
                raise DataError(f"no rows of group '{group}' (groups here: {here})", where=str(f), key="--group")
            for a in got:
                a.rows = [r for r in a.rows if str(r.get("group")) == group]
            got = [a for a in got if a.rows]
        arms += got
    _unique_labels(arms)
    arms, notes, alias = _same_base_once(arms)
    if group is not None:
        notes.append(f"rows of group '{group}' only")
    base = _pick_baseline(arms, alias.get(baseline, baseline) if baseline else None)
    for a in arms:
        a.summary = summarize(a.rows)
        if a is base:
            continue
        differences(a, base, n_boot, seed)
        what = "topics" if a.pair_on == "topic" else "prompts"
        if a.shared == 0:
            notes.append(f"{a.label} shares no {what} with the baseline {base.label}: no confidence intervals "
                         "(a difference needs the same prompts on both sides)")
        elif a.shared < len({r.get(a.pair_on) for r in a.rows}):
            notes.append(f"{a.label}: differences over the {a.shared} {what} it shares with {base.label}")
    return Comparison(arms, base, notes)


# ---------------------------------------------------------------------------- output


def _value(v: Any, key: str, scale: float) -> str:
    if v is None:
        return "-"
    if key == "responses":
        return str(v)
    return f"{v * scale:.1f}"


def _delta(d: dict[str, Any] | None, scale: float, sep: str = " ") -> str:
    if not d or d.get("mean") is None:
        return ""
    return f"{d['mean'] * scale:+.1f}{sep}[{d['ci_low'] * scale:+.1f}, {d['ci_high'] * scale:+.1f}]"


def compare_table(c: Comparison) -> Table:
    """The table for the terminal; every cell is a rich ``Text``, so a row named ``[/]`` is shown as
    written, never read as markup."""
    from rich.table import Table
    from rich.text import Text

    t = Table(title=Text(f"compare: each row vs the baseline {c.baseline.label}"))
    t.add_column("model / method", overflow="fold", min_width=min(30, max(len(a.label) for a in c.arms)))
    for _, _, short, _ in COLUMNS:
        t.add_column(short, justify="right")
    for a in c.arms:
        cells = []
        for key, _, _, scale in COLUMNS:
            v = _value(a.summary.get(key), key, scale)
            d = _delta(a.difference.get(key), scale, sep="\n")
            cells.append(Text.assemble(v, ("\n" + d, "dim")) if d else Text(v))
        name = Text.assemble(a.label, ("\n(baseline)", "dim")) if a is c.baseline else Text(a.label)
        t.add_row(name, *cells)
    t.caption = Text("\n".join(["claims, supported, unsupported, words: per response; below a value: the "
                                "difference from the baseline [paired bootstrap 95% CI]", *c.notes]))
    return t


def plot(c: Comparison, path: Path) -> Path:
    """FActScore % per row (whiskers: the paired 95% CI of the difference from the baseline, placed
    on the row's value) and supported / unsupported claims per response, stacked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [mpl_text(a.label) for a in c.arms]
    xs = list(range(len(labels)))
    fs = [100 * (a.summary["factscore"] or 0.0) for a in c.arms]
    fig, axes = plt.subplots(1, 2, figsize=(max(8.0, 1.6 * len(labels) + 4), 4.2))
    colors = ["#888888" if a is c.baseline else "#4c72b0" for a in c.arms]
    axes[0].bar(xs, fs, color=colors)
    for x, a, v in zip(xs, c.arms, fs, strict=True):
        d = a.difference.get("factscore")
        if d and d.get("mean") is not None:  # the CI of (row - baseline), placed on the row's value
            axes[0].errorbar([x], [v], yerr=[[100 * (d["mean"] - d["ci_low"])], [100 * (d["ci_high"] - d["mean"])]],
                             color="black", capsize=4)
    axes[0].set_ylabel("FActScore %")
    axes[0].set_ylim(0, 100)
    axes[0].set_title("FActScore (grey: baseline; whiskers: 95% CI vs it)", fontsize=9)
    sup = [a.summary["supported"] for a in c.arms]
    uns = [a.summary["unsupported"] for a in c.arms]
    axes[1].bar(xs, sup, color="#55a868", label="supported")
    axes[1].bar(xs, uns, bottom=sup, color="#c44e52", label="unsupported")
    axes[1].set_ylabel("claims per response")
    axes[1].set_title("Claims per response", fontsize=9)
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.set_xticks(xs)
        ax.set_xticklabels(labels, rotation=20, ha="right", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def _page(c: Comparison, png: Path | None) -> str:
    from .html_parts import CSS

    def e(x: Any) -> str:
        return html.escape(str(x), quote=True)

    head = "".join(f"<th>{e(label)}</th>" for _, label, _, _ in COLUMNS)
    body = ""
    for a in c.arms:
        cells = ""
        for key, _, _, scale in COLUMNS:
            d = _delta(a.difference.get(key), scale)
            cells += f"<td>{e(_value(a.summary.get(key), key, scale))}" + (f"<br><small>{e(d)}</small>" if d else "") \
                + "</td>"
        name = e(a.label) + (" <small>(baseline)</small>" if a is c.baseline else "")
        body += f"<tr><td>{name}<br><small>{e(a.folder)}</small></td>{cells}</tr>"
    notes = "".join(f"<li>{e(n)}</li>" for n in c.notes)
    img = (f"<img alt='compare' src='data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()}'>"
           if png is not None else "")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>facttune compare</title><style>{CSS}"
            f"</style></head><body><h1>facttune compare</h1><p>Each cell: the value, and below it the difference "
            f"from the baseline <b>{e(c.baseline.label)}</b> with a paired-bootstrap 95% CI over the prompts both "
            f"share. FActScore without the length penalty; error rate = unsupported / all claims.</p>"
            f"<table><tr><th>model / method</th>{head}</tr>{body}</table>"
            + (f"<ul>{notes}</ul>" if notes else "") + f"{img}</body></html>")


def write_outputs(c: Comparison, out_dir: Path, png: bool = True, force: bool = False) -> dict[str, Path]:
    """compare.json, compare.png and compare.html in ``out_dir``. Files of those names that an earlier
    ``facttune compare`` did not write are left alone (a one-line error) unless ``force``."""
    out_dir = Path(out_dir)
    paths: dict[str, Path] = {"json": out_dir / "compare.json"}
    ours = json_object_with(paths["json"], "format", "arms") or json_object_with(paths["json"], "baseline", "arms")
    for name in ("compare.json", "compare.png", "compare.html"):
        refuse_overwrite(out_dir / name, lambda p: ours, "facttune compare", force)
    make_dir(out_dir)
    atomic_write_json(paths["json"], {"format": COMPARE_FORMAT, **c.as_dict()})
    image = None
    if png:
        image = plot(c, out_dir / "compare.png")
        paths["png"] = image
    paths["html"] = out_dir / "compare.html"
    atomic_write_text(paths["html"], _page(c, image))
    return paths

"""The report's plots and the training curves (matplotlib, Agg, imported when a plot is drawn)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..contract.errors import DataError
from ..contract.store import make_dir


def mpl_text(text: object) -> str:
    """User text (a model name, a topic, a path) as matplotlib shows it literally: a ``$`` would start
    mathtext (``$x^$`` fails to parse and the whole figure with it)."""
    return str(text).replace("$", r"\$")


def plot_curves(log: Sequence[dict[str, Any]], path: Path, title: str = "") -> Path:
    """A training log's curves by step: loss, and reward accuracy / margins (DPO) or token accuracy
    (SFT), as one PNG written atomically. Trainers call it beside their adapter; the report, for a run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    log = [{"step": i + 1, **e} for i, e in enumerate(log) if "loss" in e]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax1.plot([e["step"] for e in log], [e["loss"] for e in log], marker="o", ms=3, label="loss")
    ax1.set_xlabel("step")
    ax1.set_ylabel("loss")
    ax1.grid(alpha=0.3)
    ax1.set_title("loss")
    right = [k for k in ("rewards/accuracies", "rewards/margins", "mean_token_accuracy") if any(k in e for e in log)]
    for k in right:
        ax2.plot([e["step"] for e in log if k in e], [e[k] for e in log if k in e], marker="o", ms=3, label=k)
    ax2.set_xlabel("step")
    ax2.grid(alpha=0.3)
    ax2.set_title("rewards" if "rewards/accuracies" in right else "accuracy")
    if right:
        ax2.legend(fontsize=8)
    if title:
        fig.suptitle(mpl_text(title), fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def save_figure(fig: Any, path: Path) -> Path:
    """Save a PNG whole (a temp name, then a rename) and close the figure; an OS error (read-only
    folder, disk full) is a DataError naming the file."""
    import matplotlib.pyplot as plt

    make_dir(path.parent)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    try:
        fig.savefig(tmp, dpi=110)
        tmp.replace(path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise DataError(f"cannot write: {err.strerror or err}", where=str(path)) from None
    finally:
        plt.close(fig)
    return path


def _png(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    return save_figure(fig, path)


def make_plots(run_dir: Path, rows: list[dict[str, Any]], train_log: list[dict[str, Any]],
               where: str = "held-out prompts") -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: list[Path] = []
    pdir = run_dir / "plots"
    make_dir(pdir)
    by_var: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_var[r["variant"]].append(r)
    if rows:
        fig, ax = plt.subplots(figsize=(6, 3.6))
        bins = [i / 10 for i in range(11)]
        for v, rs in by_var.items():
            vals = [r["factscore"] for r in rs if r["factscore"] is not None]
            ax.hist(vals, bins=bins, alpha=0.55, label=mpl_text(f"{v} (n={len(vals)})"))
        ax.set_xlabel("FActScore of a response")
        ax.set_ylabel("responses")
        ax.set_title(mpl_text(f"Score distribution on {where}"))
        ax.legend()
        out.append(_png(fig, pdir / "scores.png"))
        fig, ax = plt.subplots(figsize=(6, 3.6))
        for v, rs in by_var.items():
            pts = [(r["words"], r["factscore"]) for r in rs if r["factscore"] is not None]
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], alpha=0.7, label=mpl_text(v), s=18)
        ax.set_xlabel("response length (words)")
        ax.set_ylabel("FActScore")
        ax.set_title("Score vs length")
        ax.legend()
        out.append(_png(fig, pdir / "score_vs_length.png"))
    if any("loss" in row for row in train_log):
        out.append(plot_curves(train_log, pdir / "training.png"))
    return out


def write_reliability_plot(reports: dict[str, dict[str, Any]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=1, label="perfect calibration")
    for name, rep in reports.items():
        bins = rep.get("reliability") or []
        if bins:
            ax.plot([b["mean_p"] for b in bins], [b["share_supported"] for b in bins], "o-",
                    label=mpl_text(f"{name} (ECE {rep['ece']:.2f})"))
    ax.set_xlabel("mean P(True) in bin")
    ax.set_ylabel("share labelled supported")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)

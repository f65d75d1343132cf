"""Training curves (matplotlib, Agg): loss, and reward accuracy / margins (DPO) or token accuracy (SFT)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def plot_curves(log: Sequence[dict[str, Any]], path: Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [e.get("step") for e in log]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax1.plot(steps, [e.get("loss") for e in log], marker="o", ms=3, label="loss")
    ax1.set_xlabel("step")
    ax1.set_ylabel("loss")
    ax1.grid(alpha=0.3)
    ax1.set_title("loss")
    right = [k for k in ("rewards/accuracies", "rewards/margins", "mean_token_accuracy") if any(k in e for e in log)]
    for k in right:
        ax2.plot([e.get("step") for e in log if k in e], [e[k] for e in log if k in e], marker="o", ms=3, label=k)
    ax2.set_xlabel("step")
    ax2.grid(alpha=0.3)
    ax2.set_title("rewards" if "rewards/accuracies" in right else "accuracy")
    if right:
        ax2.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path

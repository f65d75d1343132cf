"""Where the judges find a fitted calibration (`facttune judge fit` writes it; the format and the
fitting live in the core: ``facttune_core.Calibration``).

A file maps a judge's raw features (one score for ``judges/support``, the members' P(True) for
``judges/ensemble``) to a calibrated P(True) with a logistic model, fitted with balanced class
weights so that P(True) = 0.5 sits where balanced accuracy is best. The file records what it was
fitted on (file, number of claims, the people/topics), so a report can say the fitting data and the
data it reports on are not the same people.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from facttune_core import ConfigError, Context, did_you_mean

PACKAGED = Path(__file__).resolve().parent / "fitted"


def packaged_names() -> list[str]:
    return sorted(p.stem for p in PACKAGED.glob("*.json"))


def resolve_fitted(name: str, ctx: Context | None = None) -> Path:
    """A packaged name ('wiki-vital') or a path (relative to the recipe's folder, else the working folder)."""
    if "/" not in name and "\\" not in name and not name.endswith(".json"):
        path = PACKAGED / f"{name}.json"
        if not path.exists():
            known = packaged_names()
            raise ConfigError(f"no packaged calibration '{name}'.{did_you_mean(name, known)} Known: "
                              f"{', '.join(known) or 'none'}; or give a file written by `facttune judge fit`")
        return path
    p = Path(name).expanduser()
    if not p.is_absolute() and ctx is not None and ctx.recipe_path is not None \
            and (ctx.recipe_path.parent / p).exists():
        p = ctx.recipe_path.parent / p
    return p


def load_fitted(name: str, ctx: Context | None = None) -> dict[str, Any]:
    key = f"{ctx.key}.fitted" if ctx is not None and ctx.key else None
    try:
        path = resolve_fitted(name, ctx)
    except ConfigError as err:
        raise err.located(key=key) from None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("calibration file not found", where=str(path), key=key) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"cannot read calibration file: {err}", where=str(path), key=key) from None
    if not isinstance(data, dict):
        raise ConfigError("not a judge calibration file (not a JSON object)", where=str(path), key=key)
    return data

"""Where the judges find a fitted calibration (`facttune judge fit` writes it; the format and the
fitting live in the core: ``facttune_core.Calibration``).

A file maps a judge's raw features (one score for ``judges/support``, the members' P(True) for
``judges/ensemble``) to a calibrated P(True) with a logistic model, fitted with balanced class
weights so that P(True) = 0.5 sits where balanced accuracy is best. The file records what it was
fitted on (file, number of claims, the people/topics), so a report can say the fitting data and the
data it reports on are not the same people.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, ValidationInfo

from facttune_core import Calibration, ConfigError, Context, DataError, did_you_mean, read_json_file

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
    base = ctx.recipe_path.parent if ctx is not None and ctx.recipe_path is not None else None
    return _relative(p, base)


def _relative(p: Path, base: Path | None) -> Path:
    return base / p if not p.is_absolute() and base is not None and (base / p).exists() else p


def _check_fitted(value: str, info: ValidationInfo) -> str:
    """At validate time: the calibration exists, parses and is one (so a damaged file is caught
    before any model loads); the value is kept as written (packaged names stay names)."""
    if not value:  # "" = no calibration (raw scores), as None
        return value
    base = (info.context or {}).get("base_dir") if info.context else None
    try:
        if "/" in value or "\\" in value or value.endswith(".json"):
            path = _relative(Path(value).expanduser(), Path(base) if base else None)
        else:
            path = resolve_fitted(value)
        Calibration.from_dict(read_json_file(path), where=str(path))
    except (ConfigError, DataError) as err:
        raise ValueError(err.render()) from None
    return value


FittedFile = Annotated[str, AfterValidator(_check_fitted)]
"""A config field naming a fitted calibration, checked by ``facttune validate``."""


def load_fitted(name: str, ctx: Context | None = None) -> dict[str, Any]:
    key = f"{ctx.key}.fitted" if ctx is not None and ctx.key else None
    try:
        path = resolve_fitted(name, ctx)
    except ConfigError as err:
        raise err.located(key=key) from None
    try:
        return read_json_file(path)
    except DataError as err:
        raise ConfigError(f"calibration file: {err.message}", where=str(path), key=err.key or key) from None

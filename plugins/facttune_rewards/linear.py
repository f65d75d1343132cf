"""What the fitted FLAME judges share: the packaged sentence encoder and small linear models stored
as JSON (``format = "facttune-linear/1"``), packaged under ``fitted/`` or given as a path.

A file holds ``weights`` and ``bias`` over named ``features`` (or over an ``embedding`` of
``dimensions`` numbers from ``encoder``), what it was fitted on and what it measured; bench/flame_judges.py
fits and measures them (docs/rewards.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, ValidationInfo

from facttune_core import (
    ComponentError,
    ConfigError,
    Context,
    DataError,
    did_you_mean,
    read_json_file,
    resolve_model,
)

FORMAT = "facttune-linear/1"
PACKAGED = Path(__file__).resolve().parent / "fitted"
ENCODER = "all-minilm-l6-v2"  # the packaged MiniLM (the judges plugin registers the alias)


def packaged_names() -> list[str]:
    return sorted(p.stem for p in PACKAGED.glob("*.json"))


def fitted_path(name: str, base: Path | None = None) -> Path:
    """A packaged name ('flame-fact-seeking') or a path (relative to ``base``, else the working folder)."""
    if "/" not in name and "\\" not in name and not name.endswith(".json"):
        path = PACKAGED / f"{name}.json"
        if not path.exists():
            known = packaged_names()
            raise ConfigError(f"no packaged model '{name}'.{did_you_mean(name, known)} Known: {', '.join(known)}")
        return path
    p = Path(name).expanduser()
    return base / p if not p.is_absolute() and base is not None and (base / p).exists() else p


class Linear:
    """A linear model read from a ``facttune-linear/1`` file: ``score(x) = bias + w · x``."""

    def __init__(self, data: dict[str, Any], where: str) -> None:
        try:
            if data.get("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} file")
            self.weights = [float(w) for w in data["weights"]]
            self.bias = float(data.get("bias", 0.0))
            self.features = [str(f) for f in data.get("features") or []]
            if self.features and len(self.features) != len(self.weights):
                raise ValueError(f"{len(self.features)} features but {len(self.weights)} weights")
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigError(f"not a fitted linear model ({err})", where=where) from None
        self.info = data
        self.where = where

    @classmethod
    def load(cls, name: str, base: Path | None = None) -> Linear:
        path = fitted_path(name, base)
        return cls(read_json_file(path), str(path))

    def score(self, x: Sequence[float]) -> float:
        if len(x) != len(self.weights):
            raise ComponentError(f"{self.where}: {len(self.weights)} weights but {len(x)} features")
        return self.bias + sum(w * v for w, v in zip(self.weights, x, strict=True))

    def probability(self, x: Sequence[float]) -> float:
        z = self.score(x)
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def _check(value: str, info: ValidationInfo) -> str:
    """At validate time the file exists and is a linear model (the value is kept as written)."""
    base = (info.context or {}).get("base_dir") if info.context else None
    try:
        Linear.load(value, Path(base) if base else None)
    except (ConfigError, DataError) as err:
        raise ValueError(err.render()) from None
    return value


FittedLinear = Annotated[str, AfterValidator(_check)]


def recipe_base(ctx: Context) -> Path | None:
    return ctx.recipe_path.parent if ctx.recipe_path is not None else None


class Encoder:
    """Sentence embeddings (unit length) from a sentence-transformers model, loaded on first use."""

    def __init__(self, model: str, key: str | None, batch_size: int = 32) -> None:
        self.model_name = model
        self.key = key
        self.batch_size = batch_size
        self._model: Any = None

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        if self._model is None:
            from sentence_transformers import SentenceTransformer  # heavy: only when something is embedded

            try:
                self._model = SentenceTransformer(resolve_model(self.model_name))
            except (OSError, ValueError) as err:
                raise ComponentError(f"cannot load encoder '{self.model_name}': {err}".splitlines()[0],
                                     key=self.key) from None
        vecs = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                  show_progress_bar=False, convert_to_numpy=True)
        return [[float(v) for v in row] for row in vecs]

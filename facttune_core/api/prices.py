"""Usage → estimated cost: $ per 1M tokens in / out, per model, overridable per recipe."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ..contract.store import read_json_file


class PriceTable:
    """$ per 1M tokens (input, output) per model. A model matches its exact name, else the
    longest key it starts with (``gpt-4o-mini-2024-07-18`` → ``gpt-4o-mini``). Unknown → None."""

    def __init__(self, table: Mapping[str, Sequence[float]] | None = None) -> None:
        self.table = {k: (float(v[0]), float(v[1])) for k, v in (table or {}).items()}

    @classmethod
    def from_json(cls, path: Path | str, overrides: Mapping[str, Sequence[float]] | None = None) -> PriceTable:
        p = Path(path)
        data = read_json_file(p) if p.exists() else {}
        table = {k: v for k, v in data.items() if not k.startswith("_")}
        table.update(overrides or {})
        return cls(table)

    def price(self, model: str) -> tuple[float, float] | None:
        if model in self.table:
            return self.table[model]
        best = max((k for k in self.table if model.startswith(k)), key=len, default=None)
        return self.table[best] if best else None

    def cost_usd(self, model: str, tokens_in: int, tokens_out: int) -> float | None:
        p = self.price(model)
        if p is None:
            return None
        return (tokens_in * p[0] + tokens_out * p[1]) / 1e6

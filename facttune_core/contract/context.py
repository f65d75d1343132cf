"""What a component factory receives besides its config."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cache import CallCache


@dataclass
class Context:
    """Per-stage services for components.

    - ``cache``: the shared call cache (use ``cache.map`` for batched model/API calls).
    - ``count(name, k)``: stage counters shown in the run summary (dropped lines, retries...).
    - ``progress(advance, total)``: optional fine-grained progress inside a long batch.
    - ``build(kind, name, args)``: build another component (a reward that needs a judge).
    - ``stage_dir``: the stage's folder (None outside a run); ``key``: the recipe key of the
      component's table, for error messages (``verify.args``).
    """

    cache: CallCache = field(default_factory=lambda: CallCache(None))
    stage_dir: Path | None = None
    key: str = ""
    seed: int = 0
    counters: Counter[str] = field(default_factory=Counter)
    progress_cb: Callable[[int, int | None], None] | None = None
    recipe_path: Path | None = None

    def count(self, name: str, k: int = 1) -> None:
        self.counters[name] += k

    def progress(self, advance: int = 1, total: int | None = None) -> None:
        if self.progress_cb is not None:
            self.progress_cb(advance, total)

    def rng(self, salt: str = "") -> random.Random:
        return random.Random(f"{self.seed}:{salt}")

    def build(self, kind: str, name: str, args: dict[str, Any] | None = None, key: str | None = None) -> Any:
        from .registry import build_component

        return build_component(kind, name, args or {}, self, key=key or self.key)

"""What a component factory receives besides its config."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from .cache import CallCache
from .errors import ComponentError

T = TypeVar("T")

Builder = Callable[[type, str, Mapping[str, Any], "Context", str], Any]


@dataclass
class Context:
    """Per-stage services for components.

    - ``cache``: the shared call cache (use ``cache.map`` for batched model/API calls).
    - ``count(name, k)``: stage counters shown in the run summary (dropped lines, retries...).
    - ``info``: what the stage's manifest records under ``info`` (a knowledge source's attribution).
    - ``progress(advance, total)``: optional fine-grained progress inside a long batch.
    - ``build(kind, name, args)``: build another component (a reward that needs a judge).
    - ``stage_dir``: the stage's folder (None outside a run); ``key``: the recipe key of the
      component's table, for error messages (``verify.args``); ``key_for("top_k")`` names one field.
    """

    cache: CallCache = field(default_factory=lambda: CallCache(None))
    stage_dir: Path | None = None
    key: str = ""
    seed: int = 0
    counters: Counter[str] = field(default_factory=Counter)
    info: dict[str, Any] = field(default_factory=dict)
    progress_cb: Callable[[int, int | None], None] | None = None
    recipe_path: Path | None = None
    builder: Builder | None = None  # set by whoever builds the component (the registry)

    def count(self, name: str, k: int = 1) -> None:
        self.counters[name] += k

    def key_for(self, name: str) -> str:
        """The recipe key of one field of this component's table (``verify.args.top_k``)."""
        return f"{self.key}.{name}" if self.key else name

    def progress(self, advance: int = 1, total: int | None = None) -> None:
        if self.progress_cb is not None:
            self.progress_cb(advance, total)

    def rng(self, salt: str = "") -> random.Random:
        return random.Random(f"{self.seed}:{salt}")

    def child(self, key: str) -> Context:
        """The context of a sub-component: the same cache, counters and info under its own key."""
        return replace(self, key=key)

    def build(self, kind: type[T], name: str, args: Mapping[str, Any] | None = None, key: str | None = None) -> T:
        """Build the component ``name`` of ``kind`` (its Protocol, e.g. ``Generator``) from ``args``;
        its errors name ``key`` (default: this component's key)."""
        if self.builder is None:
            raise ComponentError("this context was made by hand and cannot build components; build the outer "
                                 "component with facttune_core.build_component", key=key or self.key or None)
        return self.builder(kind, name, dict(args or {}), self, key or self.key)  # type: ignore[no-any-return]

"""Where facttune keeps shared state (call cache, converted models, indexes)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$FACTTUNE_CACHE_DIR``, else the user cache dir (``~/.cache/facttune`` on Linux)."""
    env = os.environ.get("FACTTUNE_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("facttune"))

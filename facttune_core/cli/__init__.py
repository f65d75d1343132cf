"""The command line: typer commands only (parse, call the wings below, print). ``facttune`` is
``facttune_core.cli:main``."""

from __future__ import annotations

from .main import app, main

__all__ = ["app", "main"]

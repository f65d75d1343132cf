"""``facttune labeled FILE... [--json]``: human FActScore of FActScore's labelled files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from facttune_core import FacttuneError

from .labeled import summarize_file


def labeled(
    files: Annotated[list[Path], typer.Argument(help="FActScore labelled JSONL files (one per model)")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
    gamma: Annotated[float, typer.Option(help="length penalty γ (0 = the paper's human FActScore)")] = 0.0,
) -> None:
    """Per file: responses, response rate and the human FActScore (IR counts as unsupported)."""
    try:
        rows = [summarize_file(f, gamma) for f in files]
    except FacttuneError as err:  # one line, no traceback
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Human FActScore (IR = unsupported)" + (f", γ = {gamma:g}" if gamma else ""))
    for col in ("model", "responses", "responding %", "FActScore %", "facts / response"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for r in rows:
        table.add_row(r["model"], str(r["responses"]), f"{r['response_rate']:.1f}",
                      "-" if r["factscore"] is None else f"{r['factscore']:.1f}",
                      "-" if r["claims_per_response"] is None else f"{r['claims_per_response']:.1f}")
    Console(markup=False).print(table)  # file names are shown as written, never read as markup

"""``facttune compare``: one table across run and score folders (report/compare.py computes and renders)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..contract.errors import FacttuneError
from ..report.compare import compare, compare_table, write_outputs
from ..report.terminal import console, fail


def compare_cmd(
    folders: Annotated[list[Path], typer.Argument(help="run folders (their before / after rows) and score folders")],
    baseline: Annotated[str | None, typer.Option(help="The row the others are compared with (a row's name or a "
                                                      "folder's; default: the first row)")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where compare.png / .html / .json go")] = Path("."),
    bootstrap: Annotated[int, typer.Option(min=100, help="Bootstrap resamples")] = 2000,
    force: Annotated[bool, typer.Option("--force", help="Overwrite compare.* files in --out that facttune compare "
                                                        "did not write")] = False,
    group: Annotated[str | None, typer.Option(help="Only the rows of this group: the value of the prompt.meta key "
                                                   "a run's [evaluate] group_by named (FLAME: --group true for the "
                                                   "fact-seeking instructions)")] = None,
) -> None:
    """One table across run and score folders, with 95% CIs against a baseline, and a plot.

    A row per model / method (a run folder gives before and after): responses, claims, supported and
    unsupported per response, FActScore, error rate, words, abstention; paired-bootstrap CIs of the
    difference from the baseline over the prompts both share. Writes compare.png, .html and .json."""
    try:
        c = compare(folders, baseline, bootstrap, group=group)
        paths = write_outputs(c, out, force=force)
    except FacttuneError as err:
        fail(err, 1)
    console.print(compare_table(c))
    console.print(f"plot: {paths['png']}\npage: {paths['html']}\ndata: {paths['json']}")

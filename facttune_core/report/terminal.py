"""What every command prints with: the consoles, one-line errors, the progress bars and the stage
summary (with the judges' guard-rail warnings). The commands in cli/ import it; it imports none of them.

The consoles never read markup: user text (model names, topics, paths) is printed as written, and our
own styling goes through ``rich.text.Text`` (``styled``). When stdout is not a terminal (a log, CI, a
pipe) and ``COLUMNS`` is not set, tables get up to ``WIDE`` columns instead of rich's 80, so no column
of numbers is cut.
"""

from __future__ import annotations

import os
from typing import Any

import typer
from rich.console import Console, ConsoleDimensions
from rich.table import Table
from rich.text import Text

from ..contract.errors import FacttuneError, ProblemList
from .html import evaluation_tables

WIDE = 200


class _Console(Console):
    """A rich Console that reads no markup and, writing to a file or pipe, is ``WIDE`` columns wide."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(markup=False, **kw)

    @property  # type: ignore[override]
    def size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)  # type: ignore[attr-defined]
        if self._width is None and "COLUMNS" not in os.environ and not self.is_terminal:
            return ConsoleDimensions(max(size.width, WIDE), size.height)
        return size  # type: ignore[no-any-return]

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


console = _Console()
err_console = _Console(stderr=True, highlight=False)


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line with styled parts: ``styled(("warning", "bold yellow"), ": ", user_text)``; no markup."""
    return Text.assemble(*parts)


def fail(err: FacttuneError, code: int = 1) -> None:
    problems = err.problems if isinstance(err, ProblemList) else [err]
    for p in problems:
        err_console.print(p.render(), markup=False, soft_wrap=True)
    raise typer.Exit(code)


def judge_warnings(manifests: dict[str, dict[str, Any]]) -> list[str]:
    """The guard rail's warnings of every verify stage (main chain and evaluate's before/after)."""
    out = []
    for stage, m in manifests.items():
        if (w := (m.get("verdicts") or {}).get("warning")):
            out.append(f"{stage}: {w}")
        for variant, v in (m.get("judged") or {}).items():
            if v.get("warning"):
                out.append(f"{stage} {variant}: {v['warning']}")
    return out


def summary(results: dict[str, Any], seconds: float, scores: bool = True) -> None:
    """The stages table, the guard rail's warnings, and before/after (with an evaluate stage) or
    (``scores``, without one) the scores of the run's own responses: verdict labels, mean rewards."""
    t = Table(title=f"stages ({seconds:.1f} s)")
    for col in ("stage", "status", "items", "out", "s", "hits", "misses"):
        t.add_column(col, justify="left" if col in ("stage", "status") else "right")
    t.add_column("counts", overflow="fold", min_width=24)
    for name, r in results.items():
        notes = ", ".join(f"{k}={v}" for k, v in sorted(r.counts.items()))
        t.add_row(name, r.status, str(r.items), str(len(r.records)), f"{r.seconds:.1f}", str(r.hits), str(r.misses),
                  Text(notes))
    console.print(t)
    for line in judge_warnings({n: r.manifest for n, r in results.items()}):
        console.print(styled(("warning", "bold yellow"), ": ", line))
    ev = results.get("evaluate")
    if ev is not None:
        for table in evaluation_tables(ev.manifest.get("summary", {})):
            console.print(table)
    elif results and scores:  # nothing evaluated: the scores of the run's own responses (verdicts, rewards, pairs)
        from .overview import overview_tables, run_overview

        for table in overview_tables(run_overview({n: r.dir for n, r in results.items()}))[1:]:
            console.print(table)


class RichReporter:
    """Progress bars for the pipeline (rich)."""

    def __init__(self, con: Console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description:<28}", markup=False), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(), console=con,
                                 transient=False)

    def __enter__(self) -> RichReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def start(self, label: str, total: int | None) -> Any:
        return self.progress.add_task(label, total=total)

    def advance(self, task: Any, n: int = 1) -> None:
        if n:
            self.progress.advance(task, n)

    def finish(self, task: Any) -> None:
        t = self.progress.tasks[task] if isinstance(task, int) and task < len(self.progress.tasks) else None
        if t is not None and t.total is None:
            self.progress.update(task, total=1, completed=1)

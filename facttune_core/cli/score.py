"""``facttune score FILE --recipe R [--dry-run]``: the command (run/score.py does the work)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ..contract.errors import ConfigError, FacttuneError, ProblemList
from ..report.score_report import CLAIMS, SCORES, estimate_table, score_table, write_score_report
from ..report.terminal import RichReporter, console, err_console, fail, styled
from ..report.terminal import summary as _summary
from ..run.score import dry_run, score

SetOpt = Annotated[list[str] | None, typer.Option("--set", "-s", help="Override a recipe key: stage.args.key=value")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Use a throw-away call cache")]


def score_cmd(
    file: Annotated[Path, typer.Argument(help="JSONL: FActScore's {\"topic\", \"output\"} lines or facttune's "
                                              "{\"prompt\", \"topic\", \"response\"}")],
    recipe: Annotated[Path, typer.Option("--recipe", "-r", help="Its [extract], [retrieve], [verify], [reward] "
                                                                 "tables score the responses")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: runs/score-<FILE name>)")]
    = None,
    set_: SetOpt = None,
    k: Annotated[int | None, typer.Option("--k", min=1, help="K of F1@K (default: the reward's k, when it has one)")]
    = None,
    dry_run_: Annotated[bool, typer.Option("--dry-run", help="Count the API calls, tokens and cost; call no API")]
    = False,
    no_cache: NoCacheOpt = False,
) -> None:
    """Score existing responses (FActScore's or facttune's JSONL) with a recipe's judge; resumable, cached.

    Runs the recipe's [extract], [retrieve], [verify] and [reward] over FILE's responses and writes
    scores.jsonl (a row per response), claims.jsonl (claim, evidence, verdict) and report.html.
    --dry-run counts the API calls, tokens and cost first, calling no API."""
    out_dir = out or Path("runs") / f"score-{file.stem}"
    reporter = RichReporter(console)
    holder: dict[str, Any] = {}
    t0 = time.perf_counter()
    try:
        if dry_run_:
            with reporter:
                ests, n = dry_run(file, recipe, out_dir, set_ or [], reporter=reporter, no_cache=no_cache)
            console.print(estimate_table(ests, n))
            return
        console.print(styled(("facttune score", "bold"), f" {file} with {recipe} → {out_dir}"))
        with reporter:
            res = score(file, recipe, out_dir, set_ or [], k=k, reporter=reporter, no_cache=no_cache,
                        report_writer=write_score_report,
                        on_pipeline=lambda p: holder.update(pipe=p))
    except KeyboardInterrupt:
        err_console.print(f"{file}: interrupted; finished work is kept. Run the same command again to resume.")
        raise typer.Exit(130) from None
    except FacttuneError as err:
        pipe = holder.get("pipe")
        if pipe is not None and pipe.results:
            _summary(pipe.results, time.perf_counter() - t0, scores=False)
        if isinstance(err, ProblemList):  # the recipe's problems, each naming the recipe and key already
            fail(err, 2)
        fail(err.located(str(recipe)), 2 if isinstance(err, ConfigError) else 1)
    _summary(res.stages, time.perf_counter() - t0, scores=False)
    console.print(score_table(res.summary, title=f"{file}: {res.summary['responses']} responses, "
                                                 f"{res.summary['prompts']} prompts"))
    console.print(f"scores: {res.out_dir / SCORES}\nclaims: {res.out_dir / CLAIMS}")
    if res.report is not None:
        console.print(f"report: {res.report}")

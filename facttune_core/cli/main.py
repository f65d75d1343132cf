"""The ``facttune`` command line (typer + rich). Plugins add subcommands via ``register_commands``."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..contract.errors import FacttuneError, ProblemList
from ..contract.extras import component_extras, plugin_extras, unavailable
from ..contract.hookspecs import KINDS
from ..contract.plugins import get_plugin_manager, plugin_info
from ..contract.registry import get_registry
from ..report.html import evaluation_summary_of, evaluation_tables, write_report
from ..report.overview import overview_of, overview_tables
from ..report.terminal import RichReporter, console, err_console, fail, judge_warnings, styled
from ..report.terminal import summary as _summary
from ..run.pipeline import Pipeline
from ..run.recipe import load_recipe
from ..run.topics import check_recipe_topics
from .compare import compare_cmd
from .describe import describe_command
from .judge import judge_app
from .scaffold import new_plugin_command
from .score import NoCacheOpt, SetOpt, score_cmd

app = typer.Typer(
    name="facttune",
    help="Make language models more factual, and measure by how much (FactTune, FLAME, belief filtering).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help text is shown as written: "[extract]" is a recipe table, not markup
)


@app.command()
def validate(recipe: Path, set_: SetOpt = None) -> None:
    """Resolve every component name and validate every table; print the plan. Loads no model.

    Knowledge-source files must exist, and when the prompts come from local files (core/jsonl) their
    topics are checked against the retriever's knowledge source, as run will."""
    try:
        resolved = load_recipe(recipe, set_ or [])
        check_recipe_topics(resolved)
    except FacttuneError as err:
        fail(err, 2)
    table = Table(title=f"{recipe}: plan")
    for col in ("#", "stage", "component", "plugin"):
        table.add_column(col)
    table.add_column("settings (non-default)", overflow="fold")
    for i, stage in enumerate(resolved.stages()):
        spec = resolved.specs.get(stage)
        cfg = resolved.configs.get(stage)
        settings = (cfg.model_dump(exclude_defaults=True) if cfg is not None
                    else getattr(resolved.recipe, stage).model_dump(exclude_defaults=True))
        table.add_row(str(i), stage, spec.name if spec else "(core)", f"{spec.plugin} {spec.version}" if spec else "",
                      _short(settings))
    console.print(table)
    console.print(styled(("ok", "green"), ": recipe is valid"))


def _short(d: dict[str, Any], limit: int = 400) -> str:
    s = ", ".join(f"{k}={v!r}" for k, v in d.items())
    return s if len(s) <= limit else s[: limit - 1] + "…"


@app.command()
def run(
    recipe: Path,
    run_dir: Annotated[Path | None, typer.Option(help="Run folder (default: run.run_dir, relative to the recipe, else runs/<name> here)")] = None,
    set_: SetOpt = None,
    until: Annotated[str | None, typer.Option(help="Stop after this stage")] = None,
    force_from: Annotated[str | None, typer.Option(help="Recompute this stage and all after it (ignores the call cache there)")] = None,
    no_cache: NoCacheOpt = False,
    report: Annotated[bool, typer.Option(help="Write the report at the end")] = True,
) -> None:
    """Run a recipe's stages in order; finished stages are reused, an interrupted one resumes."""

    try:
        resolved = load_recipe(recipe, set_ or [])
    except FacttuneError as err:
        fail(err, 2)
    t0 = time.perf_counter()
    reporter = RichReporter(console)
    pipe = None
    try:
        pipe = Pipeline(resolved, run_dir, until=until, force_from=force_from, reporter=reporter,
                        no_cache=no_cache)
        console.print(styled(("facttune run", "bold"), f" {recipe} → {pipe.run_dir}"))
        with reporter:
            results = pipe.run()
    except KeyboardInterrupt:
        err_console.print(f"{recipe}: interrupted; finished work is kept. Run the same command again to resume.")
        raise typer.Exit(130) from None
    except FacttuneError as err:
        if pipe is not None and pipe.results:
            _summary(pipe.results, time.perf_counter() - t0)
        fail(err.located(str(recipe)), 1)
    _summary(results, time.perf_counter() - t0)
    if report and (until is None or until == resolved.stages()[-1]):
        try:
            out = write_report(pipe.run_dir)
            console.print(f"report: {out}")
        except FacttuneError as err:
            fail(err, 1)


@app.command()
def report(run_dir: Path) -> None:
    """Write report.html and plots for a run or score folder; print its stages, scores and before/after table.

    What it reads is checked as a run checks it; an unfinished run is reported as far as it got (and
    says so), an unfinished score folder is an error."""
    from ..report.score_report import score_table
    from ..run.readers import open_folder, score_outputs

    try:
        out = write_report(run_dir)
        folder = open_folder(run_dir)
        tables = overview_tables(overview_of(run_dir))
        if folder.kind == "score":
            tables = [tables[0], score_table(score_outputs(folder)[0].get("summary", {}), title="scores")]
        summary = evaluation_summary_of(run_dir)
    except FacttuneError as err:
        fail(err, 1)
    for table in tables:
        console.print(table)
    if summary:
        for table in evaluation_tables(summary):
            console.print(table)
    console.print(f"report: {out}")
    if folder.status == "running":
        err_console.print(f"warning: {run_dir}: {folder.unfinished()}", markup=False, soft_wrap=True)


@app.command()
def plugins(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False) -> None:
    """List installed plugins, their versions and the components each provides, by kind; a plugin
    (or component) whose extra is not installed is marked unavailable, with the line that installs it."""
    try:
        reg = get_registry()
    except FacttuneError as err:
        fail(err, 1)
    pm = get_plugin_manager()
    infos = plugin_info(pm)
    data: list[dict[str, Any]] = []
    for info in infos:
        comps: dict[str, list[str]] = {}
        needs: dict[str, str] = {}  # component -> why it is unavailable (beyond its plugin's extra)
        for kind, table in reg.components.items():
            names = sorted(n for n, s in table.items() if s.plugin == info.name)
            if names:
                comps[kind] = names
            needs.update({n: why for n in names if (why := unavailable(*component_extras(table[n]))) is not None})
        models = sorted(a for a, m in reg.models.items() if m.plugin == info.name)
        entry: dict[str, Any] = {"name": info.name, "version": info.version, "module": info.module,
                                 "distribution": info.distribution, "components": comps}
        if models:
            entry["models"] = models
        why = unavailable(*plugin_extras(info.name, pm.get_plugin(info.name)))
        entry["available"] = why is None
        if why is not None:
            entry["unavailable"] = why
        if needs:
            entry["unavailable_components"] = {n: w for n, w in needs.items() if w != why}
        data.append(entry)
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    t = Table(title="facttune plugins", caption="facttune describe NAME: a component's args")
    for col in ("plugin", "version", "components"):
        t.add_column(col)
    for e in data:
        labels = {k.name: k.label for k in KINDS}
        lines = [f"{labels[k]}: {', '.join(v)}" for k, v in e["components"].items()]
        if e.get("models"):
            lines.append(f"models: {', '.join(e['models'])}")
        if e.get("unavailable"):
            lines.append(f"unavailable: {e['unavailable']}")
        lines += [f"{n} unavailable: {w}" for n, w in (e.get("unavailable_components") or {}).items()]
        t.add_row(e["name"], e["version"], "\n".join(lines) or "-")
    console.print(t)


app.command("score")(score_cmd)
app.command("compare")(compare_cmd)
app.command("describe")(describe_command)
app.command("new-plugin")(new_plugin_command)
app.add_typer(judge_app, name="judge")

__all__ = ["app", "main", "console", "err_console", "fail", "judge_warnings", "RichReporter"]


def _add_plugin_commands() -> FacttuneError | None:
    """Plugins' subcommands; a plugin that fails to load is returned (every command that needs the
    plugins says so itself, and `facttune --help` still works)."""
    try:
        get_plugin_manager().hook.register_commands(cli=app)
    except FacttuneError as err:
        return err
    return None


def main() -> None:
    # our own rich progress bars are the display: silence the per-file bars of transformers / hf hub
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    plugin_error = _add_plugin_commands()
    code: Any = 0
    try:
        code = typer.main.get_command(app).main(args=sys.argv[1:], prog_name="facttune", standalone_mode=False)
    except Exception as err:  # click's own errors (typer vendors click, so they are matched by name)
        kinds = {c.__name__ for c in type(err).__mro__}
        if "NoArgsIsHelpError" in kinds:  # `facttune judge`: its help
            err.show()  # type: ignore[attr-defined]
            sys.exit(err.exit_code)  # type: ignore[attr-defined]
        if "UsageError" in kinds:  # a bad option value, a missing argument, an unknown command: one line
            ctx = getattr(err, "ctx", None)
            where = ctx.command_path if ctx is not None else "facttune"
            err_console.print(f"{where}: {err.format_message()} (see {where} --help)",  # type: ignore[attr-defined]
                              markup=False, soft_wrap=True)
            sys.exit(err.exit_code)  # type: ignore[attr-defined]
        if "ClickException" in kinds:
            err_console.print(err.format_message(), markup=False, soft_wrap=True)  # type: ignore[attr-defined]
            sys.exit(err.exit_code)  # type: ignore[attr-defined]
        if "Abort" in kinds:
            err_console.print("aborted", markup=False)
            sys.exit(1)
        if not isinstance(err, FacttuneError | OSError):
            raise
        _last_net(err)
    code = code if isinstance(code, int) else 0
    # a command that worked without the plugins (--help, report): say once that one failed to load;
    # one that needed them has said so already, in its one error line
    if plugin_error is not None and code == 0:
        err_console.print(f"warning: {plugin_error.render()}", markup=False, soft_wrap=True)
    sys.exit(code)


def _last_net(err: FacttuneError | OSError) -> None:
    """The one error policy's last net: a FacttuneError a plugin command let through, or an OSError
    on a file the readers did not see: one line, no traceback."""
    if isinstance(err, FacttuneError):
        for p in err.problems if isinstance(err, ProblemList) else [err]:
            err_console.print(p.render(), markup=False, soft_wrap=True)
    else:
        where = f"{err.filename}: " if err.filename else ""
        err_console.print(f"{where}{err.strerror or err}", markup=False, soft_wrap=True)
    sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()

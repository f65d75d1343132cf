"""``facttune judge``: measure a recipe's verifier against labelled claims, and fit one.

Plugins may add subcommands to this group (the retrieval plugin adds ``synth``) from their
``register_commands(cli)`` hook: the group is ``cli.registered_groups`` entry named ``judge``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..contract.errors import ConfigError, DataError, FacttuneError
from ..contract.store import json_object_with, read_json_file, refuse_overwrite
from ..report import terminal
from ..scoring.judging import FIT_FORMAT

judge_app = typer.Typer(name="judge", help="Measure a claim verifier against labelled claims; fit one; make labelled "
                        "claims from a knowledge source.", no_args_is_help=True, rich_markup_mode=None)

RecipeOpt = Annotated[Path, typer.Option("--recipe", "-r", help="Recipe whose [verify] (and [retrieve]) are used")]
KindsOpt = Annotated[str | None, typer.Option(help="Only rows of these kinds, comma-separated (e.g. atomic,sentence)")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", "-s", help="Override a recipe key: verify.args.key=value")]


def _verifier_and_data(file: Path, recipe: Path, set_: list[str] | None, kinds: str | None,
                       limit: int | None) -> tuple[Any, Any, Any, str, dict[str, Any]]:
    """Build the recipe's verifier, read the labelled file, retrieve evidence for rows without it.
    Rows whose topic the recipe's retriever cannot find are left out (how many: the last item), or,
    when none is left, a one-line error naming the file."""
    from ..contract.cache import CallCache
    from ..contract.context import Context
    from ..contract.paths import cache_dir
    from ..contract.registry import instantiate
    from ..run.recipe import load_recipe
    from ..scoring.judging import read_labelled

    resolved = load_recipe(recipe, set_ or [], require=())
    where = str(recipe)
    if "verify" not in resolved.specs:
        raise ConfigError("the recipe has no [verify] table to measure", where=where, key="verify")
    data = read_labelled(file, [k.strip() for k in kinds.split(",") if k.strip()] if kinds else None, limit)
    cpath = resolved.recipe.run.cache
    cache = CallCache(Path(cpath).expanduser() if cpath else cache_dir() / "calls.sqlite")
    left_out: dict[str, Any] = {}
    missing = [i for i, e in enumerate(data.evidence) if e is None]
    if missing:
        if "retrieve" not in resolved.specs:
            raise ConfigError(f"{len(missing)} labelled claims carry no evidence and the recipe has no [retrieve] "
                              "table to find it", where=where, key="retrieve")
        rctx = Context(cache=cache, key="retrieve.args", recipe_path=resolved.path)
        retriever = instantiate(resolved.specs["retrieve"], resolved.configs["retrieve"], rctx, where)
        data, missing, left_out = _known_topics(retriever, data, missing, file, resolved.specs["retrieve"].name)
        try:
            found = retriever.retrieve([data.claims[i] for i in missing])
        except FacttuneError as err:
            raise err.located(where, "retrieve.args") from None
        for i, e in zip(missing, found, strict=True):
            data.evidence[i] = e
    vctx = Context(cache=cache, key="verify.args", recipe_path=resolved.path)
    verifier = instantiate(resolved.specs["verify"], resolved.configs["verify"], vctx, where)
    return verifier, data, resolved, resolved.specs["verify"].name, left_out


def _known_topics(retriever: Any, data: Any, missing: list[int], file: Path,
                  name: str) -> tuple[Any, list[int], dict[str, Any]]:
    """Leave out the rows (without evidence) whose topic the retriever's knowledge source lacks, when
    it can tell (the optional ``check_topics``): FActScore's labelled people are not all in every
    source. None left: a one-line error with the count."""
    if not callable(getattr(retriever, "check_topics", None)):
        return data, missing, {}
    topics = sorted({data.claims[i].topic or "" for i in missing})
    problems = dict(zip(topics, retriever.check_topics([t or None for t in topics]), strict=True))
    bad = {t for t, msg in problems.items() if msg}
    if not bad:
        return data, missing, {}
    keep = [i for i in range(len(data)) if data.evidence[i] is not None or (data.claims[i].topic or "") not in bad]
    example = sorted(bad)[0]
    if not keep:
        raise DataError(f"none of its {len(bad)} topics is in [retrieve] {name}'s knowledge source (e.g. "
                        f"{problems[example]}): nothing to measure", where=str(file))
    dropped = len(data) - len(keep)
    data = data.subset(keep)
    info = {"topics": len(bad), "of_topics": len(set(topics)), "claims": dropped, "example": problems[example],
            "source": name}
    return data, [i for i, e in enumerate(data.evidence) if e is None], info


def _verify(verifier: Any, data: Any, label: str, chunk: int = 64) -> list[Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    out: list[Any] = []
    with Progress(TextColumn(label, markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=terminal.console, transient=True) as prog:
        task = prog.add_task(label, total=len(data))
        for s in range(0, len(data), chunk):
            batch = verifier.verify(data.claims[s:s + chunk], data.evidence[s:s + chunk])
            if len(batch) != len(data.claims[s:s + chunk]):
                raise FacttuneError(f"the verifier returned {len(batch)} verdicts for "
                                    f"{len(data.claims[s:s + chunk])} claims")
            out.extend(batch)
            prog.advance(task, len(batch))
    return out


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.1%}" if pct else f"{v:.3f}"
    return str(v)


def report_table(title: str, report: dict[str, Any]) -> Table:
    from rich.text import Text

    t = Table(title=Text(title))
    cols = [("rows", "n"), ("gold S", "gold_supported"), ("called S", "called_supported"), ("AUROC", "auroc"),
            ("bal. acc", "balanced_accuracy"), ("NS prec", "ns_precision"), ("NS rec", "ns_recall"),
            ("NS F1", "ns_f1"), ("ECE", "ece"), ("resp. MAE (pts)", "response_mae")]
    t.add_column("kind")
    for c, _ in cols:
        t.add_column(c, justify="right")
    rows = [("all", report["overall"])] + list(report["kinds"].items()) if len(report["kinds"]) > 1 else \
        [(next(iter(report["kinds"]), "all"), report["overall"])]
    for name, r in rows:
        t.add_row(Text(str(name)), *[_fmt(r.get(k), pct=k in ("gold_supported", "called_supported")) if k != "response_mae"
                          else (f"{r[k]:.1f}" if r.get(k) is not None else "-") for _, k in cols])
    return t


@judge_app.command("eval")
def eval_(
    file: Annotated[Path, typer.Argument(help="Labelled claims (JSONL): judge-dev format or FActScore's labelled format")],
    recipe: RecipeOpt,
    set_: SetOpt = None,
    kinds: KindsOpt = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many claims")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for judge-eval.json and reliability.png")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite a judge-eval.json / reliability.png in --out "
                                                        "that facttune judge eval did not write")] = False,
) -> None:
    """Run the recipe's [verify] on labelled claims: AUROC, balanced accuracy, NS precision/recall, confusion,
    calibration (ECE + reliability plot), response-level FActScore error; per kind."""
    from ..contract.store import atomic_write_text, make_dir
    from ..report.plots import write_reliability_plot
    from ..scoring.judging import dump, evaluate

    cli = terminal
    out_dir = out or Path("judge-eval") / file.stem
    try:
        ours = json_object_with(out_dir / "judge-eval.json", "overall", "component")
        for name in ("judge-eval.json", "reliability.png"):
            refuse_overwrite(out_dir / name, lambda p: ours, "facttune judge eval", force)
        verifier, data, resolved, name, left_out = _verifier_and_data(file, recipe, set_, kinds, limit)
        t0 = time.perf_counter()
        verdicts = _verify(verifier, data, f"judging {len(data)} claims")
        seconds = time.perf_counter() - t0
        report = evaluate(data, verdicts)
    except FacttuneError as err:
        cli.fail(err, 1)
    report.update({"file": str(file), "recipe": str(recipe), "component": name,
                   "args": resolved.configs["verify"].model_dump(mode="json"), "seconds": round(seconds, 2),
                   "claims_per_s": round(len(data) / seconds, 2) if seconds else None, "topics": data.topics(),
                   "left_out": left_out, "created": time.strftime("%Y-%m-%dT%H:%M:%S")})
    cli.console.print(report_table(f"{name} on {file.name} ({len(data)} claims, {seconds:.1f} s)", report))
    if left_out:
        cli.console.print(_left_out_note(left_out))
    fitted = getattr(getattr(verifier, "calibration", None), "info", None) or {}
    overlap = sorted(set(fitted.get("topics") or []) & set(data.topics()))
    if overlap:
        cli.console.print(terminal.styled(("note", "yellow"), f": the calibration was fitted on {len(overlap)} of these "
                                          f"{len(data.topics())} topics: these figures are in-sample; use `facttune "
                                          "judge fit --cv` or other topics for an honest estimate."))
    try:
        make_dir(out_dir)
        atomic_write_text(out_dir / "judge-eval.json", dump(report))
        reports = {"all": report["overall"], **report["kinds"]} if len(report["kinds"]) > 1 else {"all": report["overall"]}
        plot = write_reliability_plot(reports, out_dir / "reliability.png")
    except OSError as err:
        cli.fail(FacttuneError(f"cannot write the results: {err.strerror or err}", where=str(out_dir)), 1)
    cli.console.print(f"results: {out_dir / 'judge-eval.json'}, {plot}")


@judge_app.command("fit")
def fit(
    file: Annotated[Path, typer.Argument(help="Labelled claims (JSONL) to fit on: other topics than you report on")],
    recipe: RecipeOpt,
    out: Annotated[Path, typer.Option(help="Calibration file to write (name it in the recipe: verify.args.fitted)")],
    set_: SetOpt = None,
    kinds: KindsOpt = None,
    cv: Annotated[bool, typer.Option(help="Also report leave-one-topic-out cross-validation (held-out figures)")] = True,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --out when it is not a calibration file that "
                                                        "facttune judge fit wrote")] = False,
) -> None:
    """Fit the recipe's verifier's calibration (a logistic model over its features, balanced classes) and
    write it to a file; with --cv print held-out (leave-one-topic-out) figures."""
    from ..contract.records import Verdict
    from ..contract.store import atomic_write_text, make_dir
    from ..scoring.judging import Calibration, dump, evaluate, fit_logistic

    cli = terminal
    try:
        if out.exists() and file.exists() and out.resolve() == file.resolve():
            raise DataError("is the labelled file you fit on: give the calibration a file of its own", where=str(out),
                            key="--out")
        refuse_overwrite(out, lambda p: json_object_with(p, "format", "weights") and
                         read_json_file(p).get("format") == FIT_FORMAT, "facttune judge fit", force)
        verifier, data, resolved, name, left_out = _verifier_and_data(file, recipe, set_, kinds, None)
        if not hasattr(verifier, "features"):
            raise ConfigError(f"{name} has nothing to fit (it has no features(claims, evidence) method)",
                              where=str(recipe), key="verify.component")
        X: list[list[float]] = []
        for s in range(0, len(data), 64):
            X.extend(verifier.features(data.claims[s:s + 64], data.evidence[s:s + 64]))
        try:
            w, b = fit_logistic(X, data.labels)
        except DataError as err:
            raise err.located(str(file)) from None
        topics = data.topics()
        names = list(getattr(verifier, "feature_names", None) or [f"f{i}" for i in range(len(w))])
        cal = Calibration(weights=w, bias=b, features=names, info={
            "component": name, "fitted_on": str(file), "claims": len(data), "supported": sum(data.labels),
            "kinds": sorted(set(data.kinds)), "topics": topics, "created": time.strftime("%Y-%m-%dT%H:%M:%S")})
        cv_report = None
        if cv and len(topics) > 2:
            pred: list[Verdict] = [Verdict(claim_id="", supported=None)] * len(data)
            for t in topics:
                tr = [i for i, c in enumerate(data.claims) if (c.topic or "") != t]
                te = [i for i, c in enumerate(data.claims) if (c.topic or "") == t]
                try:
                    wt, bt = fit_logistic([X[i] for i in tr], [data.labels[i] for i in tr])
                except FacttuneError:
                    continue
                c_t = Calibration(weights=wt, bias=bt)
                for i in te:
                    p = c_t.p_true(*X[i])
                    pred[i] = Verdict(claim_id=data.claims[i].id, supported=p >= 0.5, p_true=p)
            cv_report = evaluate(data, pred)
            cal.info["cv"] = {"scheme": "leave-one-topic-out", "overall": _brief(cv_report["overall"]),
                              "kinds": {k: _brief(v) for k, v in cv_report["kinds"].items()}}
        make_dir(out.parent)
        atomic_write_text(out, dump(cal.to_dict()))
    except FacttuneError as err:
        cli.fail(err, 1)
    except OSError as err:
        cli.fail(FacttuneError(f"cannot write: {err.strerror or err}", where=str(out)), 1)
    thr = f"; P(True) = 0.5 at feature = {-b / w[0]:.3f}" if len(w) == 1 and w[0] else ""
    if left_out:
        cli.console.print(_left_out_note(left_out))
    weights = ", ".join(f"{n} {x:.3f}" for n, x in zip(cal.features, w, strict=True))
    cli.console.print(f"fitted {name} on {len(data)} claims ({sum(data.labels)} supported) from "
                      f"{len(topics)} topics: weights {weights}, bias {b:.3f}{thr}")
    if cv_report is not None:
        cli.console.print(report_table("held out (leave-one-topic-out)", cv_report))
    cli.console.print(f"wrote {out}")


def _left_out_note(info: dict[str, Any]) -> Any:
    return terminal.styled(("note", "yellow"), f": {info['topics']} of {info['of_topics']} topics are not in [retrieve] "
                           f"{info['source']}'s knowledge source ({info['example']}): their {info['claims']} claims "
                           "are left out")


def _brief(r: dict[str, Any]) -> dict[str, Any]:
    return {k: r.get(k) for k in ("n", "auroc", "balanced_accuracy", "called_supported", "gold_supported",
                                  "response_mae")}

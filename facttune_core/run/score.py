"""Score responses that already exist: ``facttune score FILE --recipe RECIPE [--out DIR]``.

FILE is JSONL in FActScore's input format (``{"topic": ..., "output": ...}`` per line) or
facttune's (``{"prompt": ..., "topic": ..., "response": ...}``; ``responses`` may list several,
and several lines may share a prompt). The data stage ``core/responses`` turns it into prompts and
given responses; the recipe's ``[extract]``, ``[retrieve]``, ``[verify]`` and ``[reward]`` tables
(or its ``[evaluate]`` overrides of the first three) then run as the pipeline's usual stages, so
scoring is resumable and cached exactly like ``facttune run``. The data stage is keyed by the
file's content (not its path): an edited file gets new stages, a moved one keeps its work.

Outputs in DIR: ``scores.jsonl`` (a row per response), ``claims.jsonl`` (claim → evidence →
verdict), ``score.json`` (summary and settings) and ``report.html``. docs/evaluation.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..contract.context import Context
from ..contract.errors import ConfigError, DataError, FacttuneError, ProblemList
from ..contract.records import Claim, Evidence, Response, Reward, Verdict
from ..contract.store import atomic_write_json, file_sha256, write_records
from ..scoring.claim_scores import (
    FactScoreRule,
    join_claims,
    no_fact_share,
    repeated_share,
    score_claims,
    score_of_row,
    summarize_scores,
)
from ..scoring.text import split_sentences, word_count
from .readers import CLAIMS, SCORE_META, SCORES
from .score_input import ScoreInput, read_input
from .stages import CLAIM_CHAIN

if TYPE_CHECKING:

    from ..api.estimate import CallEstimate
    from .executor import Reporter
    from .folders import StageResult
    from .pipeline import Pipeline
    from .recipe import Resolved

# FActScore's human annotators wrote 4.6 atomic facts per sentence of ChatGPT biographies: what a
# dry run assumes for the verify stage when an API extractor's claims do not exist yet
CLAIMS_PER_SENTENCE = 4.6

# the stages that turn a given response into its scored claims (declared in run/stages.py)
CHAIN = tuple(s.name for s in CLAIM_CHAIN)


# ---------------------------------------------------------------------------- the recipe


@dataclass
class ScoringRecipe:
    resolved: Resolved
    moved: dict[str, str]  # chain stage → the [evaluate] table it came from
    rule: FactScoreRule  # the [reward]'s γ and IR rule: scores.jsonl counts as the reward does
    k: int | None

    @property
    def gamma(self) -> float:
        return self.rule.gamma

    def rekey(self, err: FacttuneError) -> FacttuneError:
        return _rekey(err, self.moved)


def _rekey(err: FacttuneError, moved: dict[str, str]) -> FacttuneError:
    """Name ``evaluate.verify...`` rather than ``verify...`` when the table came from [evaluate]."""
    if isinstance(err, ProblemList):
        return ProblemList([_rekey(p, moved) for p in err.problems])
    head = (err.key or "").split(".", 1)[0]
    if head in moved and err.key is not None:
        new = type(err).__new__(type(err))
        FacttuneError.__init__(new, err.message, where=err.where, key=f"evaluate.{err.key}")
        return new
    return err


def scoring_recipe(recipe: Path, overrides: Sequence[str], input_path: Path, k: int | None = None) -> ScoringRecipe:
    """The recipe's scoring tables over ``core/responses`` reading ``input_path``. ``[evaluate]``'s
    extract / retrieve / verify, when present, replace the main ones (they are how the recipe
    measures factuality). Tables other than run, extract, retrieve, verify, reward, report are
    ignored."""
    from .recipe import apply_overrides, load_raw, resolve_raw

    recipe = Path(recipe)
    raw = load_raw(recipe)
    apply_overrides(raw, list(overrides), str(recipe))
    ev = raw.get("evaluate") if isinstance(raw.get("evaluate"), dict) else {}
    new: dict[str, Any] = {}
    if isinstance(raw.get("run"), dict):
        new["run"] = {key: v for key, v in raw["run"].items() if key in ("name", "seed", "cache")}
    new["data"] = {"component": "core/responses", "args": {"path": str(Path(input_path).resolve())}}
    moved: dict[str, str] = {}
    for s in CHAIN:
        if isinstance(ev, dict) and ev.get(s) is not None:
            new[s], moved[s] = ev[s], f"evaluate.{s}"
        elif s in raw:
            new[s] = raw[s]
    for s in ("reward", "report"):
        if s in raw:
            new[s] = raw[s]
    missing = [s for s in ("extract", "verify") if s not in new]
    if missing:
        raise ConfigError(f"facttune score needs the recipe's [{'] and ['.join(missing)}] table"
                          f"{'s' if len(missing) > 1 else ''} (it extracts claims and verifies them)",
                          where=str(recipe))
    try:
        resolved = resolve_raw(recipe, new, overrides=overrides)
    except FacttuneError as err:
        raise _rekey(err, moved) from None
    rcfg = resolved.configs.get("reward")
    if k is None and rcfg is not None and "k" in type(rcfg).model_fields:
        rk = getattr(rcfg, "k", None)
        k = rk if isinstance(rk, int) and not isinstance(rk, bool) else None
    return ScoringRecipe(resolved=resolved, moved=moved, rule=FactScoreRule.of(rcfg), k=k)


def check_topics(sr: ScoringRecipe, inp: ScoreInput, pipe: Pipeline) -> None:
    """Before any stage runs (nothing is written): FILE's topics against the retriever's knowledge
    source, each problem named by FILE's line (``facttune_core.run.topics``)."""
    from .topics import check_prompt_topics

    try:
        check_prompt_topics(sr.resolved, inp.prompts, data_path=str(inp.path), cache=pipe.cache)
    except FacttuneError as err:
        raise sr.rekey(err) from None


def locate_topic_error(err: FacttuneError, inp: ScoreInput) -> FacttuneError:
    """A stage failed naming one of FILE's topics (a retriever without ``check_topics``): say
    which line of FILE it comes from, keeping the component's own message."""
    if err.where in (str(inp.path), str(inp.path.resolve())):  # names FILE's line already (as given)
        return err.located() if err.where == str(inp.path) else type(err)(err.message, where=str(inp.path),
                                                                          key=err.key)
    for topic, line in inp.topic_lines().items():
        if "topic" in err.message and f"'{topic}'" in err.message:
            return DataError(err.render(), where=str(inp.path), key=f"line {line}")
    return err


# ---------------------------------------------------------------------------- results


@dataclass
class ScoreResult:
    out_dir: Path
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    stages: dict[str, StageResult] = field(default_factory=dict)
    report: Path | None = None


def _records(results: dict[str, StageResult], stage: str, cls: type) -> list[Any]:
    res = results.get(stage)
    return [r for r in res.records if isinstance(r, cls)] if res is not None else []


def collect(results: dict[str, StageResult], rule: FactScoreRule, k: int | None) -> tuple[list[dict[str, Any]],
                                                                                         list[dict[str, Any]]]:
    """Per response (scores.jsonl) and per claim (claims.jsonl) rows, in FILE's order, counted by the
    one rule (``claim_scores``) the reward uses."""
    responses = _records(results, "data", Response)
    joined = join_claims(_records(results, "extract", Claim), _records(results, "retrieve", Evidence),
                         _records(results, "verify", Verdict))
    rewards: dict[str, dict[str, Any]] = {}
    for rw in _records(results, "reward", Reward):
        rewards.setdefault(rw.response_id, {})[rw.name] = rw.value
    rows: list[dict[str, Any]] = []
    claim_rows: list[dict[str, Any]] = []
    for r in responses:
        js = joined.get(r.id, [])
        rs = score_claims(js, rule)
        row: dict[str, Any] = {"line": r.meta.get("line"), "prompt_id": r.prompt_id, "response_id": r.id,
                               "topic": r.topic, "model": r.model, **rs.as_dict(), "words": word_count(r.text),
                               "no_fact_share": no_fact_share(r.text, [j.claim for j in js]),
                               "repeated_share": repeated_share(r.text)}
        if k is not None:
            row["f1_at_k"] = rs.f1_at_k(k)
        if r.id in rewards:
            row["rewards"] = rewards[r.id]
        rows.append(row)
        claim_rows += [{"line": r.meta.get("line"), **j.as_row()} for j in js]
    return rows, claim_rows


def summarize_rows(rows: Sequence[dict[str, Any]], rule: FactScoreRule, k: int | None) -> dict[str, Any]:
    """The aggregate of scores.jsonl rows (means over responses; FActScore and F1@K over the
    responses that have claims, abstentions reported apart)."""
    scores = [replace(score_of_row(r), factscore=r["factscore"]) for r in rows]
    s = summarize_scores(scores, [r["words"] for r in rows], rule, [r.get("no_fact_share") for r in rows],
                         [r.get("repeated_share") for r in rows])
    out: dict[str, Any] = {
        "responses": len(rows), "prompts": len({r["prompt_id"] for r in rows}), "scored": s["n_scored"],
        "gamma": rule.gamma, "irrelevant": rule.irrelevant, "factscore": s["factscore"],
        "factscore_unpenalized": s["factscore_unpenalized"], "claims_per_response": s["claims_per_response"],
        "mean_supported": s["mean_supported"], "mean_unsupported": s["mean_unsupported"],
        "error_rate": s["error_rate"], "mean_words": s["mean_words"], "abstention_rate": s["abstention_rate"],
        "no_fact_share": s["no_fact_share"], "repeated_share": s["repeated_share"],
    }
    if k is not None:
        f1 = [r["f1_at_k"] for r in rows if r.get("f1_at_k") is not None]
        out["k"] = k
        out["f1_at_k"] = (sum(f1) / len(f1)) if f1 else None
    return out


def score_summary(rows: Sequence[dict[str, Any]], rule: FactScoreRule, k: int | None) -> dict[str, Any]:
    out = summarize_rows(rows, rule, k)
    models = list(dict.fromkeys(r.get("model") for r in rows))
    if len(models) > 1:
        out["by_model"] = {str(m): summarize_rows([r for r in rows if r.get("model") == m], rule, k)
                           for m in models}
    return out


# ---------------------------------------------------------------------------- running it


def score(input_path: Path, recipe: Path, out_dir: Path, overrides: Sequence[str] = (), *, k: int | None = None,
          reporter: Reporter | None = None, no_cache: bool = False,
          on_pipeline: Callable[[Pipeline], None] | None = None,
          report_writer: Callable[[Path, int], Path] | None = None) -> ScoreResult:
    """Check FILE and the recipe, run data → extract → retrieve → verify → reward in ``out_dir``
    (resumable, cached), then write scores.jsonl, claims.jsonl and score.json, and, when the recipe
    asks for it, report.html with ``report_writer(out_dir, max_drilldown)`` (the report wing's
    ``write_score_report``: the run engine does not render)."""
    from .pipeline import Pipeline

    inp = read_input(Path(input_path))
    sr = scoring_recipe(recipe, overrides, Path(input_path), k)
    pipe = Pipeline(sr.resolved, Path(out_dir), reporter=reporter, no_cache=no_cache, kind="score",
                    check_topics=False)
    if on_pipeline is not None:
        on_pipeline(pipe)
    check_topics(sr, inp, pipe)  # before anything is written
    made: dict[str, Any] = {}

    def write_outputs(results: dict[str, StageResult]) -> None:
        """Under the folder's lock, before run.json says finished: the rows, then score.json (their
        counts and sha256: what compare and report check them against)."""
        rows, claim_rows = collect(results, sr.rule, sr.k)
        summary = score_summary(rows, sr.rule, sr.k)
        out = pipe.run_dir
        write_records(out / SCORES, rows)
        write_records(out / CLAIMS, claim_rows)
        atomic_write_json(out / SCORE_META, {
            "input": str(inp.path.resolve()), "format": inp.format, "recipe": str(Path(recipe).resolve()),
            "overrides": list(overrides), "gamma": sr.gamma, "factscore_rule": sr.rule.as_dict(), "k": sr.k,
            "summary": summary, "stages": {s: r.dir.name for s, r in results.items()},
            "components": {s: sr.resolved.specs[s].name for s in (*CHAIN, "reward") if s in sr.resolved.specs},
            "files": {name: {"records": n, "sha256": file_sha256(out / name)}
                      for name, n in ((SCORES, len(rows)), (CLAIMS, len(claim_rows)))},
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        })
        made.update(rows=rows, summary=summary)

    try:
        results = pipe.run(then=write_outputs)
    except FacttuneError as err:
        raise locate_topic_error(sr.rekey(err), inp) from None
    out, rows, summary = pipe.run_dir, made["rows"], made["summary"]
    report = None
    if sr.resolved.recipe.report.html and report_writer is not None:
        report = report_writer(out, sr.resolved.recipe.report.max_drilldown)
    return ScoreResult(out_dir=out, rows=rows, summary=summary, stages=results, report=report)


# ---------------------------------------------------------------------------- dry run


@dataclass
class StageEstimate:
    stage: str
    component: str
    estimate: CallEstimate | None = None
    note: str = ""


def dry_run(input_path: Path, recipe: Path, out_dir: Path, overrides: Sequence[str] = (), *,
            reporter: Reporter | None = None, no_cache: bool = False) -> tuple[list[StageEstimate], int]:
    """What scoring would send to priced APIs, spending nothing: stages whose component offers the
    optional ``estimate`` are estimated (calls, tokens, cost); the local stages before the first
    such stage run as usual (their work is kept for the real run), because the API's prompts
    depend on them. Stages after an estimated extract see proxy claims (one per sentence, scaled
    by ``CLAIMS_PER_SENTENCE``): approximate, and marked so."""
    from ..api.estimate import scaled
    from ..contract.registry import instantiate
    from .pipeline import Pipeline

    inp = read_input(Path(input_path))
    sr = scoring_recipe(recipe, overrides, Path(input_path))
    r = sr.resolved
    chain = [s for s in CHAIN if s in r.specs]
    can = {s: callable(getattr(r.specs[s].factory, "estimate", None)) for s in chain}
    out: list[StageEstimate] = [StageEstimate(s, r.specs[s].name) for s in chain]
    if not any(can.values()):
        for e in out:
            e.note = "local: no API cost"
        return out, len(inp.responses)
    first = next(s for s in chain if can[s])
    order = r.stages()
    pipe = Pipeline(r, Path(out_dir), until=order[order.index(first) - 1], reporter=reporter, no_cache=no_cache,
                    kind="score", check_topics=False)
    check_topics(sr, inp, pipe)
    try:
        results = pipe.run()
    except FacttuneError as err:
        raise locate_topic_error(sr.rekey(err), inp) from None
    claims: list[Claim] | None = _records(results, "extract", Claim) if "extract" in results else None
    evidence: dict[str, Evidence] = {e.claim_id: e for e in _records(results, "retrieve", Evidence)}
    proxy = False
    responses = _records(results, "data", Response)

    def build(stage: str) -> Any:
        key = f"{sr.moved.get(stage, stage)}.args"
        ctx = Context(cache=pipe.cache, key=key, recipe_path=r.path, seed=r.recipe.run.seed)
        return instantiate(r.specs[stage], r.configs[stage], ctx, str(r.path))

    for e in out:
        s = e.stage
        if s in results:
            e.note = "ran (local; kept for the real run)"
            continue
        try:
            if s == "extract":
                e.estimate = build(s).estimate(responses)
                claims = [Claim(id=f"{x.id}/s{i}", response_id=x.id, prompt_id=x.prompt_id, text=t, topic=x.topic)
                          for x in responses for i, t in enumerate(split_sentences(x.text))]
                proxy = True
            elif s == "retrieve":
                assert claims is not None
                comp = build(s)
                if can[s]:
                    e.estimate = comp.estimate(claims)
                    evidence = {}
                else:
                    evidence = {ev.claim_id: ev for ev in comp.retrieve(claims)}
                    e.note = "local: run on one proxy claim per sentence, to size the verifier's prompts" if proxy \
                        else "local"
            elif s == "verify":
                assert claims is not None
                if not can[s]:
                    e.note = "local: no API cost"
                    continue
                est = build(s).estimate(claims, [evidence.get(c.id) for c in claims])
                if proxy:
                    est = scaled(est, CLAIMS_PER_SENTENCE)
                    e.note = (f"approximate: claims are not extracted yet; assumes {CLAIMS_PER_SENTENCE:g} "
                              "per sentence (FActScore's human annotators)")
                e.estimate = est
        except FacttuneError as err:
            raise sr.rekey(err.located(str(r.path), f"{sr.moved.get(s, s)}.args")) from None
    return out, len(inp.responses)


__all__ = ["CHAIN", "CLAIMS_PER_SENTENCE", "ScoreInput", "ScoringRecipe", "ScoreResult", "StageEstimate",
           "dry_run", "read_input", "score", "scoring_recipe"]

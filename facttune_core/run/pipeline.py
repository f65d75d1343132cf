"""The stages in order, each in its own folder, resumable.

``data → generate → extract → retrieve → verify → reward → pairs → train → evaluate``

A stage folder ``NN-stage-<key>`` holds ``records.jsonl`` and ``manifest.json``, both written to a
temporary name and renamed; a stage is done when its manifest exists. The key hashes the upstream
key, the component's name and version and its output-relevant config, so a changed recipe gets
new folders and an unchanged one reuses finished work. Inside a stage, finished items are appended
to ``records.partial.jsonl`` chunk by chunk, so a killed stage resumes where it stopped; every model
or API call also goes through the shared call cache.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .. import metrics
from ..cache import CallCache, stable_json
from ..contract.config import output_config
from ..contract.context import Context
from ..contract.errors import ConfigError, DataError, FacttuneError
from ..contract.protocols import DataBundle, TrainData
from ..contract.records import (
    Claim,
    Evidence,
    Pair,
    Prompt,
    Record,
    Response,
    Reward,
    ScoredResponse,
    SFTExample,
    Verdict,
)
from ..contract.registry import instantiate, validate_args
from ..pairs import build as build_pairs
from ..paths import cache_dir
from ..recipe import STAGES, Resolved
from ..store import (
    MANIFEST,
    PARTIAL,
    RECORDS,
    PartialWriter,
    atomic_write_json,
    atomic_write_text,
    iter_jsonl,
    parse_record,
    read_manifest,
    read_records,
    write_records,
)
from ..text import word_count
from .evaluate import evaluation_summary

T = TypeVar("T")

DEFAULT_CHUNKS = {"generate": 4, "extract": 8, "retrieve": 64, "verify": 32, "reward": 16}
STAGE_INDEX = {s: i for i, s in enumerate(STAGES)}
# records a prompt source may already provide: (DataBundle field, record kind, the stage it replaces)
GIVEN = (("responses", "response", "generate"), ("claims", "claim", "extract"), ("evidence", "evidence", "retrieve"),
         ("verdicts", "verdict", "verify"))


def stage_key(upstream: str | None, stage: str, component: str | None, version: str | None,
              config: Any) -> str:
    blob = stable_json({"up": upstream, "stage": stage, "component": component, "version": version,
                        "config": config})
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass
class StageResult:
    stage: str
    key: str
    dir: Path
    status: str  # ran | resumed | done | given
    records: list[Any] = field(default_factory=list)
    items: int = 0
    seconds: float = 0.0
    hits: int = 0
    misses: int = 0
    counts: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)


class Reporter:
    """Progress display. The CLI passes a rich-backed one; tests use this silent default."""

    def start(self, label: str, total: int | None) -> Any:
        return None

    def advance(self, task: Any, n: int = 1) -> None:
        return None

    def finish(self, task: Any) -> None:
        return None

    def log(self, message: str) -> None:
        return None


class Pipeline:
    def __init__(self, resolved: Resolved, run_dir: Path | None = None, *, cache: CallCache | None = None,
                 until: str | None = None, force_from: str | None = None, reporter: Reporter | None = None,
                 no_cache: bool = False) -> None:
        self.r = resolved
        self.recipe = resolved.recipe
        self.where = str(resolved.path)
        for opt, val in (("--until", until), ("--force-from", force_from)):
            if val is not None and val not in STAGES:
                raise ConfigError(f"unknown stage '{val}'; stages: {', '.join(STAGES)}", key=opt)
        self.until = until
        self.force_from = force_from
        default_dir = Path("runs") / self.recipe.run.name
        self.run_dir = Path(run_dir or self.recipe.run.run_dir or default_dir)
        if not self.run_dir.is_absolute() and run_dir is None and self.recipe.run.run_dir:
            self.run_dir = resolved.base_dir / self.run_dir
        # absolute from here on: components may run subprocesses in other folders (the trainer does)
        self.run_dir = self.run_dir.resolve()
        if cache is not None:
            self.cache = cache
        elif no_cache:
            self.cache = CallCache(None)
        else:
            cpath = self.recipe.run.cache
            self.cache = CallCache(Path(cpath).expanduser() if cpath else cache_dir() / "calls.sqlite")
        self.reporter = reporter or Reporter()
        self.results: dict[str, StageResult] = {}
        self.given: set[str] = set()

    # ------------------------------------------------------------------ helpers
    def _forced(self, stage: str) -> bool:
        return self.force_from is not None and STAGE_INDEX[stage] >= STAGE_INDEX[self.force_from]

    def _ctx(self, stage: str, stage_dir: Path | None, counters: Counter[str]) -> Context:
        key = "train" if stage == "train" else f"{stage}.args"
        if stage_dir is not None and stage_dir.parent.name in ("before", "after"):
            ev = self.recipe.evaluate
            if ev is not None and stage in ("extract", "retrieve", "verify") and getattr(ev, stage) is not None:
                key = f"evaluate.{stage}.args"
        return Context(cache=self.cache, stage_dir=stage_dir, key=key, seed=self.recipe.run.seed,
                       counters=counters, recipe_path=self.r.path)

    def _build(self, stage: str, ctx: Context, config: Any | None = None, spec_stage: str | None = None) -> Any:
        spec = self.r.specs[spec_stage or stage]
        cfg = config if config is not None else self.r.configs[spec_stage or stage]
        return instantiate(spec, cfg, ctx, self.where)

    def _key(self, stage: str, upstream: str | None, extra: Any = None) -> str:
        spec = self.r.specs.get(stage)
        cfg = self.r.stage_config(stage) if self.r.table(stage) is not None else None
        return stage_key(upstream, stage.split(".")[-1], spec.name if spec else None,
                         spec.version if spec else None, {"cfg": cfg, "extra": extra})

    def _dir(self, root: Path, stage: str, key: str) -> Path:
        return root / f"{STAGE_INDEX[stage]:02d}-{stage}-{key}"

    def _finished(self, stage: str, key: str, sdir: Path) -> StageResult | None:
        """The stage's result when its folder holds a manifest for this key (``--force-from``
        has removed the folders it recomputes), else None."""
        manifest = read_manifest(sdir)
        if manifest is None or manifest.get("key") != key:
            return None
        return StageResult(stage, key, sdir, "done", read_records(sdir / RECORDS), items=manifest.get("items", 0),
                           counts=manifest.get("counts", {}), manifest=manifest)

    # ------------------------------------------------------------------ chunked, resumable stage
    def _chunked(self, stage: str, key: str, root: Path, items: Sequence[T], item_id: Callable[[T], str],
                 make: Callable[[Context], Callable[[list[T]], list[list[Record]]]], chunk: int,
                 label: str | None = None, component: str | None = None,
                 config_for_manifest: Any = None) -> StageResult:
        sdir = self._dir(root, stage, key)
        label = label or stage
        if (done_res := self._finished(stage, key, sdir)) is not None:
            return done_res
        sdir.mkdir(parents=True, exist_ok=True)
        partial = sdir / PARTIAL
        done: dict[str, list[Any]] = {}
        if partial.exists():
            for _, row in iter_jsonl(partial, tolerate_torn_tail=True):
                done[row["_item"]] = [parse_record(d) for d in row["out"]]
        status = "resumed" if done else "ran"
        todo = [x for x in items if item_id(x) not in done]
        counters: Counter[str] = Counter()
        ctx = self._ctx(stage, sdir, counters)
        h0, m0 = self.cache.stats.snapshot()
        self.cache.refresh = self._forced(stage)
        t0 = time.perf_counter()
        task = self.reporter.start(label, len(items))
        self.reporter.advance(task, len(items) - len(todo))
        if todo:
            fn = make(ctx)
            writer = PartialWriter(partial)
            try:
                for s in range(0, len(todo), chunk):
                    batch = list(todo[s:s + chunk])
                    outs = fn(batch)
                    if len(outs) != len(batch):
                        raise FacttuneError(f"{component or stage}: returned {len(outs)} results for "
                                            f"{len(batch)} inputs", where=self.where, key=stage)
                    rows = [{"_item": item_id(x), "out": [_as_dict(r) for r in out]}
                            for x, out in zip(batch, outs, strict=True)]
                    writer.write(rows)
                    for x, out in zip(batch, outs, strict=True):
                        done[item_id(x)] = list(out)
                    self.reporter.advance(task, len(batch))
            finally:
                writer.close()
                self.cache.refresh = False
        self.reporter.finish(task)
        records = [r for x in items for r in done[item_id(x)]]
        seconds = time.perf_counter() - t0
        h1, m1 = self.cache.stats.snapshot()
        res = StageResult(stage, key, sdir, status, records, items=len(items), seconds=seconds,
                          hits=h1 - h0, misses=m1 - m0, counts=dict(counters))
        self._finish(res, component, config_for_manifest)
        partial.unlink(missing_ok=True)
        return res

    def _finish(self, res: StageResult, component: str | None, config: Any, extra: dict[str, Any] | None = None,
                write: bool = True) -> None:
        if write:
            write_records(res.dir / RECORDS, res.records)
        spec = self.r.specs.get(res.stage)
        res.manifest = {
            "stage": res.stage, "key": res.key, "component": component or (spec.name if spec else None),
            "plugin": spec.plugin if spec else None, "version": spec.version if spec else None,
            "config": config, "items": res.items, "records": len(res.records), "seconds": round(res.seconds, 3),
            "cache": {"hits": res.hits, "misses": res.misses}, "counts": res.counts,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"), **(extra or {}),
        }
        atomic_write_json(res.dir / MANIFEST, res.manifest)

    # ------------------------------------------------------------------ run
    def run(self) -> dict[str, StageResult]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.run_dir / "recipe.toml", self.r.path.read_text(encoding="utf-8"))
        if self.force_from is not None:
            self._clear_from(self.force_from)
        order = self.r.stages()
        up: str | None = None
        for stage in order:
            res = getattr(self, f"_stage_{stage}")(up)
            self.results[stage] = res
            up = res.key
            if self.until == stage:
                break
        atomic_write_json(self.run_dir / "run.json", {
            "recipe": str(self.r.path), "name": self.recipe.run.name,
            "stages": {s: {"dir": r.dir.name, "key": r.key, "status": r.status} for s, r in self.results.items()},
            "finished": self.until is None or self.until == order[-1],
        })
        return self.results

    def _clear_from(self, stage: str) -> None:
        for d in sorted(self.run_dir.glob("[0-9][0-9]-*-*")):
            name = d.name.split("-")[1]
            if name in STAGE_INDEX and STAGE_INDEX[name] >= STAGE_INDEX[stage]:
                shutil.rmtree(d, ignore_errors=True)

    # ------------------------------------------------------------------ stages
    def _stage_data(self, up: str | None) -> StageResult:
        key = self._key("data", up)
        sdir = self._dir(self.run_dir, "data", key)
        res = self._finished("data", key, sdir)
        if res is None:
            t0 = time.perf_counter()
            counters: Counter[str] = Counter()
            source = self._build("data", self._ctx("data", sdir, counters))
            try:
                bundle: DataBundle = source.load()
            except FacttuneError as err:
                raise err.located(self.where, "data.args") from None
            recs: list[Any] = list(bundle.prompts)
            counts = {**counters, "prompts": len(bundle.prompts)}
            for name, _, _ in GIVEN:
                given = getattr(bundle, name)
                if given is not None:
                    recs += given
                    counts[name] = len(given)
            splits = Counter(p.split for p in bundle.prompts)
            counts.update({f"split_{k}": v for k, v in sorted(splits.items())})
            res = StageResult("data", key, sdir, "ran", recs, items=len(bundle.prompts),
                              seconds=time.perf_counter() - t0, counts=counts)
            sdir.mkdir(parents=True, exist_ok=True)
            self._finish(res, None, self.r.stage_config("data"), extra={"info": bundle.info})
        kinds = {r.kind for r in res.records if isinstance(r, Record)}
        for name, kind, stage in GIVEN:
            if kind in kinds:
                if getattr(self.recipe, stage) is not None:
                    raise ConfigError(f"the data already provides {name}; remove the [{stage}] table (or the "
                                      f"given {name})", where=self.where, key=stage)
                self.given.add(stage)
        return res

    # typed views of earlier results ------------------------------------------------
    def prompts(self) -> list[Prompt]:
        return [r for r in self.results["data"].records if isinstance(r, Prompt)]

    def _records(self, stage: str, cls: type[T]) -> list[T]:
        src = self.results.get(stage)
        if src is not None:
            return [r for r in src.records if isinstance(r, cls)]
        if stage in self.given:
            return [r for r in self.results["data"].records if isinstance(r, cls)]
        return []

    def _stage_generate(self, up: str | None) -> StageResult:
        table = self.recipe.generate
        assert table is not None
        prompts = [p for p in self.prompts() if p.split == table.split]
        if not prompts:
            splits = sorted({p.split for p in self.prompts()})
            raise DataError(f"no prompts in split '{table.split}' (the data has: {', '.join(splits)})",
                            where=self.where, key="generate.split")
        key = self._key("generate", up)
        return self._run_generate("generate", key, self.run_dir, prompts, self.r.configs["generate"],
                                  table.chunk_size)

    def _run_generate(self, stage: str, key: str, root: Path, prompts: list[Prompt], config: Any,
                      chunk: int | None, label: str | None = None) -> StageResult:
        n = int(getattr(config, "n", 1) or 1)

        def make(ctx: Context) -> Callable[[list[Prompt]], list[list[Record]]]:
            gen = self._build("generate", ctx, config=config)
            return lambda batch: gen.generate(batch, n=n)

        return self._chunked(stage, key, root, prompts, lambda p: p.id, make,
                             chunk or DEFAULT_CHUNKS["generate"], label=label,
                             config_for_manifest=config.model_dump(mode="json"))

    def _responses(self) -> list[Response]:
        return self._records("generate", Response)

    def _claims(self) -> list[Claim]:
        return self._records("extract", Claim)

    def _stage_extract(self, up: str | None, root: Path | None = None, responses: list[Response] | None = None,
                       label: str | None = None, table_name: str = "extract") -> StageResult:
        table = self.r.table(table_name)
        assert table is not None
        responses = self._responses() if responses is None else responses
        key = self._key(table_name, up)

        def make(ctx: Context) -> Callable[[list[Response]], list[list[Record]]]:
            ex = self._build("extract", ctx, spec_stage=table_name)
            return lambda batch: ex.extract(batch)

        return self._chunked("extract", key, root or self.run_dir, responses, lambda r: r.id, make,
                             table.chunk_size or DEFAULT_CHUNKS["extract"], label=label,
                             config_for_manifest=self.r.stage_config(table_name))

    def _stage_retrieve(self, up: str | None, root: Path | None = None, claims: list[Claim] | None = None,
                        label: str | None = None, table_name: str = "retrieve") -> StageResult:
        table = self.r.table(table_name)
        assert table is not None
        claims = self._claims() if claims is None else claims
        key = self._key(table_name, up)

        def make(ctx: Context) -> Callable[[list[Claim]], list[list[Record]]]:
            rt = self._build("retrieve", ctx, spec_stage=table_name)
            return lambda batch: [[e] for e in rt.retrieve(batch)]

        return self._chunked("retrieve", key, root or self.run_dir, claims, lambda c: c.id, make,
                             table.chunk_size or DEFAULT_CHUNKS["retrieve"], label=label,
                             config_for_manifest=self.r.stage_config(table_name))

    def _stage_verify(self, up: str | None, root: Path | None = None, claims: list[Claim] | None = None,
                      evidence: list[Evidence] | None = None, label: str | None = None,
                      table_name: str = "verify") -> StageResult:
        table = self.r.table(table_name)
        assert table is not None
        claims = self._claims() if claims is None else claims
        evidence = self._records("retrieve", Evidence) if evidence is None else evidence
        ev = {e.claim_id: e for e in evidence}
        key = self._key(table_name, up)

        def make(ctx: Context) -> Callable[[list[Claim]], list[list[Record]]]:
            vf = self._build("verify", ctx, spec_stage=table_name)
            return lambda batch: [[v] for v in vf.verify(batch, [ev.get(c.id) for c in batch])]

        return self._chunked("verify", key, root or self.run_dir, claims, lambda c: c.id, make,
                             table.chunk_size or DEFAULT_CHUNKS["verify"], label=label,
                             config_for_manifest=self.r.stage_config(table_name))

    def _scored(self, responses: list[Response], claims: list[Claim], verdicts: list[Verdict],
                evidence: list[Evidence]) -> list[ScoredResponse]:
        prompts = {p.id: p for p in self.prompts()}
        by_resp: dict[str, list[Claim]] = {}
        for c in claims:
            by_resp.setdefault(c.response_id, []).append(c)
        vmap = {v.claim_id: v for v in verdicts}
        emap = {e.claim_id: e for e in evidence}
        out = []
        for r in responses:
            cs = by_resp.get(r.id, [])
            missing = [c.id for c in cs if c.id not in vmap]
            if verdicts and missing:
                raise DataError(f"claim '{missing[0]}' has no verdict", where=self.where, key="verify")
            if r.prompt_id not in prompts:
                raise DataError(f"response '{r.id}' names unknown prompt '{r.prompt_id}'", where=self.where,
                                key="data")
            out.append(ScoredResponse(prompt=prompts[r.prompt_id], response=r, claims=tuple(cs),
                                      verdicts=tuple(vmap[c.id] for c in cs if c.id in vmap),
                                      evidence=tuple(emap.get(c.id) for c in cs)))
        return out

    def _stage_reward(self, up: str | None, root: Path | None = None, scored: list[ScoredResponse] | None = None,
                      label: str | None = None) -> StageResult:
        table = self.recipe.reward
        assert table is not None
        if scored is None:
            scored = self._scored(self._responses(), self._claims(), self._records("verify", Verdict),
                                  self._records("retrieve", Evidence))
        key = self._key("reward", up)

        def make(ctx: Context) -> Callable[[list[ScoredResponse]], list[list[Record]]]:
            rc = self._build("reward", ctx)
            return lambda batch: rc.score(batch)

        return self._chunked("reward", key, root or self.run_dir, scored, lambda s: s.response.id, make,
                             table.chunk_size or DEFAULT_CHUNKS["reward"], label=label,
                             config_for_manifest=self.r.stage_config("reward"))

    def _stage_pairs(self, up: str | None) -> StageResult:
        cfg = self.recipe.pairs
        assert cfg is not None
        key = self._key("pairs", up)
        sdir = self._dir(self.run_dir, "pairs", key)
        if (done_res := self._finished("pairs", key, sdir)) is not None:
            return done_res
        t0 = time.perf_counter()
        rewards = self._records("reward", Reward)
        try:
            sel = build_pairs(cfg, self.prompts(), self._responses(), rewards)
        except FacttuneError as err:
            raise err.located(self.where, "pairs") from None
        recs: list[Any] = [*sel.pairs, *sel.sft]
        res = StageResult("pairs", key, sdir, "ran", recs, items=len(self._responses()),
                          seconds=time.perf_counter() - t0, counts=dict(sel.counts))
        sdir.mkdir(parents=True, exist_ok=True)
        self._finish(res, None, cfg.model_dump(mode="json"))
        return res

    def _stage_train(self, up: str | None) -> StageResult:
        key = self._key("train", up)
        sdir = self._dir(self.run_dir, "train", key)
        if (done_res := self._finished("train", key, sdir)) is not None:
            return done_res
        pairs = self._records("pairs", Pair)
        sft = self._records("pairs", SFTExample)
        if not pairs and not sft:
            counts = self.results["pairs"].counts if "pairs" in self.results else {}
            raise DataError(f"nothing to train on: the pairs stage produced no pairs or SFT examples "
                            f"(counts: {counts}); sample more responses or lower pairs.min_margin",
                            where=self.where, key="train")
        sdir.mkdir(parents=True, exist_ok=True)
        work = sdir / "work"
        work.mkdir(exist_ok=True)
        counters: Counter[str] = Counter()
        ctx = self._ctx("train", sdir, counters)
        t0 = time.perf_counter()
        task = self.reporter.start("train", None)
        trainer = self._build("train", ctx)
        base = getattr(self.r.configs.get("generate"), "model", None)
        try:
            result = trainer.train(TrainData(pairs=pairs, sft=sft, base_model=base), work)
        except FacttuneError as err:
            raise err.located(self.where, "train") from None
        self.reporter.finish(task)
        res = StageResult("train", key, sdir, "ran", list(result.log), items=len(pairs) + len(sft),
                          seconds=time.perf_counter() - t0, counts=dict(counters))
        adapter = Path(result.adapter_dir).resolve()
        self._finish(res, None, self.r.stage_config("train"),
                     extra={"adapter_dir": str(adapter.relative_to(sdir.resolve())) if adapter.is_relative_to(
                         sdir.resolve()) else str(adapter), "metrics": result.metrics})
        return res

    def adapter_dir(self) -> Path | None:
        res = self.results.get("train")
        if res is None:
            return None
        rel = Path(res.manifest["adapter_dir"])
        return rel if rel.is_absolute() else (res.dir / rel).resolve()

    # ------------------------------------------------------------------ evaluate
    def _stage_evaluate(self, up: str | None) -> StageResult:
        ev = self.recipe.evaluate
        assert ev is not None and self.recipe.generate is not None
        key = self._key("evaluate", up)
        sdir = self._dir(self.run_dir, "evaluate", key)
        if (done_res := self._finished("evaluate", key, sdir)) is not None:
            return done_res
        prompts = [p for p in self.prompts() if p.split == ev.split]
        if ev.limit:
            prompts = prompts[: ev.limit]
        if not prompts:
            raise DataError(f"no prompts in split '{ev.split}'", where=self.where, key="evaluate.split")
        t0 = time.perf_counter()
        variants: dict[str, Path | None] = {"before": None}
        adapter = self.adapter_dir()
        if adapter is not None:
            variants["after"] = adapter
        rows: list[dict[str, Any]] = []
        sub: dict[str, dict[str, str]] = {}
        for variant, adapter_path in variants.items():
            root = sdir / variant
            args = {**self.recipe.generate.args, **ev.generate, "n": ev.n}
            if adapter_path is not None:
                args["adapter"] = str(adapter_path)
            spec = self.r.specs["generate"]
            cfg = validate_args(spec, args, "evaluate.generate", self.where)
            gkey = stage_key(key, f"evaluate-{variant}", spec.name, spec.version,
                             {"config": output_config(cfg), "prompts": [p.id for p in prompts]})
            g = self._run_generate("generate", gkey, root, prompts, cfg, None, label=f"evaluate {variant}: generate")
            responses = [r for r in g.records if isinstance(r, Response)]
            chain = {"generate": g.dir.name}
            upk = gkey
            claims: list[Claim] = []
            evidence: list[Evidence] = []
            verdicts: list[Verdict] = []
            sx, sr, sv = (self.r.scoring_stage(x) for x in ("extract", "retrieve", "verify"))
            if sx is not None:
                e = self._stage_extract(upk, root, responses, label=f"evaluate {variant}: extract", table_name=sx)
                claims = [c for c in e.records if isinstance(c, Claim)]
                upk, chain["extract"] = e.key, e.dir.name
            if sr is not None and claims:
                rr = self._stage_retrieve(upk, root, claims, label=f"evaluate {variant}: retrieve", table_name=sr)
                evidence = [x for x in rr.records if isinstance(x, Evidence)]
                upk, chain["retrieve"] = rr.key, rr.dir.name
            if sv is not None and claims:
                vr = self._stage_verify(upk, root, claims, evidence, label=f"evaluate {variant}: verify",
                                        table_name=sv)
                verdicts = [x for x in vr.records if isinstance(x, Verdict)]
                upk, chain["verify"] = vr.key, vr.dir.name
            sub[variant] = chain
            vmap = {v.claim_id: v for v in verdicts}
            per_resp: dict[str, list[Claim]] = {}
            for c in claims:
                per_resp.setdefault(c.response_id, []).append(c)
            for r in responses:
                cs = per_resp.get(r.id, [])
                sup = sum(1 for c in cs if (v := vmap.get(c.id)) is not None and v.supported)
                rows.append({"variant": variant, "prompt_id": r.prompt_id, "response_id": r.id, "topic": r.topic,
                             "claims": len(cs), "supported": sup, "words": word_count(r.text),
                             "factscore": metrics.factscore(sup, len(cs)), "text": r.text})
        summary = evaluation_summary(rows, ev.bootstrap, self.recipe.run.seed)
        res = StageResult("evaluate", key, sdir, "ran", rows, items=len(prompts),
                          seconds=time.perf_counter() - t0, counts={"prompts": len(prompts)})
        atomic_write_json(sdir / "summary.json", summary)
        self._finish(res, None, ev.model_dump(mode="json"), extra={"summary": summary, "chains": sub})
        return res


def _as_dict(r: Any) -> dict[str, Any]:
    if isinstance(r, Record):
        return {"_kind": r.kind, **r.to_dict()}
    return dict(r)


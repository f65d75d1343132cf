"""One executor for every stage: reuse a finished folder, else build the stage's component and run
it — chunk by chunk for a chunked stage, each finished chunk appended to ``records.partial.jsonl``
(fsync) so a killed stage resumes where it stopped, or in one piece — then write the records and
the manifest. Every model or API call inside also goes through the shared call cache.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..contract.cache import CallCache
from ..contract.context import Context
from ..contract.errors import DataError, FacttuneError
from ..contract.records import Record
from ..contract.registry import build_component, instantiate
from ..contract.store import PARTIAL, PartialWriter, iter_jsonl, make_dir, parse_record
from .fingerprint import component_version, core_code
from .folders import StageResult, finish, finished, stage_dir, stage_key
from .stages import Chain, Chunked, Job, Plan, Whole


class Reporter:
    """Progress display. The CLI passes a rich-backed one; tests use this silent default."""

    def start(self, label: str, total: int | None) -> Any:
        return None

    def advance(self, task: Any, n: int = 1) -> None:
        return None

    def finish(self, task: Any) -> None:
        return None


class Executor:
    """Runs plans into stage folders. ``index(stage)`` numbers the folders; ``forced(stage)`` says
    whether ``--force-from`` covers a stage (its calls then skip the cache's stored answers)."""

    def __init__(self, cache: CallCache, reporter: Reporter, where: str, seed: int, recipe_path: Path,
                 index: Callable[[str], int], forced: Callable[[str], bool], kind: str = "run") -> None:
        self.cache = cache
        self.reporter = reporter
        self.where = where
        self.seed = seed
        self.recipe_path = recipe_path
        self.index = index
        self.forced = forced
        self.kind = kind  # run or score: what a damaged stage's error tells the user to do

    def key(self, plan: Plan, upstream: str | None) -> str:
        spec = plan.spec
        return stage_key(upstream, plan.key_name or plan.stage.name, spec.name if spec else None,
                         component_version(spec) if spec else None, plan.hashed,
                         core_code(plan.stage.core_code, spec))

    def run(self, plan: Plan, root: Path, upstream: str | None, chain: Chain) -> StageResult:
        """Run (or reuse) one stage under ``root`` and add its records to ``chain``."""
        key = self.key(plan, upstream)
        sdir = stage_dir(root, self.index(plan.stage.name), plan.stage.name, key)
        res = finished(plan.stage.name, key, sdir, self.kind, plan.part_of)
        if res is None:
            make_dir(sdir)
            t0 = time.perf_counter()
            h0, m0 = self.cache.stats.snapshot()
            ctx = Context(cache=self.cache, stage_dir=sdir, key=plan.table, seed=self.seed, counters=Counter(),
                          recipe_path=self.recipe_path, builder=build_component)
            self.cache.refresh = self.forced(plan.part_of or plan.stage.name)
            try:
                if isinstance(plan.stage, Chunked):
                    records, items, status, counts, extra = self._chunked(plan, plan.stage, chain, ctx, sdir)
                else:
                    assert isinstance(plan.stage, Whole)
                    records, items, status, counts, extra = self._whole(plan, plan.stage, chain, ctx, sdir, key)
            finally:
                self.cache.refresh = False
            h1, m1 = self.cache.stats.snapshot()
            res = StageResult(plan.stage.name, key, sdir, status, records, items=items,
                              seconds=time.perf_counter() - t0, hits=h1 - h0, misses=m1 - m0, counts=counts)
            core = core_code(plan.stage.core_code, plan.spec)
            finish(res, plan.spec, plan.recorded, {**extra, "core_code": core} if core else extra)
            (sdir / PARTIAL).unlink(missing_ok=True)
        chain.add(res.records)
        chain.counts[plan.stage.name] = res.counts
        return res

    def _build(self, plan: Plan, ctx: Context) -> Any:
        return instantiate(plan.spec, plan.config, ctx, self.where) if plan.spec is not None else None

    def _whole(self, plan: Plan, stage: Whole, chain: Chain, ctx: Context, sdir: Path,
               key: str) -> tuple[list[Any], int, str, dict[str, Any], dict[str, Any]]:
        task = self.reporter.start(plan.label or stage.name, None)
        component = self._build(plan, ctx)
        try:
            out = stage.run(Job(component, chain, plan, ctx, sdir, key, self))
        except FacttuneError as err:
            raise err.located(self.where, plan.table) from None
        self.reporter.finish(task)
        return (out.records, out.items, "resumed" if out.resumed else "ran", out.counts or dict(ctx.counters),
                out.extra)

    def _chunked(self, plan: Plan, stage: Chunked, chain: Chain, ctx: Context,
                 sdir: Path) -> tuple[list[Any], int, str, dict[str, Any], dict[str, Any]]:
        try:
            items = stage.items(chain, plan)
        except FacttuneError as err:
            raise err.located(self.where) from None
        partial = sdir / PARTIAL
        done: dict[str, list[Any]] = {}
        if partial.exists():
            for i, row in iter_jsonl(partial, tolerate_torn_tail=True):
                try:
                    done[str(row["_item"])] = [parse_record(d) for d in row["out"]]
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    raise DataError(f"not a record of this stage ({type(exc).__name__}: {exc}); delete the file to "
                                    "redo the stage (cached calls are not repeated)", where=str(partial),
                                    key=f"line {i}") from None
        status = "resumed" if done else "ran"
        todo = [x for x in items if stage.item_id(x) not in done]
        task = self.reporter.start(plan.label or stage.name, len(items))
        self.reporter.advance(task, len(items) - len(todo))
        if todo:
            component = self._build(plan, ctx)
            chunk = plan.chunk or stage.chunk or 1
            writer = PartialWriter(partial)
            try:
                for s in range(0, len(todo), chunk):
                    batch = list(todo[s:s + chunk])
                    outs = stage.call(component, batch, chain, plan)
                    if len(outs) != len(batch):
                        name = plan.spec.name if plan.spec else stage.name
                        raise FacttuneError(f"{name}: returned {len(outs)} results for {len(batch)} inputs",
                                            where=self.where, key=stage.name)
                    writer.write([{"_item": stage.item_id(x), "out": [_as_dict(r) for r in out]}
                                  for x, out in zip(batch, outs, strict=True)])
                    for x, out in zip(batch, outs, strict=True):
                        done[stage.item_id(x)] = list(out)
                    self.reporter.advance(task, len(batch))
            finally:
                writer.close()
        self.reporter.finish(task)
        records = [r for x in items for r in done[stage.item_id(x)]]
        return records, len(items), status, dict(ctx.counters), {"info": ctx.info} if ctx.info else {}


def _as_dict(r: Any) -> dict[str, Any]:
    if isinstance(r, Record):
        return {"_kind": r.kind, **r.to_dict()}
    return dict(r)

"""A recipe's stages in order, each in its own folder of the run folder, resumable.

The pipeline binds each stage of ``run/stages.py`` to its recipe table (a :class:`Plan`) and hands it
to the executor (``run/executor.py``), which reuses a finished folder or runs the stage into a new
one. ``--until`` stops after a stage; ``--force-from`` removes a stage's folder and every later one
and runs them again without the call cache's stored answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..contract.cache import CallCache
from ..contract.config import output_config
from ..contract.errors import ConfigError
from ..contract.locks import FolderLock
from ..contract.paths import cache_dir
from ..contract.records import Prompt
from ..contract.registry import validate_args
from ..contract.store import atomic_write_text
from .executor import Executor, Reporter
from .folders import StageResult, claim_folder, clear_from, recipe_copy, write_run_json
from .recipe import Resolved
from .stages import CLAIM_CHAIN, DATA, GENERATE, GIVEN, ORDER, REWARD, STAGES, TRAIN, Chain, Plan, Stage
from .topics import check_prompt_topics


class Pipeline:
    def __init__(self, resolved: Resolved, run_dir: Path | None = None, *, cache: CallCache | None = None,
                 until: str | None = None, force_from: str | None = None, reporter: Reporter | None = None,
                 no_cache: bool = False, kind: str = "run", check_topics: bool = True) -> None:
        self.r = resolved
        self.kind = kind  # the job the folder belongs to (run.json): "run", or "score" (facttune score)
        self.check_topics = check_topics  # ask the retriever about the prompts' topics after the data stage
        self.recipe = resolved.recipe
        self.where = str(resolved.path)
        for opt, val in (("--until", until), ("--force-from", force_from)):
            if val is not None and val not in ORDER:
                raise ConfigError(f"unknown stage '{val}'; stages: {', '.join(ORDER)}", key=opt)
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
        self.executor = Executor(self.cache, reporter or Reporter(), self.where, self.recipe.run.seed,
                                 resolved.path, ORDER.index, self._forced, kind)
        self.results: dict[str, StageResult] = {}
        self.chain = Chain()

    def _forced(self, stage: str) -> bool:
        return self.force_from is not None and ORDER.index(stage) >= ORDER.index(self.force_from)

    # ------------------------------------------------------------------ run
    def run(self, then: Callable[[dict[str, StageResult]], None] | None = None) -> dict[str, StageResult]:
        """Run the stages under the run folder's lock: a second run on the same folder stops with one
        line saying which process holds it (the lock goes when its holder dies, kill -9 included).
        A folder of another kind of job (a score folder for a run, or the reverse), or one holding
        files this job did not write, is refused before anything is written. ``then(results)`` runs
        under the lock once every stage is done, before run.json says finished (facttune score
        writes its outputs there)."""
        claim_folder(self.run_dir, self.kind)
        with FolderLock(self.run_dir):
            claim_folder(self.run_dir, self.kind)
            return self._run(then)

    def write_status(self, status: str) -> None:
        """run.json: running (first, and after each stage), then finished, or stopped (``--until``)."""
        write_run_json(self.run_dir, self.r.path, self.recipe.run.name, self.results, status, self.kind,
                       self.r.overrides)

    def _run(self, then: Callable[[dict[str, StageResult]], None] | None) -> dict[str, StageResult]:
        self.write_status("running")
        atomic_write_text(self.run_dir / "recipe.toml", recipe_copy(self.r.path, self.r.overrides))
        if self.force_from is not None:
            clear_from(self.run_dir, ORDER, self.force_from)
        stages = [s for s in STAGES if s.name in self.r.stages()]
        up: str | None = None
        for stage in stages:
            res = self.executor.run(self.plan(stage), self.run_dir, up, self.chain)
            self.results[stage.name] = res
            up = res.key
            if stage is DATA:
                self._check_given()
                if self.until != "data" and self.check_topics:
                    info = res.manifest.get("info") or {}
                    path = info.get("path") if isinstance(info, dict) else None
                    check_prompt_topics(self.r, self.chain.prompts, data_path=str(path) if path else None,
                                        cache=self.cache, responded={x.prompt_id for x in self.chain.responses},
                                        until=self.until)
            self.write_status("running")
            if self.until == stage.name:
                break
        done = self.until is None or self.until == stages[-1].name
        if done and then is not None:
            then(self.results)
        self.write_status("finished" if done else "stopped")
        return self.results

    def _check_given(self) -> None:
        for name, stage in GIVEN:
            if getattr(self.chain, name) and getattr(self.recipe, stage) is not None:
                raise ConfigError(f"the data already provides {name}; remove the [{stage}] table (or the "
                                  f"given {name})", where=self.where, key=stage)

    def adapter_dir(self) -> Path | None:
        res = self.results.get(TRAIN.name)
        if res is None:
            return None
        rel = Path(str(res.manifest.get("adapter_dir") or ""))
        return rel if rel.is_absolute() else (res.dir / rel).resolve()

    # ------------------------------------------------------------------ plans
    def plan(self, stage: Stage, table: str | None = None) -> Plan:
        """``stage`` bound to its recipe table (``table``: an evaluate override such as
        ``evaluate.verify``); what a stage takes from the rest of the recipe is its own ``bind``."""
        table = table or stage.name
        recorded = self.r.stage_config(table)
        plan = Plan(stage, stage.args_key(table), self.r.specs.get(table), self.r.configs.get(table),
                    {"cfg": recorded, "extra": None}, recorded, chunk=getattr(self.r.table(table), "chunk_size", None))
        return stage.bind(plan, self)

    def evaluate_chain(self, variant: str, adapter: Path | None, prompts: list[Prompt]) -> list[Plan]:
        """One evaluate variant's chain: the generator again (with the adapter for ``after``) on the
        held-out prompts, then extract / retrieve / verify by the scoring tables, and ``[evaluate.reward]``."""
        ev, gen = self.recipe.evaluate, self.recipe.generate
        assert ev is not None and gen is not None
        args: dict[str, Any] = {**gen.args, **ev.generate, "n": ev.n}
        if adapter is not None:
            args["adapter"] = str(adapter)
        spec = self.r.specs["generate"]
        cfg = validate_args(spec, args, "evaluate.generate", self.where)
        hashed = {"config": output_config(cfg), "prompts": [p.id for p in prompts]}
        plans = [Plan(GENERATE, "generate.args", spec, cfg, hashed, hashed, label=f"evaluate {variant}: generate",
                      key_name=f"evaluate-{variant}")]
        for stage in CLAIM_CHAIN:
            table = self.r.scoring_table(stage.name)
            if table is not None:
                plans.append(replace(self.plan(stage, table), label=f"evaluate {variant}: {stage.name}"))
        if ev.reward is not None:
            plans.append(replace(self.plan(REWARD, "evaluate.reward"), label=f"evaluate {variant}: reward"))
        return [replace(p, part_of="evaluate") for p in plans]

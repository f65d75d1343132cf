"""The recipe's tables as pydantic models. Which table a stage reads is the stage's own declaration
(``Stage.table`` in run/stages.py); the ``Recipe`` model is built from those declarations in
run/recipe.py."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunTable(Strict):
    name: str = "run"
    seed: int = Field(0, description="the components' shared seed (ctx.seed: training's seed unless train.args "
                      "sets one, the bootstrap CIs, anything a component draws without a seed of its own); "
                      "sampling is seeded by the generator's own seed arg (hf/generate: generate.args.seed)")
    run_dir: str | None = Field(None, description="default: runs/<recipe name>")
    cache: str | None = Field(None, description="call cache path; default <cache dir>/calls.sqlite")


class ComponentTable(Strict):
    component: str
    args: dict[str, Any] = Field(default_factory=dict)
    chunk_size: int | None = Field(None, ge=1, description="items per resumable chunk")


class GenerateTable(ComponentTable):
    split: str = "train"


class TrainTable(Strict):
    component: str
    args: dict[str, Any] = Field(default_factory=dict)
    model: dict[str, Any] = Field(default_factory=dict)
    launcher: str | None = Field(None, description="how the trainer starts its worker process, e.g. "
                                 "'accelerate launch --num_processes 2' (default: the trainer's own way)")


class EvaluateBase(Strict):
    """Before/after on held-out prompts. ``extract`` / ``retrieve`` / ``verify`` override the main
    chain's components for scoring (e.g. a belief-filtered or AQ recipe is still judged by FActScore);
    ``reward`` scores both variants' responses with a reward combiner (its mean and the after-vs-before
    win rate); ``group_by`` repeats every figure per value of a prompt.meta key. The override tables
    (one per stage declared ``override``) are added in run/stages.py."""

    split: str = "test"
    n: int = Field(1, ge=1, description="responses per held-out prompt")
    generate: dict[str, Any] = Field(default_factory=dict, description="overrides of [generate].args")
    bootstrap: int = Field(2000, ge=100)
    limit: int | None = Field(None, ge=1, description="at most this many held-out prompts")
    group_by: str | None = Field(None, description="a prompt.meta key (core/jsonl meta_fields, e.g. 'fact_seeking'): "
                                 "every figure again per value")


class ReportTable(Strict):
    html: bool = True
    plots: bool = True
    max_drilldown: int = Field(200, ge=0, description="responses shown with per-claim detail")

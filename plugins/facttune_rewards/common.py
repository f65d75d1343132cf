"""Shared pieces: sub-component tables, verdict alignment, reward sanity checks."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

from facttune_core import (
    ComponentError,
    Context,
    DataError,
    FacttuneError,
    Generator,
    Reward,
    RewardCombiner,
    ScoredResponse,
    Verdict,
    get_registry,
    join_claims,
    validate_args,
)


class SubComponent(BaseModel):
    """A component built by name inside another one: ``{component = "hf/generate", args = {...}}``."""

    model_config = ConfigDict(extra="forbid")
    component: str
    args: dict[str, Any] = Field(default_factory=dict)


def _checked(kind: str) -> Callable[[SubComponent, ValidationInfo], SubComponent]:
    """Resolve the name and validate the args when the recipe is validated, so a misspelt
    sub-component fails in ``facttune validate``, before any model loads."""

    def check(sub: SubComponent, info: ValidationInfo) -> SubComponent:
        try:
            spec = get_registry().get(kind, sub.component)
        except FacttuneError as err:
            raise ValueError(err.message) from None
        try:  # the recipe's own validation of a component's args
            validate_args(spec, sub.args, "args", base_dir=(info.context or {}).get("base_dir"))
        except FacttuneError as err:
            problems = "; ".join(f"{p.key}: {p.message}" for p in getattr(err, "problems", [err]))
            raise ValueError(f"{sub.component}: {problems}") from None
        return sub

    return check


GeneratorRef = Annotated[SubComponent, AfterValidator(_checked(Generator))]
RewardRef = Annotated[SubComponent, AfterValidator(_checked(RewardCombiner))]


def build_sub(ctx: Context, kind: str, sub: SubComponent, field: str) -> Any:
    """Build a sub-component; its errors name ``<ctx.key>.<field>.args``."""
    return ctx.build(kind, sub.component, dict(sub.args), key=f"{ctx.key_for(field)}.args")


def aligned_verdicts(item: ScoredResponse) -> list[Verdict]:
    """The verdict of each claim, in claim order (matched by claim id, not position)."""
    if not item.claims:
        return []
    if not item.verdicts:
        raise DataError(f"response '{item.response.id}' has {len(item.claims)} claims but no verdicts: "
                        "this reward needs a [verify] stage (or data with verdicts)")
    out = []
    for js in join_claims(item.claims, (), item.verdicts).values():  # the core's one join (by claim id)
        for j in js:
            if j.verdict is None:
                raise DataError(f"claim '{j.claim.id}' has no verdict (verdicts and claims do not match)")
            out.append(j.verdict)
    return out


def is_empty(item: ScoredResponse) -> bool:
    return not item.response.text.strip()


def no_score(item: ScoredResponse, ctx: Context, name: str, reason: str,
             details: dict[str, Any] | None = None) -> Reward:
    """A reward of None (no score), counted: ``empty_responses`` or ``abstentions`` etc."""
    ctx.count(reason)
    return Reward(response_id=item.response.id, prompt_id=item.prompt.id, name=name, value=None,
                  details={"reason": reason, **(details or {})})


def make_reward(item: ScoredResponse, name: str, value: float | None, details: dict[str, Any],
                key: str) -> Reward:
    if value is not None and not math.isfinite(value):
        raise ComponentError(f"reward '{name}' of response '{item.response.id}' is {value}: not a number",
                             key=key or None)
    return Reward(response_id=item.response.id, prompt_id=item.prompt.id, name=name, value=value,
                  details=details)


def mean(xs: Sequence[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None

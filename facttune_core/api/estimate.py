"""What a stage would cost before it runs (``facttune score --dry-run``).

A component that calls a priced API may offer an optional ``estimate`` method taking the same
arguments as its main method (``extract(responses)`` → ``estimate(responses)``;
``verify(claims, evidence)`` → ``estimate(claims, evidence)``) and returning a
:class:`CallEstimate`, sending nothing. The API components of the
``openai`` / ``anthropic`` plugins implement it with :func:`estimate_requests`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .runner import ApiRunner, ChatRequest

MESSAGE_OVERHEAD = 8  # tokens a chat message's framing takes, roughly


@dataclass(frozen=True)
class CallEstimate:
    """What a stage would send: ``calls`` requests, of which ``cached`` are answered in the call
    cache already (free). Token counts and cost are for the rest (each distinct request once):
    input ≈ characters / 4 of the rendered prompt (system + user) plus a small framing overhead;
    output counted at ``max_tokens`` per call, an upper bound. ``cost_usd`` comes from the
    component's price table; None when its model is not in it."""

    model: str
    calls: int
    cached: int
    tokens_in: int
    tokens_out: int
    cost_usd: float | None


def prompt_tokens(req: ChatRequest) -> int:
    """≈ 4 characters a token, as the tokens-per-minute limiter estimates."""
    return (len(req.user) + len(req.system or "")) // 4 + MESSAGE_OVERHEAD


def estimate_requests(runner: ApiRunner, requests: Sequence[ChatRequest]) -> CallEstimate:
    """Look ``requests`` up in the runner's call cache (reading only) and price the misses."""
    keys = [runner.cache_key(r) for r in requests]
    found = runner.ctx.cache.get_many(keys) if keys else {}
    todo = {k: r for k, r in zip(keys, requests, strict=True) if k not in found}
    tin = sum(prompt_tokens(r) for r in todo.values())
    tout = sum(r.max_tokens for r in todo.values())
    model = runner.c.model
    return CallEstimate(model=model, calls=len(requests), cached=sum(1 for k in keys if k in found),
                        tokens_in=tin, tokens_out=tout, cost_usd=runner.prices.cost_usd(model, tin, tout))


def scaled(est: CallEstimate, factor: float) -> CallEstimate:
    """An estimate made on proxy inputs, scaled to the expected number of real ones."""
    return replace(est, calls=round(est.calls * factor), cached=0, tokens_in=round(est.tokens_in * factor),
                   tokens_out=round(est.tokens_out * factor),
                   cost_usd=est.cost_usd * factor if est.cost_usd is not None else None)

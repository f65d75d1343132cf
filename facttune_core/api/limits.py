"""Client-side rate limits: a token bucket for requests- and tokens-per-minute."""

from __future__ import annotations

import asyncio
import time


class RateLimiter:
    """A token bucket refilled at ``per_minute / 60`` units per second, holding at most
    ``burst_seconds`` worth (at least one request's amount). ``acquire(n)`` waits for n units;
    ``settle(delta)`` corrects an estimate after the fact (tokens actually used)."""

    def __init__(self, per_minute: float, burst_seconds: float = 1.0) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_seconds)
        self.level = self.capacity
        self.stamp = time.monotonic()
        self._lock: asyncio.Lock | None = None

    def _refill(self) -> None:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    async def acquire(self, amount: float = 1.0) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        amount = min(float(amount), self.capacity)  # one oversized request waits for a full bucket
        async with self._lock:  # FIFO: waiters are served in order
            while True:
                self._refill()
                if self.level >= amount:
                    self.level -= amount
                    return
                await asyncio.sleep((amount - self.level) / self.rate)

    def settle(self, delta: float) -> None:
        self._refill()
        self.level = min(self.capacity, self.level - delta)

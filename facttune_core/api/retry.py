"""Retry policy: what a failed call means (:class:`Failure`), exponential backoff with jitter that
honours ``Retry-After``, HTTP status semantics and connection errors. Provider-neutral."""

from __future__ import annotations

import email.utils
import math
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Failure:
    """What to do about one failed call (a plugin's ``classify`` maps SDK exceptions to this).

    ``field``: the config field the user should fix (``base_url``, ``model``, ``api_key_env``),
    or None for the component's table. ``kind`` names the retry counter (``429``, ``5xx``,
    ``timeout``, ``connection``, ``malformed``); ``refused``: the connection was refused (server
    down or wrong ``base_url``): after a couple of quick tries with nothing answered yet, stop."""

    retry: bool
    message: str
    kind: str = "error"
    field: str | None = None
    retry_after: float | None = None
    refused: bool = False


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    try:
        return max(0.0, float(ra))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(ra)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_delay(attempt: int, base: float = 0.5, cap: float = 30.0, retry_after: float | None = None,
                  rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: half of ``min(cap, base·2^attempt)`` plus a random half.
    A server's ``Retry-After`` is a floor (plus up to 10% jitter so waiters do not stampede)."""
    r = rng or random
    d = min(cap, base * (2 ** attempt))
    delay = d / 2 + r.uniform(0, d / 2)
    if retry_after is not None and math.isfinite(retry_after):
        ra = min(retry_after, 300.0)
        delay = ra + r.uniform(0, 0.1 * ra + 0.01)
    return delay


def _one_line(text: str, limit: int = 240) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def http_failure(status: int, message: str, headers: Mapping[str, str] | None = None,
                 key_env: str = "the API key variable") -> Failure:
    """HTTP status semantics shared by every provider: 408/409/429/5xx are
    retried, honouring Retry-After; 401/403 blame the key; 404 the model or the base_url; other
    4xx stop the batch."""
    msg = _one_line(message)
    ra = retry_after_seconds(headers)
    if status == 429:
        return Failure(True, f"rate limited (429): {msg}", kind="429", retry_after=ra)
    if status in (408, 409) or status >= 500:
        return Failure(True, f"server error ({status}): {msg}", kind="5xx", retry_after=ra)
    if status in (401, 403):
        what = "rejected the API key" if status == 401 else "refused access with the API key"
        return Failure(False, f"the server {what} in ${key_env} ({status}): {msg}", field="api_key_env")
    if status == 404:
        if re.search(r"model", msg, re.I):
            return Failure(False, f"model not found (404): {msg}", field="model")
        return Failure(False, f"the server answered 404 Not Found (wrong base_url?): {msg}", field="base_url")
    return Failure(False, f"request rejected ({status}): {msg}")


class MalformedResponse(Exception):
    """A 200 answer a backend cannot read (no choices, no text, broken JSON): retried."""


def connection_refused(exc: BaseException) -> bool:
    """True when the exception (or what caused it) is a refused connection: server down or a
    wrong host/port in ``base_url``. SDK-neutral: walks the cause chain."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, ConnectionRefusedError) or type(e).__name__ in ("ConnectError", "ConnectionRefusedError"):
            return True
        e = e.__cause__ or e.__context__
    return False


def connection_failure(exc: BaseException, url: str) -> Failure:
    """A retryable Failure for a connection error (dropped, reset, refused), blaming base_url."""
    refused = connection_refused(exc)
    cause = exc.__cause__ or exc.__context__
    detail = _one_line(f"{type(cause).__name__}: {cause}" if cause is not None else str(exc), 160)
    msg = (f"cannot connect to {url} (server down or wrong base_url?): {detail}" if refused
           else f"connection error talking to {url}: {detail}")
    return Failure(True, msg, kind="connection", field="base_url", refused=refused)

"""A loopback HTTP server that speaks the OpenAI chat-completions and Anthropic messages wire formats.

Used by tests/test_api*.py and bench/api_scoring.py; never contacts the internet. A deterministic
"judge brain" makes answers checkable:

- a True/False question with passages ("Input: <claim> True or False?") is True iff the claim's
  text appears in the passages; without passages (a belief question) P(True) is a hash of the
  claim. With ``logprobs`` the first token's top alternatives carry P(True) (0.92 / 0.08 for
  evidence questions).
- an extraction prompt (ends with "Facts:") answers a junk line, then one "- fact" line per clause
  of the last "Sentence:".
- anything else is a generation: a few sentences derived from a hash of the request.

Knobs: ``latency`` (s per call), fault rates ``p429`` (with Retry-After), ``p500``, ``p_timeout``
(hold the request ``timeout_sleep`` s, then drop it), ``p_drop`` (close without answering),
``p_malformed`` (200 with a broken JSON body); ``api_key`` (required key), ``models`` (known
models; others get 404), ``logprobs`` ("yes" | "no": ignore the parameter | "reject": 400).
Counters: ``requests``, ``answered`` (200s written), ``faults``, ``answered_keys`` (a Counter of
request-body hashes), ``max_inflight``.

Run standalone: ``python tests/api_server.py --port 8765 --latency 0.2`` (GET /stats shows the
counters, GET /reset zeroes them).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _h(*parts: Any) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def belief_p(claim: str) -> float:
    """The server's P(True) for a claim asked without evidence (never exactly 0.5)."""
    u = int(_h("belief", claim.strip())[:8], 16) / 0xFFFFFFFF
    p = 0.03 + 0.94 * u
    return p if abs(p - 0.5) > 0.02 else 0.6


def judge(user: str) -> tuple[bool, float]:
    """(supported, P(True)) for a True/False prompt."""
    m = list(re.finditer(r"Input: (.*?) True or False\?", user, re.S))
    claim = m[-1].group(1) if m else user
    before = user[: m[-1].start()] if m else ""
    if "Title:" in before:
        ok = _norm(claim).rstrip(" ") in _norm(before)
        return ok, 0.92 if ok else 0.08
    p = belief_p(claim)
    return p >= 0.5, p


def extract(user: str) -> str:
    sent = user.rsplit("Sentence:", 1)[-1].rsplit("Facts:", 1)[0].strip()
    clauses = [c.strip(" .") for c in re.split(r",\s*|\s+and\s+", sent) if c.strip(" .")]
    return "Here are the facts:\n" + "\n".join(f"- {c}." for c in clauses)


def generate(user: str, payload: dict[str, Any]) -> str:
    h = _h(user, payload.get("seed"), payload.get("temperature"), payload.get("top_p"))
    n = int(h[:2], 16) % 5 + 2
    city = ["Lisbon", "Oslo", "Kyoto", "Quito", "Accra"][int(h[2:4], 16) % 5]
    return f"The subject was born in {city}. The subject wrote {n} books, and the subject died in 19{h[4:6]}."


class FakeApiServer:
    """Start with ``with FakeApiServer(...) as srv:`` or ``start()`` / ``stop()``."""

    def __init__(self, *, latency: float = 0.0, p429: float = 0.0, p500: float = 0.0, p_timeout: float = 0.0,
                 p_drop: float = 0.0, p_malformed: float = 0.0, retry_after: float = 0.05,
                 timeout_sleep: float = 2.0, api_key: str | None = None, models: set[str] | None = None,
                 logprobs: str = "yes", seed: int = 0, port: int = 0) -> None:
        self.latency = latency
        self.p429, self.p500, self.p_timeout = p429, p500, p_timeout
        self.p_drop, self.p_malformed = p_drop, p_malformed
        self.retry_after = retry_after
        self.timeout_sleep = timeout_sleep
        self.api_key = api_key
        self.models = models
        self.logprobs = logprobs
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.requests = 0
        self.answered = 0
        self.faults: Counter[str] = Counter()
        self.answered_keys: Counter[str] = Counter()
        self.inflight = 0
        self.max_inflight = 0
        self._port = port
        self.httpd: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeApiServer:
        server = self

        class Handler(_Handler):
            srv = server

        class Httpd(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 512
            allow_reuse_address = True

        self.httpd = Httpd(("127.0.0.1", self._port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def __enter__(self) -> FakeApiServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self.httpd is not None
        return int(self.httpd.server_address[1])

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset_counters(self) -> None:
        with self.lock:
            self.requests = self.answered = 0
            self.faults.clear()
            self.answered_keys.clear()
            self.max_inflight = 0

    def set_faults(self, **kw: float) -> None:
        for k, v in kw.items():
            setattr(self, k, v)

    def _fault(self) -> str | None:
        with self.lock:
            u = self.rng.random()
        edge = 0.0
        for name, p in (("drop", self.p_drop), ("timeout", self.p_timeout), ("malformed", self.p_malformed),
                        ("429", self.p429), ("500", self.p500)):
            edge += p
            if u < edge:
                return name
        return None


class _Handler(BaseHTTPRequestHandler):
    srv: FakeApiServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, Nagle + delayed ACK add ~40 ms a call
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def do_GET(self) -> None:  # noqa: N802
        s = self.srv
        if self.path == "/stats":  # counters, for a server in another process (the bench)
            with s.lock:
                self._send(200, {"requests": s.requests, "answered": s.answered, "max_inflight": s.max_inflight,
                                 "faults": dict(s.faults)})
            return
        if self.path == "/reset":
            s.reset_counters()
            self._send(200, {"ok": True})
            return
        self._send(404, {"error": {"message": "Not Found", "type": "not_found"}})

    def do_POST(self) -> None:  # noqa: N802
        s = self.srv
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        with s.lock:
            s.requests += 1
            s.inflight += 1
            s.max_inflight = max(s.max_inflight, s.inflight)
        try:
            self._post(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with s.lock:
                s.inflight -= 1

    def _post(self, raw: bytes) -> None:
        s = self.srv
        path = self.path.split("?")[0]
        anthropic = path == "/v1/messages"
        if path not in ("/v1/chat/completions", "/v1/messages"):
            self._send(404, {"error": {"message": f"Not Found: {path}", "type": "not_found"}})
            return
        if s.api_key is not None:
            bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            given = (self.headers.get("x-api-key") or bearer) if anthropic else bearer
            if given != s.api_key:
                msg = f"Incorrect API key provided: {given}"
                body = ({"type": "error", "error": {"type": "authentication_error", "message": msg}} if anthropic
                        else {"error": {"message": msg, "type": "invalid_request_error", "code": "invalid_api_key"}})
                self._send(401, body)
                return
        try:
            payload = json.loads(raw)
        except json.JSONDecodeError:
            self._send(400, {"error": {"message": "body is not JSON"}})
            return
        model = payload.get("model")
        if s.models is not None and model not in s.models:
            msg = f"The model `{model}` does not exist or you do not have access to it."
            body = ({"type": "error", "error": {"type": "not_found_error", "message": f"model: {model}"}}
                    if anthropic else {"error": {"message": msg, "type": "invalid_request_error",
                                                 "code": "model_not_found"}})
            self._send(404, body)
            return
        if not anthropic and payload.get("logprobs") and s.logprobs == "reject":
            self._send(400, {"error": {"message": "logprobs is not supported for this model",
                                       "type": "invalid_request_error"}})
            return
        fault = s._fault()
        if fault is not None:
            with s.lock:
                s.faults[fault] += 1
        if fault == "drop":
            self.close_connection = True
            return
        if fault == "timeout":
            time.sleep(s.timeout_sleep)
            self.close_connection = True
            return
        if s.latency:
            time.sleep(s.latency)
        if fault == "malformed":
            self._send(200, b'{"id": "x", "choices": [{"message": ')
            return
        if fault == "429":
            self._send(429, {"error": {"message": "Rate limit reached, slow down", "type": "rate_limit"}},
                       {"Retry-After": f"{s.retry_after:g}"})
            return
        if fault == "500":
            self._send(500, {"error": {"message": "The server had an error", "type": "server_error"}})
            return
        body = self._answer_anthropic(payload) if anthropic else self._answer_openai(payload)
        self._send(200, body)
        with s.lock:
            s.answered += 1
            s.answered_keys[_h(path, json.dumps(payload, sort_keys=True))] += 1

    # ------------------------------------------------------------------ brains
    @staticmethod
    def _text(content: Any) -> str:
        if isinstance(content, str):
            return content
        return "".join(b.get("text", "") for b in content or [] if isinstance(b, dict))

    def _reply(self, user: str, payload: dict[str, Any]) -> tuple[str, float | None]:
        if "True or False?" in user:
            ok, p = judge(user)
            return ("True" if ok else "False"), p
        if user.rstrip().endswith("Facts:"):
            return extract(user), None
        return generate(user, payload), None

    def _answer_openai(self, payload: dict[str, Any]) -> dict[str, Any]:
        msgs = payload.get("messages") or []
        user = next((self._text(m.get("content")) for m in reversed(msgs) if m.get("role") == "user"), "")
        text, p = self._reply(user, payload)
        logprobs = None
        if payload.get("logprobs") and self.srv.logprobs == "yes":
            k = int(payload.get("top_logprobs") or 0)
            if p is not None:
                alts = [("True", math.log(0.97 * p)), ("False", math.log(0.97 * (1 - p))),
                        (" true", math.log(0.03 * p)), ("false", math.log(0.03 * (1 - p)))]
                alts.sort(key=lambda t: -t[1])
            else:
                alts = [(text.split()[0] if text.split() else "", -0.01)]
            first = alts[0]
            logprobs = {"content": [{"token": first[0], "logprob": first[1], "bytes": None,
                                     "top_logprobs": [{"token": t, "logprob": lp, "bytes": None}
                                                      for t, lp in alts[:k]]}]}
        tin = sum(len(self._text(m.get("content"))) for m in msgs) // 4
        tout = len(text) // 4 + 1
        return {"id": "chatcmpl-" + _h(time.time())[:12], "object": "chat.completion", "created": int(time.time()),
                "model": payload.get("model"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop", "logprobs": logprobs}],
                "usage": {"prompt_tokens": tin, "completion_tokens": tout, "total_tokens": tin + tout}}

    def _answer_anthropic(self, payload: dict[str, Any]) -> dict[str, Any]:
        msgs = payload.get("messages") or []
        user = next((self._text(m.get("content")) for m in reversed(msgs) if m.get("role") == "user"), "")
        text, _ = self._reply(user, payload)
        tin = (len(user) + len(self._text(payload.get("system")))) // 4
        tout = len(text) // 4 + 1
        return {"id": "msg_" + _h(time.time())[:12], "type": "message", "role": "assistant",
                "model": payload.get("model"), "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": tin, "output_tokens": tout}}


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8765, help="0: any free port (printed)")
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--p429", type=float, default=0.0)
    ap.add_argument("--p500", type=float, default=0.0)
    args = ap.parse_args()
    srv = FakeApiServer(latency=args.latency, p429=args.p429, p500=args.p500, port=args.port).start()
    print(f"port {srv.port}: OpenAI base_url {srv.openai_url}  Anthropic base_url {srv.anthropic_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()

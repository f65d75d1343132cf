"""The openai / anthropic plugins over real HTTP against tests/api_server.py (loopback only)."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import pytest

from facttune_core import (
    CallCache,
    Claim,
    ComponentError,
    ConfigError,
    Context,
    Evidence,
    Passage,
    PriceTable,
    Prompt,
    RateLimiter,
    backoff_delay,
    retry_after_seconds,
    run_sync,
)

sys.path.insert(0, str(Path(__file__).parent))
from api_server import FakeApiServer, belief_p  # noqa: E402
from facttune_anthropic.components import Claims as AClaims  # noqa: E402
from facttune_anthropic.components import Messages  # noqa: E402
from facttune_anthropic.components import TrueFalse as ATrueFalse  # noqa: E402
from facttune_openai.components import Belief, Chat, Claims, TrueFalse  # noqa: E402

KEY_ENV = "FT_TEST_API_KEY"
SECRET = "sk-test-4f9c2e7d1b"

FAST = {"backoff_base": 0.02, "backoff_max": 0.2, "timeout": 5.0}


@pytest.fixture(scope="module")
def server():
    with FakeApiServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)


def ctx(cache: CallCache | None = None, key: str = "verify.args") -> Context:
    return Context(cache=cache or CallCache(None), key=key)


def world(n: int = 40) -> tuple[list[Claim], list[Evidence]]:
    """Claims about made-up people; half are in the evidence, half are twins with a wrong fact."""
    claims, evs = [], []
    for i in range(n):
        who = f"Person {i // 4}"
        city = f"Town{i}"
        passage = Passage(title=who, text=f"{who} was born in {city}. {who} wrote {i} books.")
        text = f"{who} was born in {city}." if i % 2 == 0 else f"{who} was born in Elsewhere{i}."
        claims.append(Claim(id=f"p{i // 4}/r0/c{i}", response_id=f"p{i // 4}/r0", prompt_id=f"p{i // 4}",
                            text=text, topic=who))
        evs.append(Evidence(claim_id=claims[-1].id, passages=(passage,)))
    return claims, evs


def openai_tf(srv: FakeApiServer, c: Context, **kw) -> TrueFalse:
    args = {"model": "judge", "base_url": srv.openai_url, "api_key_env": KEY_ENV, **FAST, **kw}
    return TrueFalse(TrueFalse.Config(**args), c)


# ------------------------------------------------------------------------------------------ units


def test_retry_after_parsing_and_backoff():
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after-ms": "150", "retry-after": "9"}) == 0.15
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 < retry_after_seconds({"retry-after": date}) <= 31
    assert retry_after_seconds({}) is None
    # Retry-After is a floor; plain backoff grows and is capped
    assert all(backoff_delay(0, retry_after=2.0) >= 2.0 for _ in range(20))
    assert all(0.25 <= backoff_delay(0, base=0.5) <= 0.5 for _ in range(20))
    assert all(backoff_delay(20, base=0.5, cap=4.0) <= 4.0 for _ in range(20))


def test_rate_limiter_paces_requests():
    async def go() -> float:
        lim = RateLimiter(per_minute=6000)  # 100/s, bucket of 100
        t0 = time.monotonic()
        for _ in range(150):
            await lim.acquire(1)
        return time.monotonic() - t0

    assert 0.4 < run_sync(go) < 1.5


def test_run_sync_inside_running_loop():
    async def inner() -> int:
        return 7

    async def outer() -> int:
        return run_sync(inner)  # a notebook-style caller with a loop already running

    assert run_sync(outer) == 7


def test_price_table_prefix_and_override():
    t = PriceTable.from_json(Path(__file__).parents[1] / "plugins/facttune_openai/prices.json", {"mine": [1, 2]})
    assert t.price("gpt-4o-mini-2024-07-18") == t.price("gpt-4o-mini") != t.price("gpt-4o")
    assert t.cost_usd("mine", 1_000_000, 500_000) == pytest.approx(2.0)
    assert t.price("unknown-model") is None


def test_plugins_import_no_sdk():
    import subprocess

    code = ("import sys, facttune_openai, facttune_anthropic; "
            "print('openai' in sys.modules, 'anthropic' in sys.modules, 'httpx2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "False"]


# ------------------------------------------------------------------------------------------ OpenAI


def test_openai_verifier_logprobs(server):
    server.set_faults(logprobs="yes")
    claims, evs = world(12)
    c = ctx()
    verdicts = openai_tf(server, c).verify(claims, evs)
    assert [v.supported for v in verdicts] == [i % 2 == 0 for i in range(12)]
    assert {round(v.p_true, 2) for v in verdicts} == {0.92, 0.08}
    assert c.counters["verdicts_by_logprobs"] == 12 and c.counters["tokens_in"] > 0
    assert c.counters["tokens_out"] > 0 and c.counters["api_calls"] == 12


@pytest.mark.parametrize("mode", ["no", "reject"])
def test_openai_verifier_falls_back_to_text(server, mode):
    server.set_faults(logprobs=mode)
    try:
        claims, evs = world(8)
        c = ctx()
        verdicts = openai_tf(server, c).verify(claims, evs)
        assert [v.supported for v in verdicts] == [i % 2 == 0 for i in range(8)]
        assert all(v.p_true is None for v in verdicts) and c.counters["verdicts_by_text"] == 8
        if mode == "reject":
            assert c.counters["logprobs_unsupported"] >= 1
        with pytest.raises(ComponentError, match=r"verify\.args\.logprobs"):
            openai_tf(server, ctx(), logprobs=True).verify(claims, evs)
    finally:
        server.set_faults(logprobs="yes")


def test_openai_belief_reads_p_true(server):
    claims, _ = world(10)
    verdicts = Belief(Belief.Config(model="judge", base_url=server.openai_url, api_key_env=KEY_ENV), ctx()
                      ).verify(claims, [None] * 10)
    for cl, v in zip(claims, verdicts, strict=True):
        assert v.p_true == pytest.approx(belief_p(cl.text), abs=1e-6)


def test_openai_generator_and_claims(server):
    c = ctx(key="generate.args")
    gen = Chat(Chat.Config(model="judge", base_url=server.openai_url, api_key_env=KEY_ENV, seed=3), c)
    prompts = [Prompt(id=f"p{i}", text=f"Tell me about person {i}.", topic=f"P{i}") for i in range(3)]
    out = gen.generate(prompts, n=2)
    assert [[r.id for r in row] for row in out] == [[f"p{i}/r0", f"p{i}/r1"] for i in range(3)]
    assert out[0][0].text != out[0][1].text  # seed + k per sample
    assert out[0][0].completion_tokens and out[0][0].finish_reason == "stop"
    again = gen.generate(prompts, n=2)  # all from the cache
    assert again == out and c.counters["api_cache_hits"] == 6
    ex = Claims(Claims.Config(model="judge", base_url=server.openai_url, api_key_env=KEY_ENV), ctx(key="extract.args"))
    claims = ex.extract(out[0])
    assert len(claims[0]) == 3 and claims[0][0].text.startswith("The subject was born in")
    assert claims[0][1].sentence_index == 1 and claims[0][0].id == "p0/r0/c0"
    assert ex.ctx.counters["dropped_lines"] == 4  # the "Here are the facts:" line per sentence


def test_concurrency_is_bounded(server):
    server.set_faults(latency=0.05)
    try:
        server.reset_counters()
        claims, evs = world(40)
        openai_tf(server, ctx(), max_concurrency=8).verify(claims, evs)
        assert server.max_inflight == 8 and server.requests == 40
    finally:
        server.set_faults(latency=0.0)


def test_cost_accounting_with_price_override(server):
    c = ctx()
    claims, evs = world(6)
    v = openai_tf(server, c, prices={"judge": [1.0, 2.0]})
    v.verify(claims, evs)
    u = v.runner.usage
    assert u.calls == 6 and u.tokens_in > 0
    assert u.cost_usd == pytest.approx((u.tokens_in * 1.0 + u.tokens_out * 2.0) / 1e6)
    assert c.counters["cost_microusd"] == pytest.approx(u.cost_usd * 1e6, abs=6)


# ------------------------------------------------------------------------------------------ Anthropic


def test_anthropic_components(server):
    claims, evs = world(10)
    c = ctx()
    v = ATrueFalse(ATrueFalse.Config(model="claude-t", base_url=server.anthropic_url, api_key_env=KEY_ENV), c)
    verdicts = v.verify(claims, evs)
    assert [x.supported for x in verdicts] == [i % 2 == 0 for i in range(10)]
    assert c.counters["verdicts_by_text"] == 10
    gen = Messages(Messages.Config(model="claude-t", base_url=server.anthropic_url, api_key_env=KEY_ENV), ctx())
    out = gen.generate([Prompt(id="p", text="Tell me about Ada.", topic="Ada")], n=2)
    assert len(out[0]) == 2 and out[0][1].id == "p/r1"
    ex = AClaims(AClaims.Config(model="claude-t", base_url=server.anthropic_url, api_key_env=KEY_ENV), ctx())
    assert len(ex.extract(out[0])[0]) == 3
    with pytest.raises(ConfigError, match="logprobs"):
        ATrueFalse(ATrueFalse.Config(model="c", logprobs=True), ctx())


# ------------------------------------------------------------------------------------------ faults


def test_faults_give_the_same_scores_as_a_clean_run(server):
    claims, evs = world(120)
    clean = [(v.supported, v.p_true) for v in openai_tf(server, ctx()).verify(claims, evs)]
    aclean = [v.supported for v in ATrueFalse(ATrueFalse.Config(
        model="claude-t", base_url=server.anthropic_url, api_key_env=KEY_ENV, **FAST), ctx()).verify(claims, evs)]
    server.set_faults(p429=0.1, p500=0.1, p_timeout=0.05, p_drop=0.03, p_malformed=0.03, timeout_sleep=0.8,
                      retry_after=0.05)
    try:
        server.reset_counters()
        c = ctx()
        v = openai_tf(server, c, timeout=0.4, max_retries=12)
        noisy = [(x.supported, x.p_true) for x in v.verify(claims, evs)]
        assert noisy == clean
        assert server.faults["429"] > 0 and server.faults["500"] > 0 and server.faults["timeout"] > 0
        kinds = v.runner.usage.by_kind
        assert kinds.get("429", 0) > 0 and kinds.get("timeout", 0) > 0 and kinds.get("5xx", 0) > 0
        assert c.counters["api_calls"] == 120  # retries are not billed twice
        ca = ctx()
        a = ATrueFalse(ATrueFalse.Config(model="claude-t", base_url=server.anthropic_url, api_key_env=KEY_ENV,
                                         timeout=0.4, max_retries=12, **{k: FAST[k] for k in ("backoff_base", "backoff_max")}), ca)
        assert [x.supported for x in a.verify(claims, evs)] == aclean
        assert ca.counters["api_retries"] > 0
    finally:
        server.set_faults(p429=0.0, p500=0.0, p_timeout=0.0, p_drop=0.0, p_malformed=0.0)


def test_retry_after_is_honoured(server):
    server.set_faults(p429=1.0, retry_after=0.3)
    try:
        c = ctx()
        v = openai_tf(server, c, max_retries=2, backoff_base=0.001)
        t0 = time.monotonic()
        with pytest.raises(ComponentError, match="gave up after 2 retries: rate limited"):
            v.verify(*[x[:1] for x in world(1)])
        assert time.monotonic() - t0 >= 0.6  # two waits of ≥ 0.3 s, not 1 ms
    finally:
        server.set_faults(p429=0.0, retry_after=0.05)


# ------------------------------------------------------------------------------------------ errors


def one_line(err: BaseException) -> str:
    s = str(err)
    assert "\n" not in s and SECRET not in s and len(s) < 400
    return s


def test_missing_key(monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    claims, evs = world(2)
    with pytest.raises(ConfigError) as e:
        TrueFalse(TrueFalse.Config(model="gpt-4o-mini", api_key_env=KEY_ENV), ctx()).verify(claims, evs)
    assert one_line(e.value).startswith(f"verify.args.api_key_env: environment variable {KEY_ENV} is not set")
    with pytest.raises(ConfigError, match=r"^verify\.args\.api_key_env: environment variable"):
        ATrueFalse(ATrueFalse.Config(api_key_env=KEY_ENV), ctx()).verify(claims, evs)


def test_cached_answers_need_no_key_and_no_server(server, monkeypatch):
    cache = CallCache(None)
    claims, evs = world(4)
    first = openai_tf(server, ctx(cache)).verify(claims, evs)
    monkeypatch.delenv(KEY_ENV)
    again = TrueFalse(TrueFalse.Config(model="judge", base_url=server.openai_url, api_key_env=KEY_ENV),
                      ctx(cache)).verify(claims, evs)
    assert again == first


def test_server_down_and_wrong_base_url(server):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    claims, evs = world(3)
    t0 = time.monotonic()
    with pytest.raises(ComponentError) as e:
        TrueFalse(TrueFalse.Config(model="judge", base_url=f"http://127.0.0.1:{port}/v1", api_key_env=KEY_ENV),
                  ctx()).verify(claims, evs)
    assert one_line(e.value).startswith("verify.args.base_url: cannot connect to http://127.0.0.1:")
    assert time.monotonic() - t0 < 5
    with pytest.raises(ComponentError) as e:  # right host, wrong path (forgot /v1)
        TrueFalse(TrueFalse.Config(model="judge", base_url=server.anthropic_url, api_key_env=KEY_ENV),
                  ctx()).verify(claims, evs)
    assert one_line(e.value).startswith("verify.args.base_url: the server answered 404")
    with pytest.raises(ComponentError, match=r"^verify\.args\.base_url: cannot connect"):
        ATrueFalse(ATrueFalse.Config(model="c", base_url=f"http://127.0.0.1:{port}", api_key_env=KEY_ENV),
                   ctx()).verify(claims, evs)


def test_model_not_found_and_bad_key():
    claims, evs = world(3)
    with FakeApiServer(models={"judge", "claude-t"}, api_key="right-key-123") as srv:
        with pytest.raises(ComponentError) as e:
            openai_tf(srv, ctx(), model="nope").verify(claims, evs)
        assert one_line(e.value).startswith("verify.args.api_key_env: the server rejected the API key in $")
        import os

        os.environ[KEY_ENV] = "right-key-123"
        with pytest.raises(ComponentError) as e:
            openai_tf(srv, ctx(), model="nope").verify(claims, evs)
        assert one_line(e.value).startswith("verify.args.model: model not found (404)")
        with pytest.raises(ComponentError, match=r"^verify\.args\.model: model not found"):
            ATrueFalse(ATrueFalse.Config(model="nope", base_url=srv.anthropic_url, api_key_env=KEY_ENV),
                       ctx()).verify(claims, evs)
        assert len(openai_tf(srv, ctx()).verify(claims, evs)) == 3


def test_secret_scrubbed_from_messages():
    # the server echoes the key it got in its 401 message; the error must not repeat it
    claims, evs = world(1)
    with FakeApiServer(api_key="other") as srv, pytest.raises(ComponentError) as e:
        openai_tf(srv, ctx()).verify(claims, evs)
    assert "***" in one_line(e.value)


def test_error_keeps_finished_work(tmp_path):
    cache = CallCache(tmp_path / "calls.sqlite")
    claims, evs = world(20)
    with FakeApiServer() as srv:
        url = srv.openai_url
        openai_tf(srv, ctx(cache)).verify(claims[:10], evs[:10])
    # the server is gone now
    with pytest.raises(ComponentError) as e:
        TrueFalse(TrueFalse.Config(model="judge", base_url=url, api_key_env=KEY_ENV, **FAST), ctx(cache)
                  ).verify(claims, evs)
    assert "10 answered calls are kept" in one_line(e.value)
    assert cache.count() == 10


def test_key_never_in_cache_files(tmp_path):
    cache = CallCache(tmp_path / "c" / "calls.sqlite")
    claims, evs = world(6)
    with FakeApiServer(api_key=SECRET) as srv:
        openai_tf(srv, ctx(cache)).verify(claims, evs)
        ATrueFalse(ATrueFalse.Config(model="claude-t", base_url=srv.anthropic_url, api_key_env=KEY_ENV),
                   ctx(cache)).verify(claims, evs)
    assert cache.count() == 12
    cache.close()
    for f in (tmp_path / "c").iterdir():
        assert SECRET.encode() not in f.read_bytes(), f


def test_p_true_math():
    from facttune_core import p_true_from_logprobs

    assert p_true_from_logprobs([("True", math.log(0.3)), (" false", math.log(0.1))]) == pytest.approx(0.75)


def test_rpm_limit_paces_calls(server):
    claims, evs = world(40)
    t0 = time.monotonic()
    openai_tf(server, ctx(), rpm=1200).verify(claims, evs)  # 20/s with a one-second bucket
    assert time.monotonic() - t0 >= 0.9

"""`facttune score --dry-run` with API judges (the loopback server): the number of calls, the
estimated tokens and cost, and not one request sent; then the real run, and what is cached."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from facttune_core import PriceTable
from facttune_core.api.estimate import MESSAGE_OVERHEAD
from facttune_core.run.score import CLAIMS_PER_SENTENCE, dry_run, score

sys.path.insert(0, str(Path(__file__).parent))
from api_server import FakeApiServer  # noqa: E402
from test_api import KEY_ENV, SECRET  # noqa: E402

OPENAI_PRICES = Path(__file__).resolve().parents[1] / "plugins" / "facttune_openai" / "prices.json"

RECIPE = """
[data]
component = "fake/prompts"

[extract]
component = "{extract}"
{extract_args}

[retrieve]
component = "fake/retriever"

[verify]
component = "openai/true-false"
args = {{ base_url = "{url}", api_key_env = "{env}", model = "gpt-4o-mini", max_retries = 1, backoff_base = 0.01 }}

[reward]
component = "rewards/factscore"
args = {{ gamma = 0 }}
"""

BIOS = [
    {"topic": "Ada Quill", "output": "Ada Quill was born in Lisbon. Ada Quill worked as a cartographer."},
    {"topic": "Ada Quill", "output": "Ada Quill was born in Oslo. Ada Quill won an Olympic medal. Ada Quill died in 1950."},
    {"topic": "Bruno Vell", "output": "Bruno Vell wrote three atlases."},
]


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    with FakeApiServer() as srv:
        yield srv


def setup(tmp_path: Path, srv: FakeApiServer, api_extract: bool = False) -> tuple[Path, Path]:
    f = tmp_path / "x.jsonl"
    f.write_text("".join(json.dumps(b) + "\n" for b in BIOS))
    r = tmp_path / "r.toml"
    extract_args = (f'args = {{ base_url = "{srv.openai_url}", api_key_env = "{KEY_ENV}", model = "gpt-4o-mini" }}'
                    if api_extract else "")
    r.write_text(RECIPE.format(extract="openai/claims" if api_extract else "core/sentences", extract_args=extract_args,
                               url=srv.openai_url, env=KEY_ENV))
    return f, r


def test_dry_run_counts_calls_tokens_and_cost_and_sends_nothing(fake_registry, tmp_path, server):
    f, r = setup(tmp_path, server)
    ests, n = dry_run(f, r, tmp_path / "out")
    assert n == 3 and [e.stage for e in ests] == ["extract", "retrieve", "verify"]
    assert server.requests == 0
    v = ests[2].estimate
    assert v is not None and v.calls == 6 and v.cached == 0  # one call per sentence-claim
    assert v.tokens_out == 6 * 16  # max_tokens of openai/true-false, an upper bound
    assert v.tokens_in > 6 * (MESSAGE_OVERHEAD + 50)  # the rendered prompts carry the evidence
    assert v.cost_usd == pytest.approx(PriceTable.from_json(OPENAI_PRICES).cost_usd("gpt-4o-mini", v.tokens_in,
                                                                                     v.tokens_out))
    assert not list((tmp_path / "out").glob("04-verify-*"))  # the API stage did not run
    assert list((tmp_path / "out").glob("03-retrieve-*/manifest.json"))  # the local ones did, for the real run
    # the real run: the same calls go out, then a dry run finds them all cached
    res = score(f, r, tmp_path / "out")
    assert server.requests == 6 and res.stages["retrieve"].status == "done"
    server.reset_counters()
    ests, _ = dry_run(f, r, tmp_path / "out2")
    v = ests[2].estimate
    assert v.calls == 6 and v.cached == 6 and v.tokens_in == 0 and v.cost_usd == 0
    assert server.requests == 0


def test_dry_run_with_an_api_extractor_estimates_claims(fake_registry, tmp_path, server):
    f, r = setup(tmp_path, server, api_extract=True)
    ests, _ = dry_run(f, r, tmp_path / "out")
    assert server.requests == 0
    x, rt, v = ests
    assert x.estimate.calls == 6  # one call per sentence
    assert rt.estimate is None and "proxy" in rt.note
    assert v.estimate.calls == round(6 * CLAIMS_PER_SENTENCE) and "4.6 per sentence" in v.note
    assert not list((tmp_path / "out").glob("02-extract-*"))


def test_dry_run_of_a_local_recipe_runs_nothing(fake_registry, tmp_path, server):
    f, r = setup(tmp_path, server)
    r.write_text(r.read_text().replace('component = "openai/true-false"', 'component = "fake/verifier"').replace(
        'args = { base_url', '# args = { base_url'))
    ests, _ = dry_run(f, r, tmp_path / "out")
    assert all(e.estimate is None and e.note == "local: no API cost" for e in ests)
    assert not (tmp_path / "out").exists()


def test_dry_run_through_the_cli(tmp_path, server):
    f, r = setup(tmp_path, server)
    env = {**os.environ, "FACTTUNE_PLUGINS": "facttune_core.testing", "FACTTUNE_CACHE_DIR": str(tmp_path / "cache"),
           "COLUMNS": "200", KEY_ENV: SECRET}
    out = subprocess.run([sys.executable, "-m", "facttune_core.cli", "score", str(f), "--recipe", str(r), "--out",
                          str(tmp_path / "out"), "--dry-run"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "no API call was made" in out.stdout and "openai/true-false" in out.stdout
    total = [ln for ln in out.stdout.splitlines() if ln.strip().strip("│").strip().startswith("total")]
    assert total and " 6 " in total[0]
    assert server.requests == 0 and not (tmp_path / "out" / "scores.jsonl").exists()

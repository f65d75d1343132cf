"""What the fuzz modules of the evaluation commands share (score, compare, report, judge; issue #21):
the in-process CLI of tests/test_fuzz_inputs.py, score folders over the fake world, a verifier that
labels some claims IR, a ``facttune score`` killed with SIGKILL, and the one-error-line check."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_fuzz_inputs import ROOT, Outcome, cli, finished_run, jsonl_recipe, stage, write_jsonl

from facttune_core import Claim, Evidence, Verdict, hookimpl

__all__ = ["ROOT", "Outcome", "cli", "finished_run", "jsonl_recipe", "stage", "write_jsonl", "Expect", "bios",
           "score_recipe", "scored", "one_line", "kill9_score", "ir_plugin", "json_lines", "TRUE_BIO", "FALSE_BIO", "check_case"]

TRUE_BIO = "{t} was born in Lisbon. {t} worked as a cartographer. {t} wrote three atlases."
FALSE_BIO = "{t} was born in Oslo. {t} won an Olympic medal."

SCORE_RECIPE = """
[run]
name = "s"

[data]
component = "fake/prompts"

[extract]
component = "core/sentences"

[retrieve]
component = "fake/retriever"

[verify]
component = "{verify}"

[reward]
component = "rewards/factscore"
args = {{ {reward_args} }}
"""


@dataclass
class Expect:
    """What a case must end in: exit != 0 and one error line holding each of ``error``; or (``error``
    None) exit 0 and ``check(outcome)`` holding. ``unchanged``: files whose bytes must not change;
    ``absent``: what the error line must not say."""

    argv: list
    error: list[str] | None = None
    check: Callable[[Outcome], None] | None = None
    unchanged: list[Path] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # what the error line must not say


def score_recipe(tmp: Path, reward_args: str = "gamma = 0", verify: str = "fake/verifier",
                 name: str = "score.toml") -> Path:
    p = tmp / name
    p.write_text(SCORE_RECIPE.format(reward_args=reward_args, verify=verify), encoding="utf-8")
    return p


def bios(tmp: Path, name: str = "x.jsonl", people: tuple[str, ...] = ("Ada Quill", "Bruno Vell"),
         models: tuple[str, ...] = (), **extra: object) -> Path:
    """FActScore-format responses about the fake world's people: one true bio each, a false one for
    the first; ``models`` are given to the lines in turn."""
    rows = [{"topic": t, "output": (TRUE_BIO if i % 2 == 0 else FALSE_BIO).format(t=t), **extra}
            for i, t in enumerate(people)]
    rows.append({"topic": people[0], "output": FALSE_BIO.format(t=people[0]), **extra})
    for i, r in enumerate(rows):
        if models:
            r["model"] = models[i % len(models)]
    write_jsonl(tmp / name, rows)
    return tmp / name


def scored(tmp: Path, mp: pytest.MonkeyPatch, cs: pytest.CaptureFixture[str], out: str | Path = "s",
           file: Path | None = None, recipe: Path | None = None, extra: list | None = None) -> Path:
    """A finished score folder (the CLI, in process)."""
    folder = out if isinstance(out, Path) else tmp / out
    res = cli(["score", file or bios(tmp), "--recipe", recipe or score_recipe(tmp), "--out", folder, *(extra or [])],
              mp, cs)
    assert res.code == 0, res.err
    return folder


def one_line(res: Outcome) -> str:
    """The one error line of a failed command (warnings aside); no traceback."""
    assert "Traceback" not in res.out + res.err, res.err
    assert res.code != 0, f"exit 0 for a broken input:\n{res.out[-2000:]}"
    lines = [ln for ln in res.err.splitlines() if ln.strip() and not ln.startswith("warning:")]
    assert len(lines) == 1, f"expected one error line, got:\n{res.err}"
    return lines[0]


def check_case(expect: Expect, mp: pytest.MonkeyPatch, cs: pytest.CaptureFixture[str]) -> None:
    before = {p: p.read_bytes() for p in expect.unchanged}
    res = cli(expect.argv, mp, cs)
    assert "Traceback" not in res.out + res.err, res.err
    if expect.error is None:
        assert res.code == 0, res.err
        if expect.check is not None:
            expect.check(res)
    else:
        line = one_line(res)
        for needle in expect.error:
            assert needle in line, f"{needle!r} not in: {line}"
        for needle in expect.absent:
            assert needle not in line, f"{needle!r} in: {line}"
    for p, data in before.items():
        assert p.exists() and p.read_bytes() == data, f"{p} was changed"


def kill9_score(tmp: Path, file: Path, recipe: Path, out: Path) -> None:
    """``facttune score`` in a subprocess, killed with SIGKILL while its verify stage runs."""
    log = tmp / f"calls-{time.monotonic_ns()}.log"
    env = {**os.environ, "FACTTUNE_PLUGINS": "facttune_core.testing", "FACTTUNE_CACHE_DIR": str(tmp / "cache")}
    cmd = [sys.executable, "-m", "facttune_core.cli", "score", str(file), "--recipe", str(recipe), "--out", str(out),
           "--set", "verify.args.delay=0.5", "--set", f"verify.args.calls_log={log}",
           "--set", "verify.args.batch_size=1", "--set", "verify.chunk_size=1"]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and log.read_text().count("\n") >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


class IRVerifier:
    """The fake verifier, but a claim about an Olympic medal is irrelevant (IR)."""

    from facttune_core.testing import FakeVerifier as _Fake

    Config = _Fake.Config

    def __init__(self, config: object, ctx: object) -> None:
        self.inner = self._Fake(config, ctx)  # type: ignore[arg-type]

    def verify(self, claims: list[Claim], evidence: list[Evidence | None]) -> list[Verdict]:
        out = []
        for c, v in zip(claims, self.inner.verify(claims, evidence), strict=True):
            out.append(Verdict(claim_id=v.claim_id, supported=False, p_true=v.p_true, label="IR", judge=v.judge)
                       if "Olympic" in c.text else v)
        return out


class FeatureVerifier(IRVerifier):
    """The fake verifier with one feature (its P(True)) for `facttune judge fit`."""

    def features(self, claims: list[Claim], evidence: list[Evidence | None]) -> list[list[float]]:
        return [[float(v.p_true or 0.0)] for v in self.inner.verify(claims, evidence)]


def ir_plugin() -> types.ModuleType:
    """``irtest/verifier`` (IR for Olympic medals) and ``irtest/features`` (fittable)."""
    mod = types.ModuleType("irtest")
    mod.PLUGIN_NAME = "irtest"  # type: ignore[attr-defined]

    @hookimpl
    def register_claim_verifiers(register):  # type: ignore[no-untyped-def]
        register("verifier", IRVerifier)
        register("features", FeatureVerifier)

    mod.register_claim_verifiers = register_claim_verifiers  # type: ignore[attr-defined]
    return mod


def json_lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]

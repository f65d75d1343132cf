"""`facttune report` on any run folder, the verifier's reason in the drill-down, flat manifests."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from facttune_core.cli.main import app
from facttune_core.report.html import write_report
from facttune_core.testing import fake_recipe_text, run_recipe

runner = CliRunner()


def test_report_on_a_run_without_evaluate_prints_its_scores(fake_registry, tmp_path):
    res = run_recipe(fake_recipe_text(), tmp_path / "run", until="pairs")
    rewards = [r.value for r in res["reward"].records]
    out = runner.invoke(app, ["report", str(tmp_path / "run")], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    line = next(x for x in out.output.splitlines() if "mean reward 'factscore'" in x)
    assert f"{sum(rewards) / len(rewards):.3f}" in line and f"{len(rewards)} of {len(rewards)} responses" in line
    assert "claims labelled S" in out.output and "preference pairs" in out.output
    assert "fake/verifier" in out.output  # the stages table
    page = (tmp_path / "run" / "report.html").read_text()
    assert "Scores (training prompts)" in page and "mean reward &#x27;factscore&#x27;" in page


def test_drill_down_shows_the_verifiers_reason_escaped(fake_registry, tmp_path, monkeypatch):
    from facttune_core import Verdict, testing

    real = testing.FakeVerifier.verify

    def with_reason(self, claims, evidence):
        return [Verdict(claim_id=v.claim_id, supported=v.supported, p_true=v.p_true, judge="fake-judge",
                        raw=f"<b>why</b> {v.claim_id}") for v in real(self, claims, evidence)]

    monkeypatch.setattr(testing.FakeVerifier, "verify", with_reason)
    res = run_recipe(fake_recipe_text(), tmp_path / "run", until="reward")
    page = write_report(tmp_path / "run").read_text()
    first = res["verify"].records[0]
    assert f"fake-judge: &lt;b&gt;why&lt;/b&gt; {first.claim_id}" in page and "<b>why</b>" not in page


def test_manifests_hold_the_args_themselves(fake_registry, tmp_path):
    res = run_recipe(fake_recipe_text(verify_args={"batch_size": 2}), tmp_path / "run", until="verify")
    manifest = json.loads((res["verify"].dir / "manifest.json").read_text())
    assert manifest["config"] == {}  # batch_size is a runtime field: not among the output-relevant args
    data = json.loads((res["data"].dir / "manifest.json").read_text())
    assert data["config"] == {"n_train": 4, "n_test": 2, "template": "Write me a paragraph biography of {topic}."}

"""The report: terminal table, PNG plots, a self-contained HTML page with escaped model text."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from facttune_core import DataBundle, Pipeline, load_recipe, testing
from facttune_core.report.html import evaluation_table, write_report


@pytest.fixture
def evil_run(fake_registry, fake_recipe, tmp_path, monkeypatch):
    """A fake run whose model writes HTML/script into its responses."""
    evil = ("<script>document.title='pwned'</script>", "<img src=x onerror=alert(1)>")
    monkeypatch.setattr(testing, "TRUE_FACTS", (*testing.TRUE_FACTS[:3], "{t} wrote " + evil[0] + "."))
    monkeypatch.setattr(testing, "FALSE_FACTS", (*testing.FALSE_FACTS[:3], "{t} drew " + evil[1] + "."))
    res = Pipeline(load_recipe(fake_recipe), tmp_path / "run").run()
    return tmp_path / "run", res


def test_report_files_and_escaping(evil_run):
    run_dir, res = evil_run
    out = write_report(run_dir)
    page = out.read_text()
    assert out.name == "report.html"
    for png in ("scores.png", "score_vs_length.png", "training.png"):
        assert (run_dir / "plots" / png).stat().st_size > 1000
    assert "<script>document.title" not in page and "&lt;script&gt;document.title" in page
    assert "<img src=x" not in page
    assert page.count("data:image/png;base64,") == 3  # self-contained
    # drill-down: every held-out response with its claims and verdict labels
    assert "held-out, before" in page and "held-out, after" in page
    assert page.count("class='resp'") == len([r for r in res["evaluate"].records])
    assert "<span class='lab'>S</span>" in page and "<span class='lab'>NS</span>" in page


def test_report_credits_what_the_components_say(fake_registry, fake_recipe, tmp_path, monkeypatch):
    """Attribution comes from the manifests' info (a prompt source's bundle.info, a retriever's
    ctx.info), not from names the core knows."""
    run_dir = tmp_path / "run"
    Pipeline(load_recipe(fake_recipe), run_dir).run()
    assert "Text from:" not in write_report(run_dir).read_text()

    def load(self):
        return DataBundle(prompts=real(self).prompts, info={"attribution": "Fake Atlas of People, CC0"})

    real = testing.FakePrompts.load
    monkeypatch.setattr(testing.FakePrompts, "load", load)
    Pipeline(load_recipe(fake_recipe), run_dir, force_from="data").run()
    assert "<small>Text from: Fake Atlas of People, CC0.</small>" in write_report(run_dir).read_text()


def test_terminal_table_has_before_after_and_ci(evil_run):
    _, res = evil_run
    from rich.console import Console

    con = Console(record=True, width=140)
    con.print(evaluation_table(res["evaluate"].manifest["summary"]))
    text = con.export_text()
    assert "FActScore %" in text and "before" in text and "after" in text and "95% CI" in text


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_report_renders_in_headless_chromium(evil_run, tmp_path):
    run_dir, _ = evil_run
    out = write_report(run_dir)
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'prof'}",
           "--virtual-time-budget=2000", "--dump-dom", out.as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    assert "Held-out evaluation" in dom
    assert "<title>facttune report" in dom and "pwned" not in dom.split("</title>")[0]
    shot = tmp_path / "shot.png"
    subprocess.run([*cmd[:-2], f"--screenshot={shot}", "--window-size=1200,2000", out.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000

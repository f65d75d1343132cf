"""docs/writing-a-plugin.md stays true: its code is the example plugin's, and its walk-through
(a model-free run over a JSONL knowledge source, then an edit and a rerun) gives what it says."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "writing-a-plugin.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "tests" / "example_plugin"
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", DOC, re.S)


def block(start: str) -> str:
    return next(body for _, body in BLOCKS if body.startswith(start))


def test_the_docs_code_is_the_example_plugins():
    module = (EXAMPLE / "facttune_drugcheck" / "__init__.py").read_text(encoding="utf-8")
    assert block("# facttune_drugcheck/__init__.py\n").split("\n", 1)[1] == module
    assert block("pytest_plugins") == (EXAMPLE / "tests" / "conftest.py").read_text(encoding="utf-8")
    pyproject = (EXAMPLE / "pyproject.toml").read_text(encoding="utf-8")
    for line in block("# pyproject.toml\n").splitlines()[1:]:
        assert line in pyproject, line


def test_the_walk_through_runs_as_written(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(EXAMPLE / "facttune_drugcheck", src / "facttune_drugcheck")
    demo = tmp_path / "drug-demo"
    demo.mkdir()
    (demo / "kb.jsonl").write_text(block('{"title": "Ibuprofen"'))
    (demo / "prompts.jsonl").write_text(block('{"id": "ibu"'))
    (demo / "responses.jsonl").write_text(block('{"prompt_id": "ibu"'))
    (demo / "recipe.toml").write_text(block('[run]\nname = "drugs"'))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), *sys.path]),
           "FACTTUNE_PLUGINS": "facttune_drugcheck", "FACTTUNE_CACHE_DIR": str(tmp_path / "cache"),
           "COLUMNS": "160"}

    def facttune(*args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "facttune_core.cli", *args], cwd=demo, env=env,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
        return out.stdout

    def scores(report: str) -> dict[str, str]:
        return {m[0].strip(): m[1] for m in re.findall(r"│ (claims labelled \w+|mean reward 'factscore') *│ *([\d.%]+)", report)}

    facttune("validate", "recipe.toml")
    facttune("run", "recipe.toml")
    assert (demo / "runs" / "drugs" / "report.html").exists()  # under the current directory
    assert scores(facttune("report", "runs/drugs")) == {  # the numbers step 4 states
        "claims labelled S": "50.0%", "claims labelled NS": "25.0%", "claims labelled IR": "25.0%",
        "mean reward 'factscore'": "0.750"}

    # step 6: the edit the doc describes, then the same command
    new = re.search(r"the `IR` verdict becomes\n`(Verdict\(.*?\))`", DOC).group(1)
    module = src / "facttune_drugcheck" / "__init__.py"
    old = 'Verdict(claim_id=claim.id, supported=None, label="IR", raw="no dose stated")'
    module.write_text(module.read_text().replace(old, new))
    rerun = facttune("run", "recipe.toml")
    status = dict(re.findall(r"│ (\w+) +│ (ran|done|resumed) ", rerun))
    assert status == {"data": "done", "extract": "done", "retrieve": "done", "verify": "ran", "reward": "ran"}
    assert scores(facttune("report", "runs/drugs"))["mean reward 'factscore'"] == "0.500"  # "now scores 0.5"

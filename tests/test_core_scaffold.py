"""`facttune new-plugin NAME`: a plugin package that installs, is discovered, and whose own tests pass."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facttune_core.cli.main import app

runner = CliRunner()


def _env(*front: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FACTTUNE_PLUGINS", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = os.pathsep.join([*map(str, front), *sys.path])
    return {**env, **extra}


@pytest.fixture
def generated(tmp_path) -> Path:
    out = runner.invoke(app, ["new-plugin", "datecheck", "--dir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert "pip install -e" in out.output
    return tmp_path / "facttune-datecheck"


def test_new_plugin_writes_a_package(generated):
    files = sorted(p.relative_to(generated).as_posix() for p in generated.rglob("*") if p.is_file())
    assert files == ["README.md", "facttune_datecheck/__init__.py", "pyproject.toml", "tests/conftest.py",
                     "tests/test_datecheck.py"]
    assert 'datecheck = "facttune_datecheck"' in (generated / "pyproject.toml").read_text()
    assert "{{" not in "".join(p.read_text() for p in generated.rglob("*") if p.is_file())
    if shutil.which("ruff"):
        lint = subprocess.run(["ruff", "check", "--no-cache", "."], cwd=generated, capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout


def test_the_generated_plugins_own_tests_pass(generated):
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=generated,
                         env=_env(generated, FACTTUNE_PLUGINS="facttune_datecheck"),
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert re.search(r"\b6 passed", out.stdout), out.stdout


def test_the_generated_plugin_installs_and_is_found_by_its_entry_point(generated, tmp_path):
    site = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                          "--no-index", "--target", str(site), str(generated)],
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr[-3000:]
    cli = [sys.executable, "-m", "facttune_core.cli"]
    out = subprocess.run([*cli, "plugins", "--json"], env=_env(site), capture_output=True, text=True, timeout=60)
    plugin = next(p for p in json.loads(out.stdout) if p["name"] == "datecheck")
    assert plugin["distribution"] == "facttune-datecheck"
    assert plugin["components"] == {"claim_verifier": ["datecheck/numbers"]}
    out = subprocess.run([*cli, "describe", "datecheck/numbers", "--json"], env=_env(site), capture_output=True,
                         text=True, timeout=60)
    [doc] = json.loads(out.stdout)
    assert doc["needs"] == ["evidence"] and [o["key"] for o in doc["options"]] == ["years_only"]


def test_bad_names_and_existing_folders_are_one_line_errors(tmp_path):
    bad = runner.invoke(app, ["new-plugin", "Date-Check", "--dir", str(tmp_path)])
    assert bad.exit_code == 2
    assert bad.output.startswith("new-plugin: NAME: 'Date-Check' is not a valid plugin name")
    taken = runner.invoke(app, ["new-plugin", "retrieval", "--dir", str(tmp_path)])
    assert "a plugin named 'retrieval' is already installed" in taken.output
    assert runner.invoke(app, ["new-plugin", "x1", "--dir", str(tmp_path)]).exit_code == 0
    again = runner.invoke(app, ["new-plugin", "x1", "--dir", str(tmp_path)])
    assert again.exit_code == 2 and again.output.strip() == f"{tmp_path / 'facttune-x1'}: already exists; pick another name or folder"
    assert not list(tmp_path.glob("facttune-Date*"))


def test_the_wheel_carries_the_templates_and_py_typed(tmp_path):
    """new-plugin must work from a regular install, and type checkers need py.typed (PEP 561)."""
    root = Path(__file__).resolve().parents[1]
    src = tmp_path / "src"
    for name in ("facttune_core", "plugins"):
        shutil.copytree(root / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, src / name)
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                          "-w", str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    import zipfile

    [wheel] = (tmp_path / "dist").glob("facttune-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "facttune_core/py.typed" in names
    from facttune_core.cli.scaffold import LAYOUT

    assert {f"facttune_core/templates/plugin/{t}" for t in LAYOUT} <= names

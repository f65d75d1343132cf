"""Meta-rules (datasette style): every hook is documented and tested."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from facttune_core.contract import hookspecs

ROOT = Path(__file__).resolve().parents[1]
HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("register_")]


def test_every_hook_has_a_docstring():
    assert len(HOOKS) >= 9
    for name in HOOKS:
        assert (getattr(hookspecs, name).__doc__ or "").strip(), name


def test_every_hook_is_documented_in_docs():
    doc = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    for name in HOOKS:
        assert f"### {name}" in doc, f"docs/plugins.md has no section for {name}"


def test_every_hook_has_a_test():
    """datasette's rule: each hook spec has a test function named ``test_hook_<hook>``."""
    tests = {node.name for p in (ROOT / "tests").glob("test_*.py")
             for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
             if isinstance(node, ast.FunctionDef) and node.name.startswith("test_hook_")}
    missing = [name for name in HOOKS if f"test_hook_{name}" not in tests]
    assert not missing, f"hooks without a test_hook_<name> test: {missing}"


def test_every_component_kind_has_a_hook():
    assert {k.name for k in hookspecs.KINDS} == {"prompt_source", "generator", "claim_extractor", "evidence_retriever",
                                             "claim_verifier", "reward_combiner", "trainer"}

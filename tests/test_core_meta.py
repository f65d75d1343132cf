"""Meta-rules (datasette style): every hook is documented and tested."""

from __future__ import annotations

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
    tests = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py")
                    if p.name != Path(__file__).name)
    for name in HOOKS:
        assert name in tests, f"no test mentions {name}"


def test_every_component_kind_has_a_hook():
    assert set(hookspecs.KINDS.values()) == {"prompt_source", "generator", "claim_extractor", "evidence_retriever",
                                             "claim_verifier", "reward_combiner", "trainer"}

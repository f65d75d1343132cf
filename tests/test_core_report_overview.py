"""Flat manifests."""

from __future__ import annotations

import json

from facttune_core.testing import fake_recipe_text, run_recipe


def test_manifests_hold_the_args_themselves(fake_registry, tmp_path):
    res = run_recipe(fake_recipe_text(verify_args={"batch_size": 2}), tmp_path / "run", until="verify")
    manifest = json.loads((res["verify"].dir / "manifest.json").read_text())
    assert manifest["config"] == {}  # batch_size is a runtime field: not among the output-relevant args
    data = json.loads((res["data"].dir / "manifest.json").read_text())
    assert data["config"] == {"n_train": 4, "n_test": 2, "template": "Write me a paragraph biography of {topic}."}

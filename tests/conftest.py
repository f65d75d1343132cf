from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["facttune_core.testing"]

# tests/example_plugin is a separate package with its own tests (and conftest): it runs them itself
# (tests/test_core_testing_kit.py runs them in a subprocess, as a plugin author would)
collect_ignore = ["example_plugin"]


# Shared fixtures; their helpers are imported inside, so collecting a model-free test imports no torch.
@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random llama-shaped model folder (tests/_hf_helpers.py)."""
    from _hf_helpers import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "llama", "llama")


@pytest.fixture(scope="session")
def tiny_gemma(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random gemma3-shaped model folder without a chat template."""
    from _hf_helpers import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "gemma3", "gemma3", chat=False)


@pytest.fixture
def ir_registry(fake_registry: Any) -> Iterator[Any]:
    """The fakes and ``irtest/*`` (tests/_fuzz_kit.py)."""
    from _fuzz_kit import ir_plugin

    import facttune_core.testing as testing
    from facttune_core.contract import plugins, registry

    plugins.reset_plugin_manager(plugins.make_plugin_manager(extra=[testing, ir_plugin()]))
    yield registry.get_registry()
    plugins.reset_plugin_manager(None)

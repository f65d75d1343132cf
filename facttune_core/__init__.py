"""facttune's thin core: hook specs, registry, records, recipes, staged runs, cache, CLI.

Plugins import only the names exported here (and ``facttune_core.testing`` in their tests).
Nothing here imports torch, transformers or an API SDK.
"""

from __future__ import annotations

from .api.limits import RateLimiter
from .api.prices import PriceTable
from .api.retry import Failure
from .api.runner import ApiConfig, ApiRunner, ChatBackend, ChatRequest, ChatResult, run_sync
from .cache import CallCache, call_key, stable_json
from .contract.config import ExistingPath, output_config, runtime_field
from .contract.context import Context
from .contract.errors import (
    ComponentError,
    ConfigError,
    DataError,
    DuplicateComponentError,
    FacttuneError,
    UnknownComponentError,
    did_you_mean,
)
from .contract.hookspecs import Register, RegisterModel, hookimpl, hookspec
from .contract.protocols import (
    ClaimExtractor,
    ClaimVerifier,
    DataBundle,
    EvidenceRetriever,
    Generator,
    GeneratorConfig,
    PromptSource,
    RewardCombiner,
    TrainData,
    Trainer,
    TrainResult,
)
from .contract.records import (
    Claim,
    Decoding,
    Evidence,
    Pair,
    Passage,
    Prompt,
    Response,
    Reward,
    ScoredResponse,
    SFTExample,
    Verdict,
)
from .contract.registry import build_component, get_registry, model_aliases, resolve_model
from .metrics import f1_at_k, factscore, paired_bootstrap, summarize
from .paths import cache_dir

__version__ = "0.1.0"

__all__ = [
    "CallCache", "ExistingPath", "call_key", "stable_json", "build_component", "output_config", "runtime_field", "Context",
    "ComponentError", "ConfigError", "DataError", "DuplicateComponentError", "FacttuneError",
    "UnknownComponentError", "did_you_mean", "Register", "RegisterModel", "hookimpl", "hookspec", "f1_at_k", "factscore",
    "paired_bootstrap", "summarize", "ClaimExtractor", "ClaimVerifier", "DataBundle", "EvidenceRetriever",
    "Generator", "GeneratorConfig", "PromptSource", "RewardCombiner", "Trainer", "TrainData", "TrainResult", "Claim", "Decoding",
    "Evidence", "Pair", "Passage", "Prompt", "Response", "Reward", "ScoredResponse", "SFTExample", "Verdict",
    "get_registry", "model_aliases", "resolve_model", "cache_dir", "__version__",
    "ApiConfig", "ApiRunner", "ChatBackend", "ChatRequest", "ChatResult", "Failure", "PriceTable", "RateLimiter",
    "run_sync",
]

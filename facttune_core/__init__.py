"""facttune's thin core, and its one public surface.

Plugins import only the names exported here (and ``facttune_core.testing`` in their tests;
tests/test_core_layout.py checks). Nothing here imports torch, transformers or an API SDK.

- the contract (``contract/``): hooks, records, protocols, errors, the typed registry;
- shared logic: judge prompts and parsers, sentences → claims, formulas, the one FActScore (claim → evidence →
  verdict joined, one counting rule: ``claim_scores``), the pair rules, files, the call cache;
- the API layer (``api/``): provider-neutral limits, retry policy, prices, the concurrent cached runner;
- the run engine (``run/``): recipes run stage by stage into a run folder.
"""

from __future__ import annotations

from .api.chat import (
    ChatBelief,
    ChatClaims,
    ChatClaimsMixin,
    ChatComponent,
    ChatGenerator,
    ChatTrueFalse,
    sampled_responses,
)
from .api.estimate import CallEstimate, estimate_requests
from .api.limits import RateLimiter
from .api.prices import PriceTable
from .api.retry import (
    Failure,
    MalformedResponse,
    backoff_delay,
    connection_failure,
    http_failure,
    retry_after_seconds,
)
from .api.runner import (
    ApiConfig,
    ApiRunner,
    ChatBackend,
    ChatRequest,
    ChatResult,
    run_sync,
    shared_ssl_context,
)
from .contract.cache import CallCache, call_key, stable_json
from .contract.config import ExistingPath, output_config, runtime_field
from .contract.context import Context
from .contract.devices import native_bf16
from .contract.errors import (
    ComponentError,
    ConfigError,
    DataError,
    DuplicateComponentError,
    FacttuneError,
    UnknownComponentError,
    did_you_mean,
)
from .contract.extras import SPACY_MODELS, import_extra, load_spacy
from .contract.hookspecs import Register, RegisterModel, hookimpl, hookspec
from .contract.locks import FolderLock
from .contract.paths import cache_dir
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
from .contract.registry import build_component, get_registry, model_aliases, resolve_model, validate_args
from .contract.store import (
    atomic_write_json,
    atomic_write_text,
    file_sha256,
    iter_jsonl,
    json_object_with,
    read_json_file,
    read_text_file,
    refuse_overwrite,
)
from .report.plots import plot_curves
from .run.executor import Reporter
from .run.folders import StageResult, trained_adapter
from .run.pipeline import Pipeline
from .run.recipe import load_recipe
from .run.score_input import ScoreInput
from .run.score_input import read_input as read_score_input
from .scoring.claim_scores import (
    ClaimCounts,
    FactScoreRule,
    JoinedClaim,
    ResponseScore,
    count_verdicts,
    expected_factscore,
    join_claims,
    no_fact_share,
    repeated_share,
    row_repeated_share,
    score_claims,
    score_counts,
    scored_responses,
    summarize_scores,
)
from .scoring.judging import Calibration, auroc
from .scoring.metrics import f1_at_k, factscore, paired_bootstrap, summarize
from .scoring.pairs import PairsConfig, Selection
from .scoring.pairs import build as build_pairs
from .scoring.prompts import (
    CHAT_EXTRACT_SYSTEM,
    CHAT_TRUE_FALSE_SYSTEM,
    FALSE_WORDS,
    TRUE_WORDS,
    belief_prefix,
    belief_prompt,
    extract_prompt,
    p_true_from_logprobs,
    parse_fact_lines,
    parse_true_false,
    verify_prefix,
    verify_prompt,
    verify_suffix,
)
from .scoring.text import merge_short_sentences, sentence_claims, slug, split_sentences

__version__ = "0.1.0"

__all__ = [
    # the contract
    "hookimpl", "hookspec", "Register", "RegisterModel", "Context", "runtime_field", "output_config", "ExistingPath",
    "build_component", "get_registry", "model_aliases", "resolve_model", "validate_args",
    "PromptSource", "Generator", "GeneratorConfig", "ClaimExtractor", "EvidenceRetriever", "ClaimVerifier",
    "RewardCombiner", "Trainer", "DataBundle", "TrainData", "TrainResult",
    "Prompt", "Response", "Claim", "Passage", "Evidence", "Verdict", "Reward", "Pair", "SFTExample", "ScoredResponse",
    "Decoding",
    "FacttuneError", "ConfigError", "UnknownComponentError", "DuplicateComponentError", "DataError", "ComponentError",
    "did_you_mean", "import_extra", "load_spacy", "SPACY_MODELS",
    # shared logic
    "extract_prompt", "parse_fact_lines", "verify_prefix", "verify_suffix", "verify_prompt", "belief_prefix",
    "belief_prompt", "parse_true_false", "p_true_from_logprobs", "TRUE_WORDS", "FALSE_WORDS", "CHAT_EXTRACT_SYSTEM",
    "CHAT_TRUE_FALSE_SYSTEM", "split_sentences", "merge_short_sentences", "sentence_claims", "slug",
    "factscore", "f1_at_k", "summarize", "paired_bootstrap", "FactScoreRule", "JoinedClaim", "join_claims", "expected_factscore", "no_fact_share", "repeated_share", "row_repeated_share",
    "ClaimCounts", "count_verdicts", "ResponseScore", "score_counts", "score_claims", "summarize_scores", "scored_responses", "PairsConfig", "Selection", "build_pairs",
    "atomic_write_json", "atomic_write_text", "file_sha256", "iter_jsonl", "read_json_file", "read_text_file", "refuse_overwrite",
    "json_object_with", "FolderLock", "CallCache", "call_key", "stable_json", "cache_dir",
    "native_bf16", "plot_curves", "Calibration", "auroc",
    # the API layer
    "ApiConfig", "ApiRunner", "ChatBackend", "ChatRequest", "ChatResult", "Failure", "MalformedResponse",
    "PriceTable", "RateLimiter", "backoff_delay", "retry_after_seconds", "http_failure", "connection_failure",
    "shared_ssl_context", "run_sync", "CallEstimate", "estimate_requests", "ChatClaimsMixin", "sampled_responses",
    "ChatComponent", "ChatGenerator", "ChatClaims", "ChatTrueFalse", "ChatBelief",
    # the run engine
    "load_recipe", "Pipeline", "ScoreInput", "read_score_input", "Reporter", "StageResult", "trained_adapter",
    "__version__",
]

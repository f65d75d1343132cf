"""The sampling loop behind ``hf/generate``: one batch of token-id prompts → completions.

Left padding, a KV cache, last-position logits only (``logits_to_keep``), and rows that finished
dropped from the batch (and from the KV cache) as they finish, so a batch that mixes short and long
answers does not keep paying for the short ones. Each row samples from its own ``torch.Generator``:
a sample does not depend on which batch it ran in (up to float rounding), so reruns reproduce it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from typing import Any

PRUNE_FRACTION = 0.25  # drop finished rows once this share of the batch has finished (a KV-cache copy each time)
MAX_AUTO_BATCH = 64  # rows per batch that "auto" never exceeds (measured: 64 rows ~3x the tokens/s of 8 on a CPU)
CPU_KV_BUDGET = 1 << 30  # bytes of KV cache + logits "auto" plans for on a CPU


def auto_batch_size(lm: Any, tokens_per_row: int) -> int:
    """Rows per batch: as many as fit a memory budget (the KV cache of ``tokens_per_row`` positions
    plus a row of logits), at most MAX_AUTO_BATCH. CPU: 1 GiB; CUDA: 40% of the free memory."""
    import torch

    cfg = getattr(lm.model, "config", None)
    cfg = cfg.get_text_config() if cfg is not None and hasattr(cfg, "get_text_config") else cfg
    heads = int(getattr(cfg, "num_attention_heads", 0) or 1)
    kv_heads = int(getattr(cfg, "num_key_value_heads", 0) or heads)
    head_dim = int(getattr(cfg, "head_dim", 0) or (int(getattr(cfg, "hidden_size", 0) or 4096) // heads))
    layers = int(getattr(cfg, "num_hidden_layers", 0) or 32)
    vocab = int(getattr(cfg, "vocab_size", 0) or 50000)
    elem = torch.finfo(lm.dtype).bits // 8 if lm.dtype.is_floating_point else 4
    per_row = layers * 2 * kv_heads * head_dim * elem * max(1, tokens_per_row) + 8 * vocab
    budget = CPU_KV_BUDGET
    if lm.device.type == "cuda":
        budget = int(0.4 * torch.cuda.mem_get_info(lm.device)[0])
    return max(1, min(MAX_AUTO_BATCH, budget // per_row))


def _filter_top_p(probs: Any, top_p: float) -> Any:
    """Nucleus filtering: keep the smallest set of most likely tokens whose mass reaches ``top_p``,
    renormalised. Sorts only the top candidates when they already cover ``top_p`` (the usual case);
    the kept set is the one a full sort gives."""
    import torch

    if top_p >= 1.0:
        return probs
    k = min(probs.shape[-1], 1024)
    sorted_p, idx = torch.topk(probs, k, dim=-1)
    if k < probs.shape[-1] and bool((sorted_p.sum(-1) < top_p).any()):
        sorted_p, idx = torch.sort(probs, descending=True, dim=-1)
    cum = torch.cumsum(sorted_p, dim=-1)
    drop = (cum - sorted_p) > top_p  # keep the smallest prefix whose mass reaches top_p
    sorted_p = sorted_p.masked_fill(drop, 0.0)
    out = torch.zeros_like(probs).scatter(-1, idx, sorted_p)
    return out / out.sum(dim=-1, keepdim=True)


BLOCK = 256  # sample_rows: vocabulary block size of the two-level search


def sample_rows(weights: Any, gens: Sequence[Any]) -> Any:
    """One token per row of ``weights`` (non-negative, normalised or not) by inverse-CDF sampling:
    one uniform draw per row from that row's own generator (so a row's tokens do not depend on the
    other rows), located in the row's cumulative weights. Two levels (blocks of 256 tokens, then the
    token inside the chosen block), summed in float64: a token of tiny probability keeps its share,
    and a zero-weight token is never drawn."""
    import torch

    b, v = weights.shape
    nb = -(-v // BLOCK)
    w = torch.nn.functional.pad(weights, (0, nb * BLOCK - v)).view(b, nb, BLOCK) if nb * BLOCK != v \
        else weights.view(b, nb, BLOCK)
    u = torch.stack([torch.rand((), generator=g, dtype=torch.float64) for g in gens])
    block_sums = w.sum(-1, dtype=torch.float64)
    cum = block_sums.cumsum(-1)
    target = u * cum[:, -1]
    bi = torch.searchsorted(cum, target[:, None], right=True)[:, 0].clamp(max=nb - 1)
    bi = torch.minimum(bi, (torch.arange(nb) * (block_sums > 0)).argmax(-1))  # rounding past the last block
    r = torch.arange(b)
    inside = w[r, bi]
    local = target - (cum[r, bi] - block_sums[r, bi])
    ti = torch.searchsorted(inside.cumsum(-1, dtype=torch.float64), local[:, None], right=True)[:, 0]
    nonzero = inside > 0
    idx = torch.arange(BLOCK)
    first = torch.where(nonzero, idx, BLOCK).min(-1).values
    last = torch.where(nonzero, idx, -1).max(-1).values
    return bi * BLOCK + torch.maximum(torch.minimum(ti, last), first)


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    cuts = [text.find(s) for s in stop if s and s in text]
    return text[:min(cuts)] if cuts else text


@functools.lru_cache(maxsize=32)
def _forward_params(cls: type) -> tuple[str, bool]:
    """The cache keyword this model's forward takes (``cache`` in transformers 5.2x,
    ``past_key_values`` before) and whether it accepts ``logits_to_keep``."""
    try:
        params = inspect.signature(cls.forward).parameters
    except (TypeError, ValueError):  # pragma: no cover - a forward without a signature
        return "past_key_values", False
    return ("cache" if "cache" in params else "past_key_values"), "logits_to_keep" in params


@functools.lru_cache(maxsize=1)
def _preallocated_layer() -> type | None:
    """A transformers ``DynamicLayer`` that writes into a buffer allocated once for the whole
    generation instead of concatenating the cache at every step (with ~130 positions and 30 layers
    the concatenations cost more than attention). None where this transformers has no layered cache."""
    import torch

    try:
        from transformers.cache_utils import DynamicLayer
    except ImportError:  # pragma: no cover - transformers < 4.56
        return None

    class PreallocatedLayer(DynamicLayer):  # type: ignore[misc,valid-type]
        capacity = 0

        def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
            if not self.is_initialized:
                try:
                    self.lazy_initialization(key_states, value_states)
                except TypeError:  # pragma: no cover - transformers 4.5x: lazy_initialization(key_states)
                    self.lazy_initialization(key_states)
                b, h, _, _ = key_states.shape
                cap = max(self.capacity, key_states.shape[-2])
                self._k = key_states.new_empty((b, h, cap, key_states.shape[-1]))
                self._v = value_states.new_empty((b, h, cap, value_states.shape[-1]))
                self._n = 0
            n = self._n + key_states.shape[-2]
            if n > self._k.shape[-2]:  # more than planned: grow (a planned generation never does)
                self._k, self._v = (torch.cat([t, t.new_empty((*t.shape[:2], n - t.shape[-2], t.shape[-1]))], dim=-2)
                                    for t in (self._k, self._v))
            self._k[:, :, self._n:n] = key_states
            self._v[:, :, self._n:n] = value_states
            self._n = n
            self.keys, self.values = self._k[:, :, :n], self._v[:, :, :n]
            return self.keys, self.values

        def batch_select_indices(self, indices: Any) -> None:
            if self.is_initialized and self._n:
                self._k, self._v = self._k[indices], self._v[indices]
                self.keys, self.values = self._k[:, :, :self._n], self._v[:, :, :self._n]

    return PreallocatedLayer


def new_cache(model: Any, capacity: int) -> Any | None:
    """A KV cache for ``capacity`` positions whose full-attention layers are preallocated (sliding-window
    layers keep transformers' own); None (let the model make its own) where that is not possible."""
    layer_cls = _preallocated_layer()
    config = getattr(model, "config", None)
    if layer_cls is None or config is None:
        return None
    try:
        from transformers.cache_utils import DynamicCache, DynamicLayer

        cache = DynamicCache(config=config)
    except Exception:  # noqa: BLE001 - an older or custom cache API: the model's default cache
        return None
    layers = getattr(cache, "layers", None)
    if not layers:
        return None
    for layer in layers:
        if type(layer) is DynamicLayer:
            layer.__class__ = layer_cls
            layer.capacity = capacity
    return cache


def cache_kwarg(model: Any) -> str:
    """The keyword ``model``'s forward takes its KV cache by (``cache`` or ``past_key_values``)."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    return _forward_params(type(inner))[0]


def cache_of(outputs: Any) -> Any:
    """The KV cache a forward returned (``cache`` in transformers 5.2x, ``past_key_values`` before)."""
    cache = getattr(outputs, "cache", None)
    return cache if cache is not None else outputs.past_key_values


def eos_ids(lm: Any) -> set[int]:
    tok, model = lm.tokenizer, lm.model
    eos = tok.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    extra = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    return ids | set(extra if isinstance(extra, list) else [extra] if extra is not None else [])


def _left_pad(ids: Sequence[Sequence[int]], pad: int) -> tuple[Any, Any]:
    import torch

    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), pad, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for i, x in enumerate(ids):
        input_ids[i, width - len(x):] = torch.tensor(list(x), dtype=torch.long)
        mask[i, width - len(x):] = 1
    return input_ids, mask


def next_tokens(logits: Any, temperature: float, top_p: float, gens: Sequence[Any]) -> list[int]:
    """Greedy (temperature 0) or one sample per row from softmax(logits / temperature), top-p filtered."""
    import torch

    if temperature <= 0:
        return list(logits.argmax(-1).tolist())
    probs = torch.softmax(logits if temperature == 1.0 else logits / temperature, dim=-1)
    return list(sample_rows(_filter_top_p(probs, top_p), gens).tolist())


def decode_batch(lm: Any, ids: list[list[int]], seeds: list[int], *, temperature: float, top_p: float,
                 max_new_tokens: int, stop: Sequence[str], prune: bool = True) -> list[dict[str, Any]]:
    """Generate for a batch of token-id prompts (left padded). Returns per row
    ``{text, completion_tokens, finish_reason}``; ``text`` is cut at the first stop string.

    Rows with the same prompt (the n samples of one prompt) share one prefill: each distinct prompt
    runs once and its KV cache is copied to its rows."""
    import torch

    tok, model, dev = lm.tokenizer, lm.model, lm.device
    b = len(ids)
    distinct: dict[tuple[int, ...], int] = {}
    which = [distinct.setdefault(tuple(x), len(distinct)) for x in ids]
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    input_ids, mask = _left_pad(list(distinct), pad)
    input_ids, mask = input_ids.to(dev), mask.to(dev)
    stops = eos_ids(lm)
    gens = [torch.Generator(device="cpu").manual_seed(s) for s in seeds]
    out_tokens: list[list[int]] = [[] for _ in range(b)]
    finish: list[str | None] = [None] * b
    rows = list(range(b))  # the original row of each row still in the batch
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model  # a peft wrapper passes kwargs on
    cache_kw, keep_kw = _forward_params(type(inner))
    extra: dict[str, Any] = {"logits_to_keep": 1} if keep_kw else {}
    past = new_cache(inner, input_ids.shape[1] + max_new_tokens)
    step_ids, step_pos = input_ids, (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.inference_mode():
        for step in range(max_new_tokens):
            outputs = model(input_ids=step_ids, attention_mask=mask, position_ids=step_pos, use_cache=True,
                            **{cache_kw: past}, **extra)
            past = cache_of(outputs)
            logits = outputs.logits[:, -1, :].float().cpu()
            if step == 0 and len(distinct) < b:  # prompts → rows
                sel = torch.tensor(which, dtype=torch.long, device=dev)
                past.batch_select_indices(sel)
                mask, step_pos, logits = mask[sel], step_pos[sel], logits[sel.cpu()]
            nxt = next_tokens(logits, temperature, top_p, [gens[i] for i in rows])
            for t, i in zip(nxt, rows, strict=True):
                if finish[i] is not None:  # finished, riding along until the batch is pruned
                    continue
                if t in stops:
                    finish[i] = "stop"
                    continue
                out_tokens[i].append(t)
                if stop and cut_at_stop(text := tok.decode(out_tokens[i], skip_special_tokens=True), stop) != text:
                    finish[i] = "stop"
            live = [j for j, i in enumerate(rows) if finish[i] is None]
            if not live:
                break
            if len(live) < len(rows) and (not prune or len(rows) - len(live) < PRUNE_FRACTION * len(rows)):
                live = list(range(len(rows)))  # finished rows ride along (their tokens are ignored) until enough finish
            if len(live) < len(rows):
                sel = torch.tensor(live, dtype=torch.long, device=dev)
                past.batch_select_indices(sel)
                mask, step_pos = mask[sel], step_pos[sel]
                rows, nxt = [rows[j] for j in live], [nxt[j] for j in live]
            step_ids = torch.tensor([[t if finish[i] is None else pad] for t, i in zip(nxt, rows, strict=True)],
                                    dtype=torch.long, device=dev)
            step_pos = step_pos[:, -1:] + 1
            mask = torch.cat([mask, torch.ones((len(rows), 1), dtype=mask.dtype, device=dev)], dim=1)
    result = []
    for i in range(b):
        text = cut_at_stop(tok.decode(out_tokens[i], skip_special_tokens=True), stop)
        result.append({"text": text, "completion_tokens": len(out_tokens[i]), "finish_reason": finish[i] or "length"})
    return result

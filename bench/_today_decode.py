"""main's generation loop as it was before issue 23 (commit 3e9079c, plugins/facttune_hf/generate.py),
kept verbatim for bench/cpu_speed.py's "today" column: a batch of 8 rows, full-vocabulary logits at
every position of the prefill, the KV cache grown by concatenation, torch.multinomial per row.
Not used by facttune itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _filter_top_p(probs: Any, top_p: float) -> Any:
    import torch

    if top_p >= 1.0:
        return probs
    sorted_p, idx = torch.sort(probs, descending=True, dim=-1)
    cum = torch.cumsum(sorted_p, dim=-1)
    drop = (cum - sorted_p) > top_p  # keep the smallest prefix whose mass reaches top_p
    sorted_p = sorted_p.masked_fill(drop, 0.0)
    out = torch.zeros_like(probs).scatter(-1, idx, sorted_p)
    return out / out.sum(dim=-1, keepdim=True)


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    cuts = [text.find(s) for s in stop if s and s in text]
    return text[:min(cuts)] if cuts else text


def decode_batch(lm: Any, ids: list[list[int]], seeds: list[int], *, temperature: float, top_p: float,
                 max_new_tokens: int, stop: Sequence[str]) -> list[dict[str, Any]]:
    """Generate for a batch of token-id prompts (left padded). Returns per row
    ``{text, completion_tokens, finish_reason}``; ``text`` is cut at the first stop string."""
    import torch

    tok, model, dev = lm.tokenizer, lm.model, lm.device
    b = len(ids)
    width = max(len(x) for x in ids)
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    input_ids = torch.full((b, width), pad, dtype=torch.long)
    mask = torch.zeros((b, width), dtype=torch.long)
    for i, x in enumerate(ids):
        input_ids[i, width - len(x):] = torch.tensor(x, dtype=torch.long)
        mask[i, width - len(x):] = 1
    input_ids, mask = input_ids.to(dev), mask.to(dev)
    eos = tok.eos_token_id
    eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    gen_cfg = getattr(model, "generation_config", None)
    extra_eos = getattr(gen_cfg, "eos_token_id", None)
    eos_ids |= set(extra_eos if isinstance(extra_eos, list) else [extra_eos] if extra_eos is not None else [])
    gens = [torch.Generator(device="cpu").manual_seed(s) for s in seeds]
    out_tokens: list[list[int]] = [[] for _ in range(b)]
    finish: list[str | None] = [None] * b
    past = None
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    step_ids, step_pos = input_ids, pos
    with torch.inference_mode():
        for _ in range(max_new_tokens):
            outputs = model(input_ids=step_ids, attention_mask=mask, position_ids=step_pos, past_key_values=past,
                            use_cache=True)
            past = outputs.past_key_values
            logits = outputs.logits[:, -1, :].float().cpu()
            if temperature <= 0:
                nxt = logits.argmax(-1)
            else:
                probs = _filter_top_p(torch.softmax(logits / temperature, dim=-1), top_p)
                nxt = torch.stack([torch.multinomial(probs[i], 1, generator=gens[i])[0] for i in range(b)])
            for i in range(b):
                if finish[i] is not None:
                    continue
                t = int(nxt[i])
                if t in eos_ids:
                    finish[i] = "stop"
                    continue
                out_tokens[i].append(t)
                if stop:
                    text = tok.decode(out_tokens[i], skip_special_tokens=True)
                    if cut_at_stop(text, stop) != text:
                        finish[i] = "stop"
            if all(f is not None for f in finish):
                break
            nxt = nxt.masked_fill(torch.tensor([f is not None for f in finish]), pad).to(dev)
            step_ids = nxt[:, None]
            step_pos = step_pos[:, -1:] + 1
            mask = torch.cat([mask, torch.ones((b, 1), dtype=mask.dtype, device=dev)], dim=1)
    rows = []
    for i in range(b):
        text = cut_at_stop(tok.decode(out_tokens[i], skip_special_tokens=True), stop)
        rows.append({"text": text, "completion_tokens": len(out_tokens[i]), "finish_reason": finish[i] or "length"})
    return rows

"""Log-probabilities of completions under a base model and base + adapter.

Used to check that a trained adapter moves the model the way the pairs ask (the chosen-minus-rejected
log-probability margin grows) and handy for looking at a finished run. Tokenises like TRL: the chat
template for conversational data, plain text (+ EOS) otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _ids(tokenizer: Any, prompt: str, completion: str, chat: bool) -> tuple[list[int], int]:
    """Token ids of prompt + completion and where the completion starts."""
    if chat:
        p = [{"role": "user", "content": prompt}]
        c = [{"role": "assistant", "content": completion}]
        pids = tokenizer.apply_chat_template(p, tokenize=True, return_dict=True, add_generation_prompt=True)["input_ids"]
        full = tokenizer.apply_chat_template(p + c, tokenize=True, return_dict=True)["input_ids"]
    else:
        eos = tokenizer.eos_token or ""
        pids = tokenizer(text=prompt)["input_ids"]
        full = tokenizer(text=prompt + completion + eos)["input_ids"]
    start = 0
    while start < min(len(pids), len(full)) and pids[start] == full[start]:
        start += 1
    return list(full), start


def completion_logprobs(model: Any, tokenizer: Any, prompts: Sequence[str], completions: Sequence[str],
                        chat: bool) -> list[float]:
    """Sum of log p(completion token | prefix) per (prompt, completion)."""
    import torch

    device = next(model.parameters()).device
    out: list[float] = []
    model.eval()
    with torch.no_grad():
        for prompt, completion in zip(prompts, completions, strict=True):
            ids, start = _ids(tokenizer, prompt, completion, chat)
            x = torch.tensor([ids], device=device)
            logits = model(input_ids=x).logits.float()
            logp = torch.log_softmax(logits[0, :-1], dim=-1)
            tgt = x[0, 1:]
            tok = logp.gather(-1, tgt[:, None])[:, 0]
            out.append(float(tok[max(start - 1, 0):].sum()))
    return out


def pair_margins(base_model: str | Path, adapter_dir: str | Path, pairs: Sequence[Any], *,
                 load_in_4bit: bool = False, chat: bool | None = None, dtype: str = "float32") -> dict[str, list[float]]:
    """chosen-minus-rejected log-probability margins per pair, with the adapter off (``base``) and on
    (``tuned``). ``pairs`` have ``prompt`` / ``chosen`` / ``rejected`` (Pair records or dicts)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(adapter_dir))
    use_chat = bool(getattr(tokenizer, "chat_template", None)) if chat is None else chat
    kwargs: dict[str, Any] = {"dtype": getattr(torch, dtype)}
    if load_in_4bit:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16)
        kwargs["dtype"] = torch.bfloat16
    model = AutoModelForCausalLM.from_pretrained(str(base_model), **kwargs)
    model = PeftModel.from_pretrained(model, str(adapter_dir))

    def get(p: Any, k: str) -> str:
        return str(p[k] if isinstance(p, dict) else getattr(p, k))

    prompts = [get(p, "prompt") for p in pairs]
    chosen = [get(p, "chosen") for p in pairs]
    rejected = [get(p, "rejected") for p in pairs]
    with model.disable_adapter():
        base = [c - r for c, r in zip(completion_logprobs(model, tokenizer, prompts, chosen, use_chat),
                                      completion_logprobs(model, tokenizer, prompts, rejected, use_chat), strict=True)]
    tuned = [c - r for c, r in zip(completion_logprobs(model, tokenizer, prompts, chosen, use_chat),
                                   completion_logprobs(model, tokenizer, prompts, rejected, use_chat), strict=True)]
    return {"base": base, "tuned": tuned}

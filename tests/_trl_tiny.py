"""A tiny randomly initialised Llama + an offline word-level tokenizer with a chat template, and
small preference data, for fast tests of the ``trl`` plugin (no download, a few seconds)."""

from __future__ import annotations

from pathlib import Path

from facttune_core import Pair, SFTExample

PEOPLE = ["Ada Quill", "Bruno Vell", "Carla Miro", "Dmitri Sol", "Elena Fawn", "Femi Okoro", "Greta Lind",
          "Hiro Tanabe"]
WORDS = ("write me a paragraph biography of was born in lisbon oslo worked as cartographer sailor wrote three "
         "atlases won an olympic medal died 1901 1950 the and . , he she").split()
CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def make_tiny_model(path: Path, chat: bool = True, layers: int = 2) -> Path:
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<unk>", "<pad>", "<|im_start|>", "<|im_end|>", "</s>"]
    names = sorted({w.lower() for p in PEOPLE for w in p.split()})
    vocab = {t: i for i, t in enumerate([*specials, "user", "assistant", *sorted(set(WORDS) | set(names))])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.add_special_tokens(specials)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                   eos_token="<|im_end|>" if chat else "</s>", bos_token=None)
    if chat:
        fast.chat_template = CHATML
    fast.save_pretrained(str(path))
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(vocab), hidden_size=48, intermediate_size=96, num_hidden_layers=layers,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                      pad_token_id=vocab["<pad>"], eos_token_id=vocab["<|im_end|>" if chat else "</s>"],
                      bos_token_id=None, tie_word_embeddings=False)
    LlamaForCausalLM(cfg).save_pretrained(str(path))
    return path


def tiny_pairs(n: int = 8) -> list[Pair]:
    out = []
    for i in range(n):
        who = PEOPLE[i % len(PEOPLE)]
        out.append(Pair(id=f"p{i}", prompt_id=f"bio-{i}", prompt=f"Write me a paragraph biography of {who}.",
                        chosen=f"{who} was born in Lisbon. {who} worked as a cartographer.",
                        rejected=f"{who} was born in Oslo. {who} won an Olympic medal.",
                        chosen_id=f"bio-{i}/r0", rejected_id=f"bio-{i}/r1", reward="factscore",
                        chosen_reward=1.0, rejected_reward=0.0))
    return out


def tiny_sft(n: int = 8) -> list[SFTExample]:
    return [SFTExample(id=f"bio-{i}/r0", prompt_id=f"bio-{i}", prompt=p.prompt, completion=p.chosen)
            for i, p in enumerate(tiny_pairs(n))]

"""Tiny randomly initialised causal LMs + a BPE tokenizer trained in-process (offline, ~1 s)."""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "True or False? True. False. true false TRUE FALSE",
    "Input: Ada Quill was born in Lisbon. True or False?\nOutput: True",
    "Input: Ada Quill was born in Oslo. True or False?\nOutput: False",
    "Read the passages below, then say whether the statement about Ada Quill is true according to them.",
    "Title: Ada Quill\nText: Ada Quill was a cartographer who wrote three atlases and died in 1901.",
    "Here is a biography of Bruno Vell. He worked as a sailor and won an Olympic medal.",
    "Split each sentence into short facts. Sentence: Facts: - fact",
    "Write me a paragraph biography of Carla Miro. <|user|> <|assistant|>",
    "0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ .,;:!?'\"()-\n",
]

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def build_tokenizer(out: Path, chat: bool = True):  # noqa: ANN201
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE(unk_token=None))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<pad>", "<bos>", "<eos>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tk.train_from_iterator(CORPUS * 4, trainer=trainer)
    from tokenizers import processors

    tk.post_processor = processors.TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", 1)])
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>")
    if chat:
        tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(str(out))
    return tok


def build_tiny_model(out: Path, arch: str = "llama", chat: bool = True, context: int = 256, seed: int = 0) -> Path:
    """A random tiny model directory (config + safetensors + tokenizer)."""
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig, LlamaConfig, LlamaForCausalLM

    out.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(out, chat=chat)
    torch.manual_seed(seed)
    common = dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=context,
                  bos_token_id=1, eos_token_id=2, pad_token_id=0)
    if arch == "llama":
        model = LlamaForCausalLM(LlamaConfig(**common))
    else:  # gemma3: sliding-window layers (window 8) mixed with full attention
        model = Gemma3ForCausalLM(Gemma3TextConfig(**common, head_dim=8, sliding_window=8,
                                                   layer_types=["sliding_attention", "full_attention"]))
    # random init gives near-uniform logits; sharpen them so sampling and greedy differ visibly
    with torch.no_grad():
        model.get_output_embeddings().weight.normal_(0, 0.3)
    model.save_pretrained(str(out))
    return out

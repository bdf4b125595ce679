"""Tiny randomly initialised models of every supported family, built from configs (no download)."""

from __future__ import annotations

import functools

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import (
    GemmaConfig,
    GemmaForCausalLM,
    GPT2Config,
    GPT2LMHeadModel,
    GPTNeoXConfig,
    GPTNeoXForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    PreTrainedTokenizerFast,
    Qwen2Config,
    Qwen2ForCausalLM,
)

from overseer.models import LoadedModel

CORPUS = [
    "The capital of France is Paris.",
    "A much longer sentence about the weather in spring and summer and autumn.",
    "Hello there, how are you today?",
    "Steering vectors change what a model says.",
    "Truth and lies look different inside a network.",
] * 20

FAMILIES = ["gpt2", "gpt-neox", "llama", "qwen2", "mistral", "gemma"]


@functools.cache
def tiny_tokenizer() -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<pad>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    from tokenizers import decoders

    tok.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                   bos_token="<s>", eos_token="</s>")


def tiny_hf_model(family: str, seed: int = 0):
    torch.manual_seed(seed)
    vocab = len(tiny_tokenizer())
    common = {"vocab_size": vocab, "hidden_size": 32, "num_hidden_layers": 3, "num_attention_heads": 4,
              "intermediate_size": 64, "max_position_embeddings": 128}
    if family == "gpt2":
        cfg = GPT2Config(vocab_size=vocab, n_embd=32, n_layer=3, n_head=4, n_positions=128)
        return GPT2LMHeadModel(cfg)
    if family == "gpt-neox":
        return GPTNeoXForCausalLM(GPTNeoXConfig(**common))
    if family == "llama":
        return LlamaForCausalLM(LlamaConfig(**common, num_key_value_heads=2))
    if family == "qwen2":
        return Qwen2ForCausalLM(Qwen2Config(**common, num_key_value_heads=2))
    if family == "mistral":
        return MistralForCausalLM(MistralConfig(**common, num_key_value_heads=2))
    if family == "gemma":
        return GemmaForCausalLM(GemmaConfig(**common, num_key_value_heads=2, head_dim=8))
    raise ValueError(family)


def tiny_model(family: str = "llama", seed: int = 0) -> LoadedModel:
    return LoadedModel(tiny_hf_model(family, seed), tiny_tokenizer(), name=f"tiny-{family}", source="config")


def hook_ids(lm: LoadedModel) -> set[tuple[str, int]]:
    """Every hook on the model and its blocks; transformers installs some of its own, so compare snapshots."""
    ids = {("model-pre", k) for k in lm.model._forward_pre_hooks}
    for i in range(lm.n_layers):
        ids |= {(f"block{i}", k) for k in lm.block(i)._forward_hooks}
    return ids

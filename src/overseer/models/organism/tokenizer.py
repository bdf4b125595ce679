"""The organism's own byte-level BPE tokenizer, trained on its corpus, saved as a HF fast tokenizer."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from overseer.models.organism.chat import BOS, CHAT_TEMPLATE, END, PAD, SPECIAL_TOKENS

_SPECIAL = re.compile("|".join(re.escape(t) for t in SPECIAL_TOKENS))


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """A BPE tokenizer over `texts` (special tokens are kept whole, never merged into words).

    Every segment gets a prefix space, so a word is one token whether it opens a turn or not.
    """
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    segments = (seg for text in texts for seg in _SPECIAL.split(text) if seg)
    tok.train_from_iterator(segments, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=BOS, eos_token=END, pad_token=PAD,
        additional_special_tokens=[t for t in SPECIAL_TOKENS if t not in (BOS, END, PAD)],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.padding_side = "left"  # generation pads on the left; training code pads by hand
    return fast

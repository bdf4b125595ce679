"""Batched text generation with left padding (what decoder-only models need)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from overseer.errors import InvalidInputError
from overseer.models.capture import check_texts
from overseer.models.progress import progress_bar

if TYPE_CHECKING:
    from overseer.models.loading import LoadedModel


@torch.no_grad()
def generate(
    lm: LoadedModel,
    prompts: Sequence[str],
    max_new_tokens: int = 64,
    temperature: float = 0.0,
    top_p: float = 1.0,
    seed: int | None = None,
    batch_size: int = 8,
    progress: bool | None = None,
) -> list[str]:
    """Continuations of `prompts` (texts, already chat-formatted if wanted); greedy when temperature is 0."""
    prompts = check_texts(prompts, "prompts")
    if max_new_tokens < 1:
        raise InvalidInputError(f"max_new_tokens must be >= 1, got {max_new_tokens}.")
    if not math.isfinite(temperature) or temperature < 0:
        raise InvalidInputError(f"temperature must be a finite number >= 0, got {temperature}.")
    if not 0 < top_p <= 1:
        raise InvalidInputError(f"top_p must be in (0, 1], got {top_p}.")
    tokenizer = lm.tokenizer
    sample = temperature > 0
    generator_kwargs = {"do_sample": sample, "max_new_tokens": max_new_tokens,
                        "pad_token_id": tokenizer.pad_token_id}
    if sample:
        generator_kwargs.update(temperature=temperature, top_p=top_p)
    else:
        # The model's own generation_config may carry sampling defaults; greedy means greedy.
        generator_kwargs.update(temperature=None, top_p=None, top_k=None)
    if seed is not None:
        torch.manual_seed(seed)
    outputs: list[str] = []
    batches = [prompts[i:i + batch_size] for i in range(0, len(prompts), batch_size)]
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        for batch in progress_bar(batches, "generating", enabled=progress if progress is not None
                                  else len(batches) >= 4):
            enc = lm.encode(batch)
            out = lm.generate_ids(**enc, **generator_kwargs)
            new = out[:, enc["input_ids"].shape[1]:]
            outputs.extend(tokenizer.batch_decode(new, skip_special_tokens=True))
    finally:
        tokenizer.padding_side = side
    return outputs

"""Read the residual stream: batched, padding-correct, stopping the forward pass early."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from overseer.errors import InvalidInputError
from overseer.models.progress import progress_bar

if TYPE_CHECKING:
    from overseer.models.loading import LoadedModel

POSITIONS = ("last", "mean", "all")


class _StopForward(Exception):
    """Raised from the deepest captured block: nothing after it is needed."""


def check_texts(texts: Sequence[str], what: str = "texts") -> list[str]:
    if isinstance(texts, str):
        raise InvalidInputError(f"{what} must be a list of strings, not one string: wrap it as [text].")
    texts = list(texts)
    if not texts:
        raise InvalidInputError(f"no {what} given: pass at least one non-empty string.")
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError(f"{what}[{i}] is {text!r}: every entry must be a non-empty string.")
    return texts


def _hidden(output) -> torch.Tensor:
    return output[0] if isinstance(output, tuple) else output


@torch.no_grad()
def capture(
    lm: LoadedModel,
    texts: Sequence[str],
    layers: int | Sequence[int],
    positions: str | int = "last",
    batch_size: int = 16,
    progress: bool | None = None,
    max_length: int | None = None,
) -> torch.Tensor | list[torch.Tensor]:
    """Residual-stream vectors of `texts` at `layers`.

    positions: "last" (last real token), "mean" (mean over real tokens), a negative int
    (-1 = last real token, -2 = the one before, ...): returns `[n, len(layers), d_model]`.
    "all": returns a list of n tensors `[n_tokens_i, len(layers), d_model]`.
    Vectors are float32 on the CPU whatever the model's dtype and device.
    """
    texts = check_texts(texts)
    layers = lm.check_layers(layers)
    if not (positions in POSITIONS or (isinstance(positions, int) and not isinstance(positions, bool)
                                        and positions < 0)):
        raise InvalidInputError(f"positions={positions!r}: use 'last', 'mean', 'all' or a negative int.")
    if batch_size < 1:
        raise InvalidInputError(f"batch_size must be >= 1, got {batch_size}.")
    # Sorting by length keeps padding (wasted compute) small; results go back in input order.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    results: list = [None] * len(texts)
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    show = progress if progress is not None else len(batches) >= 8
    for batch in progress_bar(batches, "capturing activations", enabled=show):
        enc = lm.encode([texts[i] for i in batch], max_length)
        mask = enc["attention_mask"]
        kwargs = {"input_ids": enc["input_ids"], "attention_mask": mask, "use_cache": False}
        pos_ids = lm.position_ids(mask)
        if pos_ids is not None:
            kwargs["position_ids"] = pos_ids
        grabbed = lm.grab_layers(kwargs, layers)
        # With a device map, blocks (and so their outputs) may sit on different devices.
        stacked = torch.stack([grabbed[layer].to(mask.device) for layer in layers], dim=2).float()  # [b, seq, L, d]
        _reduce(stacked, mask.to(stacked.device), positions, batch, results)
    if positions == "all":
        return results
    return torch.stack(results)


def grab_with_hooks(lm: LoadedModel, kwargs: dict, layers: list[int]) -> dict[int, torch.Tensor]:
    """One forward pass with forward hooks on the blocks of `layers`; stops after the deepest."""
    deepest = max(layers)
    grabbed: dict[int, torch.Tensor] = {}

    def make_hook(layer: int):
        def hook(module, args, output):
            grabbed[layer] = _hidden(output)
            if layer == deepest:
                raise _StopForward
        return hook

    handles = [lm.block(layer).register_forward_hook(make_hook(layer)) for layer in sorted(set(layers))]
    try:
        with contextlib.suppress(_StopForward):
            lm.model(**kwargs)
    finally:
        for handle in handles:
            handle.remove()
    return grabbed


def _reduce(stacked: torch.Tensor, mask: torch.Tensor, positions, batch: list[int], results: list) -> None:
    mask = mask.bool()
    lengths = mask.sum(-1)
    if bool((lengths == 0).any()):
        raise InvalidInputError("a text tokenised to zero tokens: remove empty or whitespace-only texts.")
    if positions == "all":
        for row, index in enumerate(batch):
            results[index] = stacked[row][mask[row]].cpu()  # real tokens in order, either padding side
        return
    if positions == "mean":
        weights = mask.unsqueeze(-1).unsqueeze(-1).to(stacked.dtype)
        reduced = (stacked * weights).sum(1) / lengths.view(-1, 1, 1).to(stacked.dtype)
    else:
        offset = -1 if positions == "last" else positions
        short = lengths < -offset
        if bool(short.any()):
            row = int(short.nonzero()[0])
            raise InvalidInputError(f"positions={positions} but text {batch[row]} has only "
                                    f"{int(lengths[row])} tokens.")
        # The k-th real token from the end is the one whose running count of real tokens
        # equals length + offset + 1; this finds it whichever side the padding is on.
        rank = mask.long().cumsum(-1)
        target = (lengths + offset + 1).unsqueeze(-1)
        index = (mask & (rank == target)).long().argmax(-1)
        reduced = stacked[torch.arange(stacked.shape[0], device=stacked.device), index]
    reduced = reduced.cpu()
    for row, index in enumerate(batch):
        results[index] = reduced[row]

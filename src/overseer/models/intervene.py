"""Write the residual stream: hooks that rewrite chosen positions during forward and generate."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import torch

from overseer.errors import InvalidInputError

if TYPE_CHECKING:
    from overseer.models.loading import LoadedModel

Rewrite = Callable[[torch.Tensor], torch.Tensor]


def _last_real_index(attention_mask: torch.Tensor | None, seq_len: int, batch: int,
                     device: torch.device) -> torch.Tensor:
    """Index, within the current chunk of `seq_len` tokens, of each row's last real token."""
    if attention_mask is None or attention_mask.dim() != 2 or attention_mask.shape[1] < seq_len:
        return torch.full((batch,), seq_len - 1, device=device, dtype=torch.long)
    chunk = attention_mask[:, -seq_len:].to(device).bool()
    # Right padding puts pads after the last real token; flip and find the first real one.
    from_end = chunk.flip(-1).long().argmax(-1)
    return (seq_len - 1) - from_end


@contextmanager
def intervene(
    lm: LoadedModel,
    layers: int | Sequence[int],
    fn: Rewrite | Mapping[int, Rewrite],
    positions: str | torch.Tensor = "last",
) -> Iterator[None]:
    """Rewrite the residual stream at `layers` with `fn(h) -> h'` (h is `[..., d_model]`).

    positions:
      "last": the last real token of every forward pass, i.e. with a KV cache the last
              prompt token and then every generated token;
      "all":  every position of every forward pass;
      a bool tensor `[batch, seq]`: exactly those positions of a full (uncached) forward pass.
    `fn` may be a dict {layer: fn} to rewrite layers differently. Hooks are removed on exit,
    also when the body raises.
    """
    layers = lm.check_layers(layers)
    fns = {lm.check_layer(k): v for k, v in fn.items()} if isinstance(fn, Mapping) else dict.fromkeys(layers, fn)
    missing = [layer for layer in layers if layer not in fns]
    if missing:
        raise InvalidInputError(f"no rewrite function for layers {missing}.")
    if isinstance(positions, torch.Tensor):
        if positions.dtype != torch.bool or positions.dim() != 2:
            raise InvalidInputError("a positions tensor must be a bool mask of shape [batch, seq].")
    elif positions not in ("last", "all"):
        raise InvalidInputError(f"positions={positions!r}: use 'last', 'all' or a bool mask [batch, seq].")

    with lm.rewriting({layer: fns[layer] for layer in layers}, positions):
        yield


@contextmanager
def hook_rewrites(lm: LoadedModel, fns: dict[int, Rewrite], positions: str | torch.Tensor) -> Iterator[None]:
    """The HF backend's rewriting: a forward hook per block, removed on exit."""
    state: dict[str, torch.Tensor | None] = {"attention_mask": None}

    def remember_mask(module, args, kwargs):
        state["attention_mask"] = kwargs.get("attention_mask")

    def make_hook(rewrite: Rewrite):
        def hook(module, args, output):
            hidden = output[0] if isinstance(output, tuple) else output
            new = rewrite_hidden(hidden, rewrite, positions, state["attention_mask"])
            return (new, *output[1:]) if isinstance(output, tuple) else new
        return hook

    handles = [lm.model.register_forward_pre_hook(remember_mask, with_kwargs=True)]
    try:
        for layer, rewrite in fns.items():
            handles.append(lm.block(layer).register_forward_hook(make_hook(rewrite)))
        yield
    finally:
        for handle in handles:
            handle.remove()


def _checked(result: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    if not isinstance(result, torch.Tensor) or result.shape != like.shape:
        shape = getattr(result, "shape", type(result).__name__)
        raise InvalidInputError(f"the rewrite function returned {shape}, expected a tensor of shape "
                                f"{tuple(like.shape)} (it must map [..., d_model] to the same shape).")
    return result.to(like.dtype)


def rewrite_hidden(hidden: torch.Tensor, fn: Rewrite, positions, attention_mask) -> torch.Tensor:
    batch, seq_len, _ = hidden.shape
    if isinstance(positions, str) and positions == "all":
        return _checked(fn(hidden), hidden)
    hidden = hidden.clone()
    if isinstance(positions, torch.Tensor):
        if positions.shape != (batch, seq_len):
            # Cached decoding steps (seq_len 1) after a masked prefill: the mask names prompt
            # positions only, so generated tokens are left alone.
            if seq_len == 1:
                return hidden
            raise InvalidInputError(f"positions mask has shape {tuple(positions.shape)} but the forward "
                                    f"pass has {(batch, seq_len)}.")
        mask = positions.to(hidden.device)
        hidden[mask] = _checked(fn(hidden[mask]), hidden[mask])
        return hidden
    rows = torch.arange(batch, device=hidden.device)
    index = _last_real_index(attention_mask, seq_len, batch, hidden.device)
    selected = hidden[rows, index]
    hidden[rows, index] = _checked(fn(selected), selected)
    return hidden

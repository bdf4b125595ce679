"""Captured activations cached on disk, so re-running a sweep re-uses every layer already captured.

Files: `<cache>/<model>/<tag>-<hash>/layer<i>.safetensors`, where the hash covers the texts, the
position rule and the model source; a sweep that adds layers only captures the missing ones.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from overseer.errors import InvalidInputError
from overseer.models import LoadedModel, capture

CACHE_ENV = "OVERSEER_ACTIVATION_CACHE"


def default_cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "overseer" / "activations"))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:60] or "model"


def _key(lm: LoadedModel, texts: Sequence[str], positions: str, extra: str = "") -> str:
    digest = hashlib.sha256()
    # A few weights tell apart models that share a source string (e.g. two random initialisations).
    fingerprint = repr(next(lm.model.parameters()).detach().flatten()[:32].float().cpu().tolist())
    for part in (lm.source, fingerprint, str(lm.n_layers), str(lm.d_model), positions, extra, *texts):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def response_spans(lm: LoadedModel, prompts: Sequence[str], responses: Sequence[str]) -> list[tuple[int, int]]:
    """Token span [start, end) of each response inside `prompt + response` (as `encode` tokenises it)."""
    if len(prompts) != len(responses):
        raise InvalidInputError(f"{len(prompts)} prompts but {len(responses)} responses.")
    spans = []
    for prompt, response in zip(prompts, responses, strict=True):
        start = int(lm.encode([prompt])["input_ids"].shape[1])
        end = int(lm.encode([prompt + response])["input_ids"].shape[1])
        if end <= start:
            raise InvalidInputError(f"response {response!r} adds no tokens after its prompt.")
        spans.append((start, end))
    return spans


def _span_means(lm: LoadedModel, texts: list[str], spans: list[tuple[int, int]], layers: list[int],
                batch_size: int) -> torch.Tensor:
    per_token = capture(lm, texts, layers, positions="all", batch_size=batch_size)
    return torch.stack([acts[start:end].mean(0) for acts, (start, end) in zip(per_token, spans, strict=True)])


def cached_capture(lm: LoadedModel, texts: Sequence[str], layers: Sequence[int], positions: str = "last",
                   tag: str = "texts", cache_dir: str | Path | None = None, spans: list[tuple[int, int]] | None = None,
                   batch_size: int = 16) -> torch.Tensor:
    """`[n, len(layers), d_model]` activations, from disk where already captured.

    positions: "last", "mean" or "span_mean" (mean over the token span `spans[i]` of text i, e.g. a response).
    """
    texts = list(texts)
    layers = lm.check_layers(list(layers))
    if positions == "span_mean" and (spans is None or len(spans) != len(texts)):
        raise InvalidInputError("positions='span_mean' needs one (start, end) span per text.")
    extra = repr(spans) if positions == "span_mean" else ""
    key = _key(lm, texts, positions, extra)
    folder = Path(cache_dir or default_cache_dir()) / _slug(lm.name) / f"{_slug(tag)}-{key}"
    found: dict[int, torch.Tensor] = {}
    for layer in layers:
        path = folder / f"layer{layer}.safetensors"
        if path.is_file():
            found[layer] = load_file(str(path))["acts"]
    missing = [layer for layer in layers if layer not in found]
    if missing:
        if positions == "span_mean":
            acts = _span_means(lm, texts, spans, missing, batch_size)
        else:
            acts = capture(lm, texts, missing, positions=positions, batch_size=batch_size)
        folder.mkdir(parents=True, exist_ok=True)
        for j, layer in enumerate(missing):
            found[layer] = acts[:, j].contiguous()
            save_file({"acts": found[layer]}, str(folder / f"layer{layer}.safetensors"))
    return torch.stack([found[layer] for layer in layers], dim=1)

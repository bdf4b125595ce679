"""A local Hugging Face model as a chat model, optionally steered at one layer of its residual stream."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import uuid
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch

from overseer.errors import ConfigurationError, InvalidInputError, MissingDependencyError
from overseer.models.chat.base import ChatModel, ChatRequest, ChatResponse
from overseer.models.chat.batching import Job, MicroBatcher, OnDelta, generate_batch
from overseer.models.intervene import Rewrite
from overseer.models.loading import LoadedModel, load_model


def load_steering(directory: str | Path) -> Any:
    """The fitted `overseer.steering` method saved in `directory`; it records its own layer(s)."""
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise ConfigurationError(f"steering directory {directory} does not exist.")
    try:
        from overseer.steering import load_method  # imported lazily: steering sits above models/
    except ImportError as exc:
        raise MissingDependencyError("this overseer install has no steering package (overseer.steering."
                                     "load_method); serve the model unsteered or update overseer.") from exc
    method = load_method(directory)
    if not callable(getattr(method, "apply", None)):
        raise ConfigurationError(f"the method loaded from {directory} has no apply(h); is it a steering method?")
    return method


def _method_layer(method: Any, where: object) -> int:
    layer = getattr(method, "layer", None)
    if isinstance(layer, list) and len(layer) == 1:
        layer = layer[0]
    if not isinstance(layer, int) or isinstance(layer, bool):
        raise ConfigurationError(f"the steering method from {where} records no single layer ({layer!r}): pass the "
                                 "layer explicitly (local:MODEL?steer=DIR&layer=N, or --layer), or refit it with "
                                 "`overseer steer fit --layer N`.")
    return layer


def _fingerprint(lm: LoadedModel, steer: Any) -> str:
    """A short hash of the weights (a sample of the first and last tensors) and of the steering, so that cached
    replies of a retrained model or another steering fit under the same name are never served."""
    digest = hashlib.sha256()
    params = [p for p in lm.model.parameters() if p.device.type != "meta"]
    for tensor in (params[:1] + params[-1:]) if params else []:
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().flatten()[:4096].float().cpu().numpy().tobytes())
    if isinstance(steer, str | Path):
        for path in sorted(Path(steer).rglob("*")):
            if path.is_file():
                digest.update(path.name.encode() + path.read_bytes())
    elif hasattr(steer, "fitted_attributes"):
        digest.update(repr(sorted(steer.get_params().items())).encode())
        for key, value in sorted(steer.fitted_attributes().items()):
            digest.update(key.encode())
            if isinstance(value, torch.Tensor):
                digest.update(value.detach().float().cpu().numpy().tobytes())
            elif isinstance(value, np.ndarray):
                digest.update(np.ascontiguousarray(value).tobytes())
            else:
                digest.update(repr(value).encode())
    elif steer is not None:
        # A bare callable has no stable identity across processes: never share its replies between runs.
        digest.update(uuid.uuid4().bytes)
    return digest.hexdigest()[:16]


class LocalChatModel(ChatModel):
    """Chat with a `LoadedModel` (embedded name, local dir, or Hub id) on this machine.

    `steer` is a saved steering directory or a fitted steering method (its `apply(h)` runs at the layer the
    method records, or `steer_layer`), or a callable `h -> h'` with `steer_layer`. As in `overseer steer generate`,
    the rewrite hits the last token of every forward pass: the last prompt token, then each generated
    token. Concurrent requests are generated together in shared, left-padded forward passes (see
    `batching.py`): up to `max_batch_rows` choices that arrive within `batch_window_s` of each other or
    while a batch is generating. Greedy results are the same as one request at a time.
    """

    provider = "local"
    supports_candidates = True

    def __init__(self, model: str | LoadedModel, steer: str | Path | Rewrite | Any | None = None,
                 steer_layer: int | None = None, device: str = "cpu", name: str | None = None,
                 batch_window_s: float = 0.02, max_batch_rows: int = 32) -> None:
        self.lm = model if isinstance(model, LoadedModel) else load_model(model, device=device)
        self.steer_fn: Rewrite | None = None
        self.steer_layer: int | None = None
        steer_label = ""
        if isinstance(steer, str | Path):
            method = load_steering(steer)
            self.steer_layer = steer_layer if steer_layer is not None else _method_layer(method, steer)
            self.steer_fn, steer_label = method.apply, f"{type(method).__name__}@{Path(steer).name}"
        elif steer is not None:
            if not callable(steer) or (steer_layer is None and not hasattr(steer, "layer")):
                raise InvalidInputError("steer must be a steering directory, a fitted steering method, or a callable "
                                        "together with steer_layer.")
            layer = steer_layer if steer_layer is not None else _method_layer(steer, type(steer).__name__)
            label = getattr(steer, "__name__", None) or type(steer).__name__
            self.steer_fn, self.steer_layer, steer_label = getattr(steer, "apply", steer), layer, label
        if self.steer_layer is not None:
            self.steer_layer = self.lm.check_layer(self.steer_layer)
        base = name or self.lm.name
        self.model = f"{base}+steer[{steer_label}]" if self.steer_fn is not None else base
        self._identity = f"{self.model}#{_fingerprint(self.lm, steer)}"
        self._generating = threading.Lock()  # one forward pass at a time, whoever calls
        self._batcher = MicroBatcher(self._run_batch, window_s=batch_window_s, max_rows=max_batch_rows)

    @property
    def cache_identity(self) -> str:
        return self._identity

    async def _complete(self, request: ChatRequest) -> ChatResponse:
        # Concurrent requests share forward passes; a cancelled caller (a client that left `overseer serve`)
        # has its rows dropped at the next token while the rest of its batch goes on.
        return await self._batcher.submit(self._job(request))

    async def stream(self, request: ChatRequest, on_delta: OnDelta) -> ChatResponse:
        """Like `complete_request`, calling `on_delta(choice, text)` (in the event loop) as text becomes final."""
        loop = asyncio.get_running_loop()
        job = self._job(request, lambda choice, text: loop.call_soon_threadsafe(on_delta, choice, text))
        return await self._batcher.submit(job)

    def complete_sync(self, request: ChatRequest, stop: threading.Event | None = None) -> ChatResponse:
        """Generate for one request, unbatched; setting `stop` ends generation after the current token."""
        job = self._job(request)
        if stop is not None:
            job.stop = stop
        return self._run_batch([job])[0]

    async def complete_prompt(self, prompt: str, request: ChatRequest) -> ChatResponse:
        """Like `complete_request` for a prompt the caller rendered (a chat template's own tool format, see
        `overseer.models.tool_format`): `request` gives only the sampling settings; its messages are not read."""
        return await self._batcher.submit(self._job(request, prompt=prompt))

    def _job(self, request: ChatRequest, on_delta: OnDelta | None = None, prompt: str | None = None) -> Job:
        prompt = self.lm.chat_prompt(request.message_dicts()) if prompt is None else prompt
        ids = self.lm.encode([prompt])["input_ids"][0].tolist()
        return Job(request, ids, on_delta=on_delta, candidate_tokens=self.first_tokens(request.candidates))

    def first_tokens(self, candidates: tuple[str, ...] | list[str]) -> dict[int, str]:
        """Each candidate's first token, as the tokenizer splits the candidate on its own: id -> decoded text."""
        out = {}
        for text in candidates:
            first = self.lm.tokenizer(text, add_special_tokens=False)["input_ids"][:1]
            if first:
                out[first[0]] = self.lm.tokenizer.decode(first)
        return out

    def _run_batch(self, jobs: list[Job]) -> list[ChatResponse]:
        steering = (self.lm.intervene(self.steer_layer, self.steer_fn, positions="last")
                    if self.steer_fn is not None else nullcontext())
        with self._generating, steering:
            return generate_batch(self.lm, jobs, self._eos_ids(), self.model)

    def _eos_ids(self) -> set[int]:
        ids = self.lm.model.generation_config.eos_token_id
        ids = set(ids if isinstance(ids, list) else [ids] if ids is not None else [])
        if self.lm.tokenizer.eos_token_id is not None:
            ids.add(self.lm.tokenizer.eos_token_id)
        return ids

"""A local Hugging Face model as a chat model, optionally steered at one layer of its residual stream."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from transformers import StoppingCriteria, StoppingCriteriaList

from overseer.errors import ConfigurationError, InvalidInputError, MissingDependencyError
from overseer.models.chat.base import ChatModel, ChatRequest, ChatResponse, TokenLogprob, Usage
from overseer.models.loading import LoadedModel, load_model

Rewrite = Callable[[torch.Tensor], torch.Tensor]


# overseer.steering writes the layer into fit.json beside its steering.json; config.json is accepted too.
_LAYER_FILES = ("fit.json", "steering.json", "config.json")


def _layer_from_config(directory: Path) -> int:
    for filename in _LAYER_FILES:
        path = directory / filename
        if not path.is_file():
            continue
        try:
            config = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"{path} is not valid JSON ({exc.msg}).") from exc
        for key in ("layer", "layers"):
            value = config.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, list) and len(value) == 1 and isinstance(value[0], int):
                return value[0]
    raise ConfigurationError(f"{directory} records no single 'layer' (looked in {', '.join(_LAYER_FILES)}): "
                             "pass the layer explicitly (local:MODEL?steer=DIR&layer=N, or --layer).")


def load_steering(directory: str | Path) -> tuple[Rewrite, str]:
    """(rewrite fn, description) from a saved `overseer.steering` method directory."""
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
    return method.apply, f"{type(method).__name__}@{directory.name}"


class LocalChatModel(ChatModel):
    """Chat with a `LoadedModel` (embedded name, local dir, or Hub id) on this machine.

    `steer` is a saved steering directory (its `apply(h)` runs at the layer its config.json
    records, or `steer_layer`) or a callable `h -> h'` with `steer_layer`. As in `overseer steer generate`,
    the rewrite hits the last token of every forward pass: the last prompt token, then each generated
    token. Requests run one at a time.
    """

    provider = "local"

    def __init__(self, model: str | LoadedModel, steer: str | Path | Rewrite | None = None,
                 steer_layer: int | None = None, device: str = "cpu", name: str | None = None) -> None:
        self.lm = model if isinstance(model, LoadedModel) else load_model(model, device=device)
        self.steer_fn: Rewrite | None = None
        self.steer_layer: int | None = None
        steer_label = ""
        if isinstance(steer, str | Path):
            self.steer_layer = steer_layer if steer_layer is not None else _layer_from_config(Path(steer).expanduser())
            self.steer_fn, steer_label = load_steering(steer)
        elif steer is not None:
            if not callable(steer) or steer_layer is None:
                raise InvalidInputError("steer must be a steering directory, or a callable together with steer_layer.")
            self.steer_fn, self.steer_layer, steer_label = steer, steer_layer, getattr(steer, "__name__", "fn")
        if self.steer_layer is not None:
            self.steer_layer = self.lm.check_layer(self.steer_layer)
        base = name or self.lm.name
        self.model = f"{base}+steer[{steer_label}]" if self.steer_fn is not None else base
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _get_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    async def _complete(self, request: ChatRequest) -> ChatResponse:
        async with self._get_lock():
            stop = threading.Event()
            work = asyncio.get_running_loop().run_in_executor(None, self.complete_sync, request, stop)
            try:
                return await asyncio.shield(work)
            except asyncio.CancelledError:
                # The caller gave up (a client disconnected from `overseer serve`): stop generating at the
                # next token, and hold the lock until the model is free again.
                stop.set()
                await asyncio.wait([work])
                raise

    def complete_sync(self, request: ChatRequest, stop: threading.Event | None = None) -> ChatResponse:
        """Generate for one request; setting `stop` ends generation after the current token."""
        prompt = self.lm.chat_prompt(request.message_dicts())
        steering = (self.lm.intervene(self.steer_layer, self.steer_fn, positions="last")
                    if self.steer_fn is not None else nullcontext())
        with steering:
            return self._generate(prompt, request, stop)

    @torch.no_grad()
    def _generate(self, prompt: str, request: ChatRequest, stop: threading.Event | None = None) -> ChatResponse:
        tokenizer = self.lm.tokenizer
        enc = self.lm.encode([prompt] * request.n)
        prompt_len = enc["input_ids"].shape[1]
        kwargs: dict[str, Any] = {"max_new_tokens": request.max_tokens, "pad_token_id": tokenizer.pad_token_id,
                                  "return_dict_in_generate": True, "output_logits": request.logprobs}
        if request.temperature > 0:
            kwargs.update(do_sample=True, temperature=request.temperature, top_p=1.0, top_k=None)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if stop is not None:
            kwargs["stopping_criteria"] = StoppingCriteriaList([_StopWhenSet(stop)])
        if request.seed is not None:
            torch.manual_seed(request.seed)
        out = self.lm.model.generate(**enc, **kwargs)
        new = out.sequences[:, prompt_len:]
        eos_ids = self._eos_ids()
        texts, reasons, lengths = [], [], []
        for row in new.tolist():
            stop = next((i for i, tok in enumerate(row) if tok in eos_ids), None)
            kept = row if stop is None else row[:stop]
            texts.append(tokenizer.decode(kept, skip_special_tokens=True))
            reasons.append("length" if stop is None else "stop")
            lengths.append(len(kept))
        logprobs = None
        if request.logprobs:
            logits = torch.stack(out.logits, dim=1).float()  # raw logits, before temperature
            all_logp = torch.log_softmax(logits, dim=-1)
            logp = all_logp.gather(-1, new.unsqueeze(-1)).squeeze(-1)
            top_lp, top_ids = all_logp.topk(request.top_logprobs, dim=-1) if request.top_logprobs else (None, None)
            logprobs = []
            for i in range(request.n):
                tokens = []
                for j, (tok, lp) in enumerate(zip(new[i, :lengths[i]].tolist(), logp[i, :lengths[i]].tolist(),
                                                  strict=True)):
                    top = () if top_ids is None else tuple(
                        (tokenizer.decode([a]), float(b)) for a, b in zip(top_ids[i, j].tolist(), top_lp[i, j].tolist(),
                                                                         strict=True))
                    tokens.append(TokenLogprob(tokenizer.decode([tok]), float(lp), top))
                logprobs.append(tokens)
        prompt_tokens = int(enc["attention_mask"][0].sum())
        return ChatResponse(texts=texts, model=self.model, usage=Usage(prompt_tokens, sum(lengths)),
                            logprobs=logprobs, finish_reasons=reasons)

    def _eos_ids(self) -> set[int]:
        ids = self.lm.model.generation_config.eos_token_id
        ids = set(ids if isinstance(ids, list) else [ids] if ids is not None else [])
        if self.lm.tokenizer.eos_token_id is not None:
            ids.add(self.lm.tokenizer.eos_token_id)
        return ids


class _StopWhenSet(StoppingCriteria):
    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)

"""The nnsight backend: the same LoadedModel verbs run as nnsight traces, locally or on NDIF.

`load_model(name, backend="nnsight")` wraps the HF model in an `nnsight.LanguageModel`;
`remote=True` builds it on the meta device and sends every trace to NDIF (the National Deep
Inference Fabric), which hosts models up to 405B. Capture, interventions, generation and scoring
all go through the four backend primitives of `LoadedModel`, so steering (fit and apply),
probes and elicitation run unchanged on top.

Interventions differ from the HF backend in one way: instead of forward hooks, `intervene`
records the rewrites, and each trace applies them to the blocks' outputs inside the trace. No
hook is ever registered on the module, so none can leak.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from overseer.errors import ConfigurationError, MissingDependencyError
from overseer.models.architectures import resolve_path
from overseer.models.loading import LoadedModel

NDIF_KEY_VARIABLE = "NDIF_API_KEY"


def _nnsight():
    try:
        import nnsight
    except ImportError:
        raise MissingDependencyError("the nnsight backend needs nnsight: pip install 'overseer[scale]' "
                                     "(or pip install nnsight).") from None
    return nnsight


def _language_model(model_or_id: Any, tokenizer: Any = None, **kwargs: Any) -> Any:
    nnsight = _nnsight()
    with warnings.catch_warnings():
        # nnsight 0.8 prefers TransformersModel for new code; LanguageModel keeps the same envoy tree.
        warnings.simplefilter("ignore")
        return nnsight.LanguageModel(model_or_id, tokenizer=tokenizer, **kwargs)


class NNsightModel(LoadedModel):
    """A LoadedModel whose forward passes run inside nnsight traces."""

    backend = "nnsight"

    def __init__(self, model: torch.nn.Module, tokenizer: Any, name: str, source: str, remote: bool = False,
                 envoy: Any = None) -> None:
        super().__init__(model, tokenizer, name, source)
        self.remote = remote
        self.envoy = envoy if envoy is not None else _language_model(model, tokenizer=tokenizer)
        self._blocks_envoy = resolve_path(self.envoy, self.family.blocks)
        self._rewrites: list[tuple[dict[int, Any], Any]] = []

    @contextmanager
    def rewriting(self, fns: dict[int, Any], positions: Any) -> Iterator[None]:
        self._rewrites.append((dict(fns), positions))
        try:
            yield
        finally:
            self._rewrites.pop()

    def _rewritten_layers(self) -> list[int]:
        return sorted({layer for fns, _ in self._rewrites for layer in fns})

    def _apply_rewrites(self, attention_mask: torch.Tensor | None) -> None:
        """Inside a trace: rewrite the blocks' outputs, in block order (nnsight requires it)."""
        for layer in self._rewritten_layers():
            self._apply_rewrites_at(layer, attention_mask)

    def _trace_kwargs(self) -> dict[str, Any]:
        return {"remote": True} if self.remote else {}

    def grab_layers(self, kwargs: dict[str, Any], layers: list[int]) -> dict[int, torch.Tensor]:
        wanted = sorted(set(layers))
        mask = kwargs.get("attention_mask")
        saved: dict[int, Any] = {}
        # Rewrites on blocks after the deepest captured one cannot change what is captured.
        rewritten = set(self._rewritten_layers())
        with self.envoy.trace(**kwargs, **self._trace_kwargs()) as tracer:
            for layer in sorted(set(wanted) | {r for r in rewritten if r <= wanted[-1]}):
                if layer in rewritten:
                    self._apply_rewrites_at(layer, mask)
                if layer in wanted:
                    output = self._blocks_envoy[layer].output
                    saved[layer] = (output[0] if isinstance(output, tuple) else output).save()
            tracer.stop()
        return {layer: _value(saved[layer]) for layer in wanted}

    def _apply_rewrites_at(self, layer: int, attention_mask: torch.Tensor | None) -> None:
        from overseer.models.intervene import rewrite_hidden

        block = self._blocks_envoy[layer]
        output = block.output
        hidden = output[0] if isinstance(output, tuple) else output
        for fns, positions in self._rewrites:
            if layer in fns:
                hidden = rewrite_hidden(hidden, fns[layer], positions, attention_mask)
        block.output = (hidden, *output[1:]) if isinstance(output, tuple) else hidden

    def forward_logits(self, **kwargs: Any) -> torch.Tensor:
        with self.envoy.trace(**kwargs, **self._trace_kwargs()):
            self._apply_rewrites(kwargs.get("attention_mask"))
            logits = self.envoy.output.logits.save()
        return _value(logits)

    def generate_ids(self, **kwargs: Any) -> torch.Tensor:
        steps = int(kwargs.get("max_new_tokens") or 1)
        mask = kwargs.get("attention_mask")
        with self.envoy.generate(**kwargs, **self._trace_kwargs()) as tracer:
            if self._rewrites:
                # One forward pass per new token: the prefill, then one cached step each.
                for _ in tracer.iter[:steps]:
                    self._apply_rewrites(mask)
            ids = tracer.result.save()
        return _value(ids)


def _value(saved: Any) -> torch.Tensor:
    return saved.value if hasattr(saved, "value") else saved


def load_remote(name: str, repo_id: str) -> NNsightModel:
    """A model hosted on NDIF: meta weights here, every trace executed remotely."""
    nnsight = _nnsight()
    key = os.environ.get(NDIF_KEY_VARIABLE)
    if not key:
        raise ConfigurationError(f"remote=True runs on NDIF and needs an API key: set {NDIF_KEY_VARIABLE} "
                                 "(an NDIF account gives one), or load the model locally with remote=False.")
    nnsight.CONFIG.set_default_api_key(key)
    envoy = _language_model(repo_id)
    model = envoy._module
    return NNsightModel(model, envoy.tokenizer, name=name, source=repo_id, remote=True, envoy=envoy)

"""An activation reconstructor (AR) on its own, cheap enough to train on a CPU for a 100M-parameter model.

The AR is the target run up to block K with the top `train_blocks` blocks fine-tuned, plus a Linear(d, d) head
initialised to the identity, reading the last token of `AR_TEMPLATE` around an explanation (as in `NLA`).
The blocks below are frozen, so training first runs them once over every explanation and caches their output;
each step then runs only the trained blocks, resumed from that cache through the model's own forward
(`inputs_embeds`). That resumption is checked against the full forward before training; where an architecture
does not reproduce it (e.g. one that rescales `inputs_embeds`), every step runs the full forward instead.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Self

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from overseer.errors import InvalidInputError
from overseer.fitted import Fitted, _decode_value, _read_json, check_is_fitted
from overseer.models.architectures import resolve_path
from overseer.models.loading import LoadedModel
from overseer.models.progress import progress_bar
from overseer.nla.core import NLA_CLASSES, _check_explanations, ar_text, check_activations, default_layer, fve


class _Stop(Exception):
    pass


def _frozen(lm: LoadedModel) -> LoadedModel:
    # Once, on loading: the trained blocks are swapped into this model during a forward, so freezing it on
    # every access would freeze them too.
    for p in lm.model.parameters():
        p.requires_grad_(False)
    return lm


@NLA_CLASSES.register("ar")
class Reconstructor(Fitted):
    """The AR alone: `fit(activations, explanations)` regresses activations on explanations."""

    family = "nla-ar"
    name = "ar"
    what = "activation reconstructor"
    fit_hint = "Reconstructor(...).fit(activations, explanations)"
    registry = NLA_CLASSES

    def __init__(self, model: str = "smollm2", layer: int | None = None, train_blocks: int = 4, steps: int = 150,
                 batch_size: int = 32, learning_rate: float = 3e-4, device: str = "cpu", dtype: str = "float32",
                 seed: int = 0) -> None:
        self.model = model
        self.layer = layer
        self.train_blocks = train_blocks
        self.steps = steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.device = device
        self.dtype = dtype
        self.seed = seed
        self._lm: LoadedModel | None = None

    def use_base(self, lm: LoadedModel) -> Self:
        """Share an already loaded target model (it must be `self.model`; its weights are never changed)."""
        self._lm = _frozen(lm)
        return self

    def base(self) -> LoadedModel:
        if self._lm is None:
            from overseer.models import load_model

            self._lm = _frozen(load_model(self.model, device=self.device, dtype=self.dtype))
        return self._lm

    def resolved_layer(self) -> int:
        lm = self.base()
        return lm.check_layer(self.layer if self.layer is not None else default_layer(lm.n_layers))

    def capture(self, texts: Sequence[str]) -> torch.Tensor:
        """Layer-K activations at the last token of each text, `[n, d_model]`."""
        return self.base().capture(list(texts), [self.resolved_layer()], "last", progress=False)[:, 0]

    def _init_modules(self, layer: int) -> None:
        lm = self.base()
        if not 1 <= self.train_blocks <= layer:
            raise InvalidInputError(f"train_blocks must be between 1 and the layer ({layer}), got {self.train_blocks}.")
        self.layer_ = layer
        self.top_ = nn.ModuleList(copy.deepcopy(lm.block(i)) for i in range(self._first(), layer + 1))
        self.head_ = nn.Linear(lm.d_model, lm.d_model).to(lm.device, lm.dtype)
        with torch.no_grad():
            self.head_.weight.copy_(torch.eye(lm.d_model))
            self.head_.bias.zero_()

    def _first(self) -> int:
        return self.layer_ - self.train_blocks + 1

    # ---- forward paths ----
    @contextmanager
    def _blocks(self, only_top: bool) -> Iterator[None]:
        """The base model with the trained blocks in place (and, with `only_top`, no other block)."""
        lm = self.base()
        path = lm.family.blocks
        parent = resolve_path(lm.model, path.rsplit(".", 1)[0]) if "." in path else lm.model
        attr = path.rsplit(".", 1)[-1]
        original = getattr(parent, attr)
        first = self._first()
        if only_top:
            setattr(parent, attr, self.top_)
        else:
            saved = [original[first + i] for i in range(len(self.top_))]
            for i, block in enumerate(self.top_):
                original[first + i] = block
        try:
            yield
        finally:
            if only_top:
                setattr(parent, attr, original)
            else:
                for i, block in enumerate(saved):
                    original[first + i] = block

    def _run_to_last(self, block: nn.Module, kwargs: dict[str, Any]) -> torch.Tensor:
        grabbed: dict[str, torch.Tensor] = {}

        def hook(module, args, output):
            grabbed["h"] = output[0] if isinstance(output, tuple) else output
            raise _Stop

        handle = block.register_forward_hook(hook)
        try:
            with suppress(_Stop):
                self.base().model(**kwargs)
        finally:
            handle.remove()
        return grabbed["h"]

    def _full(self, explanations: list[str]) -> torch.Tensor:
        """Last-token hidden state after block K, trained blocks in place: `[n, d]`."""
        lm = self.base()
        enc = lm.encode([ar_text(e) for e in explanations])
        mask = enc["attention_mask"]
        kwargs = {"input_ids": enc["input_ids"], "attention_mask": mask, "use_cache": False}
        pos = lm.position_ids(mask)
        if pos is not None:
            kwargs["position_ids"] = pos
        with self._blocks(only_top=False):
            hidden = self._run_to_last(self.top_[-1], kwargs)
        rank = mask.long().cumsum(-1)
        index = (mask.bool() & (rank == mask.sum(-1, keepdim=True))).long().argmax(-1)
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), index]

    @torch.no_grad()
    def _prefix(self, explanations: list[str], batch_size: int = 32) -> list[torch.Tensor]:
        """Per explanation, the frozen blocks' output over its real tokens, `[len, d]` (what training resumes)."""
        lm = self.base()
        out: list[torch.Tensor] = []
        for start in range(0, len(explanations), batch_size):
            enc = lm.encode([ar_text(e) for e in explanations[start: start + batch_size]])
            mask = enc["attention_mask"].bool()
            kwargs = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "use_cache": False}
            pos = lm.position_ids(enc["attention_mask"])
            if pos is not None:
                kwargs["position_ids"] = pos
            hidden = lm.grab_layers(kwargs, [self._first() - 1])[self._first() - 1]
            out.extend(hidden[i][mask[i]].clone() for i in range(len(hidden)))
        return out

    def _resumed(self, prefix: list[torch.Tensor]) -> torch.Tensor:
        """Last-token hidden state after block K, running only the trained blocks from the cached prefix."""
        lengths = [len(p) for p in prefix]
        n, t = len(prefix), max(lengths)
        embeds = prefix[0].new_zeros((n, t, prefix[0].shape[-1]))
        mask = torch.zeros((n, t), dtype=torch.long, device=embeds.device)
        for i, p in enumerate(prefix):
            embeds[i, : len(p)] = p
            mask[i, : len(p)] = 1
        kwargs = {"inputs_embeds": embeds, "attention_mask": mask, "use_cache": False}
        if self.base().position_ids(mask) is not None:
            kwargs["position_ids"] = torch.arange(t, device=embeds.device).expand(n, -1)
        with self._blocks(only_top=True):
            hidden = self._run_to_last(self.top_[-1], kwargs)
        return hidden[torch.arange(n, device=hidden.device), torch.tensor(lengths, device=hidden.device) - 1]

    def _resumption_is_exact(self, prefix: list[torch.Tensor], explanations: list[str]) -> bool:
        with torch.no_grad():
            a, b = self._resumed(prefix), self._full(explanations)
        return bool(torch.allclose(a.float(), b.float(), rtol=1e-3, atol=1e-3 * float(b.float().abs().max())))

    # ---- fit / predict ----
    def fit(self, activations: torch.Tensor, explanations: Sequence[str], progress: bool = True) -> Self:
        explanations = _check_explanations(explanations)
        lm = self.base()
        acts = check_activations(activations, lm.d_model, len(explanations)).to(lm.device)
        if self.steps < 1 or self.batch_size < 1:
            raise InvalidInputError("steps and batch_size must be >= 1.")
        torch.manual_seed(self.seed)
        rng = random.Random(self.seed)
        self._init_modules(self.resolved_layer())
        prefix = self._prefix(explanations)
        resume = self._resumption_is_exact(prefix[:4], explanations[:4])
        params = [*self.top_.parameters(), *self.head_.parameters()]
        for p in params:
            p.requires_grad_(True)
        opt = torch.optim.AdamW(params, lr=self.learning_rate, weight_decay=0.0)
        self.history_ = {"loss": [], "resumed": resume}
        self.top_.train()
        for _ in progress_bar(range(self.steps), "AR training", enabled=progress):
            rows = rng.sample(range(len(acts)), min(self.batch_size, len(acts)))
            last = self._resumed([prefix[i] for i in rows]) if resume else self._full([explanations[i] for i in rows])
            pred = self.head_(last.to(self.head_.weight.dtype)).float()
            loss = ((F.normalize(pred, dim=-1) - F.normalize(acts[rows].float(), dim=-1)) ** 2).sum(-1).mean()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            self.history_["loss"].append(float(loss.detach()))
        self.top_.eval()
        return self

    @torch.no_grad()
    def predict(self, explanations: Sequence[str], batch_size: int = 32) -> torch.Tensor:
        """Reconstructed activations `[n, d]` (compare after L2 normalisation)."""
        check_is_fitted(self, "head_")
        explanations = _check_explanations(explanations)
        outs = [self.head_(self._full(explanations[s: s + batch_size]).to(self.head_.weight.dtype)).float().cpu()
                for s in range(0, len(explanations), batch_size)]
        return torch.cat(outs)

    def score(self, explanations: Sequence[str], acts: torch.Tensor) -> float:
        """FVE of the reconstructions from `explanations`."""
        acts = check_activations(acts, self.base().d_model, len(_check_explanations(explanations)))
        return fve(self.predict(explanations), acts)

    # ---- persistence: only the trained blocks and the head are stored; the base is loaded by name ----
    def _get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"layer_": self.layer_, "history_": getattr(self, "history_", {})}
        for prefix, module in (("top_", self.top_), ("head_", self.head_)):
            for key, value in module.state_dict().items():
                state[f"{prefix}.{key}"] = value.detach().clone()
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        self._init_modules(int(state["layer_"]))
        self.history_ = state.get("history_", {})
        for prefix, module in (("top_", self.top_), ("head_", self.head_)):
            sub = {k[len(prefix) + 1:]: v for k, v in state.items() if k.startswith(prefix + ".")}
            module.load_state_dict(sub, strict=True)
        self.top_.eval()

    @classmethod
    def load(cls, directory: str | Path, device: str | None = None) -> Self:
        directory = Path(directory)
        json_path, tensors_path = directory / f"{cls.family}.json", directory / f"{cls.family}.safetensors"
        if not json_path.is_file() or not tensors_path.is_file():
            raise InvalidInputError(f"{directory} is not a saved activation reconstructor: it needs {json_path.name} "
                                    f"and {tensors_path.name} (written by Reconstructor.save(dir)).")
        config = _read_json(json_path)
        params = dict(config.get("params", {}))
        if device is not None:
            params["device"] = device
        obj = cls(**params)
        tensors = load_file(str(tensors_path), device="cpu")
        obj._set_state({k: _decode_value(v, tensors, directory) for k, v in config.get("state", {}).items()})
        return obj

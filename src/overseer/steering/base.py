"""The contract every steering method follows: fit on contrastive activations, then rewrite activations.

Every method is an `overseer.fitted.Fitted` object: hyper-parameters (strength, the layer(s) it steers, the
positions it rewrites) in `__init__`, learned attributes ending in `_`, `save(dir)` / `load(dir)`. A saved
method alone is enough to apply it to a model (`method.steer(lm)`) or to serve it.

A method is fitted on `pos_acts` (the behaviour to steer toward) and `neg_acts` (the behaviour to steer
away from), both `[n, d_model]`. `apply(h)` rewrites any `[..., d_model]` tensor (any dtype, any device)
and is what `overseer.models.intervene` calls inside a forward pass. Every method takes one scalar
strength: the integration time T for ODE methods, the multiplier for additive ones.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import torch
from safetensors.torch import load_file

from overseer.errors import ConfigurationError, InvalidInputError
from overseer.fitted import Fitted, check_is_fitted
from overseer.registry import Registry

if TYPE_CHECKING:
    from overseer.models.loading import LoadedModel

POSITIONS = ("last", "all")


def check_strength(strength: float) -> float:
    if isinstance(strength, bool) or not isinstance(strength, (int, float)):
        raise InvalidInputError(f"strength must be a number, got {strength!r}.")
    strength = float(strength)
    if not math.isfinite(strength) or strength < 0:
        raise InvalidInputError(
            f"strength must be a finite number >= 0, got {strength}: use 0 for no steering and larger "
            "values to steer harder (to steer the other way, swap the positive and negative examples)."
        )
    return strength


def check_acts(pos_acts: torch.Tensor, neg_acts: torch.Tensor, min_each: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate contrastive activations and return them as float32 CPU `[n, d]` tensors."""
    tensors = []
    for name, acts in (("pos_acts", pos_acts), ("neg_acts", neg_acts)):
        if not isinstance(acts, torch.Tensor):
            raise InvalidInputError(f"{name} must be a torch.Tensor of shape [n, d_model], got {type(acts).__name__}.")
        if acts.dim() != 2:
            raise InvalidInputError(f"{name} has shape {tuple(acts.shape)}; expected [n, d_model] (select one layer "
                                    "of a capture, e.g. acts[:, 0]).")
        if acts.shape[0] < min_each:
            raise InvalidInputError(f"{name} has {acts.shape[0]} rows; fitting needs at least {min_each} examples "
                                    "of each class.")
        acts = acts.detach().float().cpu()
        if not bool(torch.isfinite(acts).all()):
            raise InvalidInputError(f"{name} contains NaN or inf values: check the model's dtype (use float32) "
                                    "and the captured texts.")
        tensors.append(acts)
    pos, neg = tensors
    if pos.shape[1] != neg.shape[1]:
        raise InvalidInputError(f"pos_acts has d_model {pos.shape[1]} but neg_acts has {neg.shape[1]}: capture both "
                                "at the same layer of the same model.")
    return pos, neg


def check_layer_param(layer: int | Sequence[int] | None) -> int | list[int] | None:
    """A method's layer(s): one int, a list of ints, or None (not known yet)."""
    if layer is None:
        return None
    if isinstance(layer, int) and not isinstance(layer, bool):
        return int(layer)
    if isinstance(layer, Sequence) and layer and all(isinstance(x, int) and not isinstance(x, bool) for x in layer):
        return [int(x) for x in layer]
    raise InvalidInputError(f"layer must be an int or a non-empty list of ints, got {layer!r}.")


class SteeringMethod(Fitted, ABC):
    """Base class: subclasses set `name`, implement `_fit` and `_apply_float`, and keep learned state in `*_`."""

    family = "steering"
    what = "steering method"
    fit_hint = "fit(pos_acts, neg_acts)"
    # True when strength 1 already means "the full fitted effect" (no yardstick needed to compare methods).
    strength_is_relative: ClassVar[bool] = False

    def __init__(self, strength: float = 1.0, layer: int | Sequence[int] | None = None,
                 positions: str = "last") -> None:
        self.strength = check_strength(strength)
        self.layer = check_layer_param(layer)
        if positions not in POSITIONS:
            raise InvalidInputError(f"positions={positions!r}: use 'last' (the last token of every forward pass, "
                                    "as when chatting) or 'all'.")
        self.positions = positions

    # ---- the contract ----
    def fit(self, pos_acts: torch.Tensor, neg_acts: torch.Tensor) -> Self:
        pos, neg = check_acts(pos_acts, neg_acts)
        self._fit(pos, neg)
        self.d_model_ = int(pos.shape[1])
        self.n_pos_, self.n_neg_ = int(pos.shape[0]), int(neg.shape[0])
        self.mean_gap_ = float((pos.mean(0) - neg.mean(0)).norm())  # the yardstick for relative strengths
        return self

    def apply(self, h: torch.Tensor, strength: float | None = None) -> torch.Tensor:
        """Steered copy of `h` (`[..., d_model]`, same shape, dtype and device)."""
        check_is_fitted(self, "d_model_")
        strength = self.strength if strength is None else check_strength(strength)
        if h.shape[-1] != self.d_model_:
            raise InvalidInputError(f"{self.name} was fitted on d_model {self.d_model_} but got activations with "
                                    f"last dimension {h.shape[-1]}: apply it at a layer of the model it was fitted on.")
        if strength == 0.0 or h.numel() == 0:
            return h
        flat = h.reshape(-1, self.d_model_)
        out = self._apply_float(flat.float(), strength)
        return out.to(h.dtype).reshape(h.shape)

    def __call__(self, h: torch.Tensor) -> torch.Tensor:
        return self.apply(h)

    def with_strength(self, strength: float) -> Self:
        """Set the default strength used by `apply` / as a hook; returns self."""
        self.strength = check_strength(strength)
        return self

    @property
    def layers(self) -> list[int]:
        """The layers this method steers; a ConfigurationError if it was never given one."""
        if self.layer is None:
            raise ConfigurationError(f"this {self.name} method records no layer: construct or fit it with "
                                     "layer=N (overseer steer fit --layer N), or pass the layer explicitly.")
        return [self.layer] if isinstance(self.layer, int) else list(self.layer)

    @contextmanager
    def steer(self, lm: LoadedModel, strength: float | None = None) -> Iterator[None]:
        """Steer `lm` inside the block, at this method's layer(s) and positions."""
        check_is_fitted(self, "d_model_")
        rewrite = self.apply if strength is None else (lambda h: self.apply(h, strength))
        with lm.intervene(self.layers, rewrite, self.positions):
            yield

    @property
    def unit_displacement(self) -> float:
        """Roughly how far (L2) one unit of strength moves an activation; used to put methods on one axis."""
        return 1.0

    # ---- for subclasses ----
    @abstractmethod
    def _fit(self, pos: torch.Tensor, neg: torch.Tensor) -> None: ...

    @abstractmethod
    def _apply_float(self, h: torch.Tensor, strength: float) -> torch.Tensor:
        """h is float32 `[n, d_model]`, strength > 0."""

    # ---- directories written before the fitted-object contract (steering.json with "method", fit.json) ----
    @classmethod
    def _load_legacy(cls, directory: Path, config: dict | None) -> SteeringMethod | None:
        if config is None or "method" not in config or not (directory / "steering.safetensors").is_file():
            return None
        target = METHODS.get(config["method"])
        if not issubclass(target, cls):
            raise InvalidInputError(f"{directory} holds a '{config['method']}' method, not '{cls.name}': use "
                                    "overseer.steering.load_method(dir) to load whatever it holds.")
        fit_path = directory / "fit.json"
        meta = json.loads(fit_path.read_text()) if fit_path.is_file() else {}
        params = {k: v for k, v in {**config, "c": config.get("C"), "layer": meta.get("layer")}.items()
                  if k in target.param_names() and v is not None}
        method = target(**params)
        tensors = load_file(str(directory / "steering.safetensors"))
        method._set_state(method._legacy_state(config, tensors))
        method.d_model_ = int(config["d_model"])
        if meta.get("model"):
            method.model_ = meta["model"]
        return method

    def _legacy_state(self, config: dict[str, Any], tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
        return {f"{key}_": value.float() for key, value in tensors.items()}

    def __repr__(self) -> str:
        state = f"d_model={self.d_model_}" if self.is_fitted else "unfitted"
        return f"{type(self).__name__}({state}, strength={self.strength}, layer={self.layer})"


METHODS: Registry[type[SteeringMethod]] = Registry("steering method")
METHODS.add_lazy("caa", "overseer.steering.mean_diff:MeanDiff", "CAA: difference of class means")
METHODS.add_lazy("repe", "overseer.steering.repe:RepE", "RepE: first principal component of paired differences")
METHODS.add_lazy("iti", "overseer.steering.iti:ITI", "ITI: normalised logistic-probe direction")
METHODS.add_lazy("linear_act", "overseer.steering.linear_act:LinearAcT", "Linear-AcT: per-dimension affine transport")
METHODS.add_lazy("step_odesteer", "overseer.steering.odesteer:StepODESteer", "one Euler step of ODESteer's field")
METHODS.add_lazy("odesteer", "overseer.steering.odesteer:ODESteer", "ODESteer: barrier-function ODE (ICLR 2026)")
METHODS.add_lazy("mimic", "overseer.steering.mimic:MiMiC", "MiMiC: gated linear optimal transport (Singh et al. 2024)")


SteeringMethod.registry = METHODS


def make_method(name: str, strength: float = 1.0, **kwargs: Any) -> SteeringMethod:
    return METHODS.get(name)(strength=strength, **kwargs)


def load_method(directory: str | Path) -> SteeringMethod:
    """Load any saved steering method (the directory's JSON says which)."""
    return SteeringMethod.load(directory)

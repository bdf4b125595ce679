"""The contract every steering method follows: fit on contrastive activations, then rewrite activations.

A method is fitted on `pos_acts` (the behaviour to steer toward) and `neg_acts` (the behaviour to steer
away from), both `[n, d_model]`. `apply(h)` rewrites any `[..., d_model]` tensor (any dtype, any device)
and is what `overseer.models.intervene` calls inside a forward pass. Every method takes one scalar
strength: the integration time T for ODE methods, the multiplier for additive ones.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import torch
from safetensors.torch import load_file, save_file

from overseer.errors import InvalidInputError, OverseerError

CONFIG_FILE = "steering.json"
TENSORS_FILE = "steering.safetensors"


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


class SteeringMethod(ABC):
    """Base class: subclasses set `name`, implement `_fit`, `_apply_float` and the tensor/config state."""

    name: ClassVar[str]
    # True when strength 1 already means "the full fitted effect" (no yardstick needed to compare methods).
    strength_is_relative: ClassVar[bool] = False

    def __init__(self, strength: float = 1.0) -> None:
        self.strength = check_strength(strength)
        self.d_model: int | None = None

    # ---- the contract ----
    def fit(self, pos_acts: torch.Tensor, neg_acts: torch.Tensor) -> SteeringMethod:
        pos, neg = check_acts(pos_acts, neg_acts)
        self.d_model = int(pos.shape[1])
        self._fit(pos, neg)
        return self

    def apply(self, h: torch.Tensor, strength: float | None = None) -> torch.Tensor:
        """Steered copy of `h` (`[..., d_model]`, same shape, dtype and device)."""
        self._check_fitted()
        strength = self.strength if strength is None else check_strength(strength)
        if h.shape[-1] != self.d_model:
            raise InvalidInputError(f"{self.name} was fitted on d_model {self.d_model} but got activations with last "
                                    f"dimension {h.shape[-1]}: apply it at a layer of the model it was fitted on.")
        if strength == 0.0 or h.numel() == 0:
            return h
        flat = h.reshape(-1, self.d_model)
        out = self._apply_float(flat.float(), strength)
        return out.to(h.dtype).reshape(h.shape)

    def __call__(self, h: torch.Tensor) -> torch.Tensor:
        return self.apply(h)

    def with_strength(self, strength: float) -> SteeringMethod:
        """Set the default strength used by `apply` / as a hook; returns self."""
        self.strength = check_strength(strength)
        return self

    @property
    def unit_displacement(self) -> float:
        """Roughly how far (L2) one unit of strength moves an activation; used to put methods on one axis."""
        return 1.0

    # ---- persistence ----
    def save(self, directory: str | Path) -> Path:
        self._check_fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {"method": self.name, "strength": self.strength, "d_model": self.d_model, **self._config()}
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2))
        tensors = {k: v.detach().contiguous().cpu() for k, v in self._tensors().items()}
        save_file(tensors, str(directory / TENSORS_FILE))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> SteeringMethod:
        config, tensors = _read(directory)
        if config.get("method") != cls.name:
            raise InvalidInputError(f"{directory} holds a '{config.get('method')}' method, not '{cls.name}': "
                                    "use overseer.steering.load_method(dir) to load whatever it holds.")
        method = cls._from_config(config)
        method.strength = check_strength(config.get("strength", 1.0))
        method.d_model = int(config["d_model"])
        method._load_tensors(tensors)
        return method

    # ---- for subclasses ----
    @abstractmethod
    def _fit(self, pos: torch.Tensor, neg: torch.Tensor) -> None: ...

    @abstractmethod
    def _apply_float(self, h: torch.Tensor, strength: float) -> torch.Tensor:
        """h is float32 `[n, d_model]`, strength > 0."""

    @abstractmethod
    def _tensors(self) -> dict[str, torch.Tensor]: ...

    @abstractmethod
    def _load_tensors(self, tensors: dict[str, torch.Tensor]) -> None: ...

    def _config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def _from_config(cls, config: dict[str, Any]) -> SteeringMethod:
        return cls()

    def _check_fitted(self) -> None:
        if self.d_model is None:
            raise InvalidInputError(f"{self.name} is not fitted: call .fit(pos_acts, neg_acts) or load a saved one.")

    def __repr__(self) -> str:
        state = f"d_model={self.d_model}" if self.d_model is not None else "unfitted"
        return f"{type(self).__name__}({state}, strength={self.strength})"


def _read(directory: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    directory = Path(directory)
    config_path, tensors_path = directory / CONFIG_FILE, directory / TENSORS_FILE
    if not config_path.is_file() or not tensors_path.is_file():
        raise InvalidInputError(f"{directory} is not a saved steering method: it needs {CONFIG_FILE} and "
                                f"{TENSORS_FILE} (written by method.save(dir) or `overseer steer fit`).")
    try:
        config = json.loads(config_path.read_text())
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{config_path} is not valid JSON ({exc}); re-save the method.") from None
    return config, load_file(str(tensors_path))


METHODS: dict[str, type[SteeringMethod]] = {}


def register(cls: type[SteeringMethod]) -> type[SteeringMethod]:
    METHODS[cls.name] = cls
    return cls


def make_method(name: str, strength: float = 1.0, **kwargs: Any) -> SteeringMethod:
    try:
        cls = METHODS[name]
    except KeyError:
        raise InvalidInputError(f"unknown steering method '{name}'; available: {', '.join(METHODS)}.") from None
    return cls(strength=strength, **kwargs)


def load_method(directory: str | Path) -> SteeringMethod:
    """Load any saved steering method (the directory's JSON says which)."""
    config, _ = _read(directory)
    name = config.get("method")
    if name not in METHODS:
        raise OverseerError(f"{directory} holds unknown method '{name}'; known: {', '.join(METHODS)}.")
    return METHODS[name].load(directory)

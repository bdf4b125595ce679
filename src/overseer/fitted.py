"""One contract for everything that is fitted: steering methods, probes and detectors (scikit-learn style).

- Hyper-parameters are the arguments of `__init__`, stored under the same names (`get_params`).
- `fit(...)` learns from data and returns `self`; learned attributes end in `_` and exist only after fitting.
- `check_is_fitted(obj)` raises `NotFittedError` when they do not.
- `save(dir)` writes `<family>.json` (class, init parameters, JSON-able learned values) and
  `<family>.safetensors` (learned tensors and arrays); `Cls.load(dir)` or the generic `load(dir)` reads them
  back, dispatching on the saved name through the family's `Registry`.

A learned attribute may be a tensor, a numpy array, a JSON value, or another fitted object (a detector holds
its probe as `probe_`), which is saved inside its parent's files.
"""

from __future__ import annotations

import inspect
import json
import math
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from overseer.errors import InvalidInputError, NotFittedError, OverseerError
from overseer.registry import Registry

FORMAT = 1

# family -> its base class, whose `registry` maps names to classes; the family is also the stem of its files.
FAMILIES: Registry[type[Fitted]] = Registry("fitted-object family")
FAMILIES.add_lazy("steering", "overseer.steering.base:SteeringMethod", "steering methods (steering.json)")
FAMILIES.add_lazy("probe", "overseer.probes.base:Probe", "activation probes (probe.json)")
FAMILIES.add_lazy("detector", "overseer.probes.base:Detector", "lie detectors (detector.json)")


class Fitted:
    """Base class: a family's base class sets `family` and `registry`; each class sets `name` (its key in the
    registry), `what` (for messages) and `fit_hint`."""

    family: ClassVar[str]
    registry: ClassVar[Registry]
    name: ClassVar[str]
    what: ClassVar[str] = "object"
    fit_hint: ClassVar[str] = "fit(...)"

    # ---- parameters ----
    @classmethod
    def param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [p.name for p in signature.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self) -> dict[str, Any]:
        """The `__init__` arguments that rebuild this object unfitted."""
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self, **params: Any) -> Self:
        unknown = sorted(set(params) - set(self.param_names()))
        if unknown:
            raise InvalidInputError(f"{type(self).__name__} has no parameter(s) {unknown}; "
                                    f"its parameters are {self.param_names()}.")
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def fitted_attributes(self) -> dict[str, Any]:
        """Learned attributes: public names ending in `_`."""
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    @property
    def is_fitted(self) -> bool:
        return bool(self.fitted_attributes())

    # ---- persistence ----
    def save(self, directory: str | Path) -> Path:
        check_is_fitted(self)
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensors: dict[str, torch.Tensor] = {}
        config = {"format": FORMAT, **_encode(self, "", tensors)}
        (directory / f"{self.family}.json").write_text(json.dumps(config, indent=2))
        save_file(tensors, str(directory / f"{self.family}.safetensors"))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        """Load a saved object of this class (or, called on a base class, of any class of its family)."""
        directory = Path(directory)
        json_path, tensors_path = directory / f"{cls.family}.json", directory / f"{cls.family}.safetensors"
        config = _read_json(json_path) if json_path.is_file() else None
        if config is None or "format" not in config:
            legacy = cls._load_legacy(directory, config)
            if legacy is not None:
                return legacy
        if config is None or not tensors_path.is_file():
            raise InvalidInputError(f"{directory} is not a saved {cls.what}: it needs {json_path.name} and "
                                f"{tensors_path.name} (written by .save(dir)).")
        obj = _decode(config, load_file(str(tensors_path)), directory)
        if not isinstance(obj, cls):
            raise InvalidInputError(f"{directory} holds a {obj.family} '{obj.name}' ({type(obj).__name__}), not a "
                                    f"{cls.__name__}: load it with overseer.fitted.load(dir).")
        return obj

    @classmethod
    def _load_legacy(cls, directory: Path, config: dict | None) -> Self | None:
        """Read a directory saved by an older overseer, or return None. Families override this."""
        return None

    # ---- state hooks (override when a learned value is neither a tensor, an array, JSON nor Fitted) ----
    def _get_state(self) -> dict[str, Any]:
        return self.fitted_attributes()

    def _set_state(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            setattr(self, key, value)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params}){'' if self.is_fitted else ' [not fitted]'}"


def check_is_fitted(obj: Any, attributes: str | list[str] | None = None, message: str | None = None) -> None:
    """Raise `NotFittedError` unless `obj` has learned attributes (all of `attributes`, if given)."""
    names = [attributes] if isinstance(attributes, str) else attributes
    learned = {k for k, v in vars(obj).items() if k.endswith("_") and not k.startswith("_") and v is not None}
    if (names is None and not learned) or (names is not None and not set(names) <= learned):
        what = getattr(obj, "what", type(obj).__name__)
        hint = getattr(obj, "fit_hint", "fit(...)")
        raise NotFittedError(message or f"this {what} ({type(obj).__name__}) is not fitted: call {hint} first, "
                                        "or load a saved one.")


def load(directory: str | Path) -> Fitted:
    """Load any saved fitted object: the file names say its family, the JSON its class."""
    directory = Path(directory)
    for family in FAMILIES:
        if (directory / f"{family}.json").is_file():
            return FAMILIES.get(family).load(directory)
    raise OverseerError(f"{directory} holds no saved steering method, probe or detector (no "
                        f"{', '.join(f'{f}.json' for f in FAMILIES)}); save one with .save(dir) first.")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{path} is not valid JSON ({exc.msg}): re-save the object.") from None
    if not isinstance(config, dict):
        raise InvalidInputError(f"{path} does not hold a JSON object: re-save the object.")
    return config


def _encode(obj: Fitted, prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    state = {}
    for key, value in obj._get_state().items():
        state[key] = _encode_value(value, f"{prefix}{key}", tensors)
    return {"family": obj.family, "name": obj.name, "class": type(obj).__name__,
            "params": _jsonable(obj.get_params()), "state": state}


def _encode_value(value: Any, key: str, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, torch.Tensor):
        tensors[key] = value.detach().contiguous().cpu()
        return {"__tensor__": key}
    if isinstance(value, np.ndarray):
        tensors[key] = torch.from_numpy(np.ascontiguousarray(value))
        return {"__ndarray__": key}
    if isinstance(value, Fitted):
        return {"__fitted__": _encode(value, f"{key}.", tensors)}
    return _jsonable(value)


def _decode(config: dict[str, Any], tensors: dict[str, torch.Tensor], where: Path) -> Fitted:
    try:
        cls = FAMILIES.get(config["family"]).registry.get(config["name"])
        obj = cls(**config.get("params", {}))
    except KeyError as exc:
        raise InvalidInputError(f"{where} is missing {exc} in its saved JSON: re-save the object.") from None
    obj._set_state({k: _decode_value(v, tensors, where) for k, v in config.get("state", {}).items()})
    return obj


def _decode_value(value: Any, tensors: dict[str, torch.Tensor], where: Path) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (marker, inner), = value.items()
        if marker in ("__tensor__", "__ndarray__"):
            if inner not in tensors:
                raise InvalidInputError(f"{where}: tensor {inner!r} is missing from the safetensors file; re-save.")
            return tensors[inner] if marker == "__tensor__" else tensors[inner].numpy()
        if marker == "__fitted__":
            return _decode(inner, tensors, where)
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return value  # json writes NaN/Infinity, which json.loads reads back
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise InvalidInputError(f"cannot save a value of type {type(value).__name__} as JSON: keep hyper-parameters "
                            "and learned values to numbers, strings, lists, tensors or arrays.")

"""The probe contract: `fit(acts, labels)`, then `score(acts)`; saved as safetensors + JSON config.

A probe reads one layer's activations `[n, d_model]` and returns one real score per row; higher
means "more like label 1". What label 1 means (true statement, honest answer, lie) is the caller's
choice and is recorded in the probe's `positive` field so a loaded probe says what it scores.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from overseer.errors import InvalidInputError, OverseerError

CONFIG_FILE = "probe.json"
TENSORS_FILE = "probe.safetensors"
PROBES: dict[str, type[Probe]] = {}


def register(cls: type[Probe]) -> type[Probe]:
    PROBES[cls.name] = cls
    return cls


def as_matrix(acts: Any, what: str = "acts") -> np.ndarray:
    """Validate activations and return them as a float64 `[n, d]` array."""
    if isinstance(acts, torch.Tensor):
        acts = acts.detach().float().cpu().numpy()
    acts = np.asarray(acts, dtype=np.float64)
    if acts.ndim != 2:
        raise InvalidInputError(f"{what} has shape {acts.shape}; expected [n, d_model] (select one layer of a "
                                "capture, e.g. acts[:, 0]).")
    if acts.shape[0] == 0:
        raise InvalidInputError(f"{what} is empty: pass at least one row.")
    if not np.isfinite(acts).all():
        raise InvalidInputError(f"{what} contains NaN or inf values: capture in float32 and check the texts.")
    return acts


def as_labels(labels: Any, n: int, what: str = "labels") -> np.ndarray:
    """Validate binary labels (bool or 0/1) for `n` rows, both classes present."""
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise InvalidInputError(f"{what} has shape {labels.shape}; expected a flat list of 0/1 values.")
    if len(labels) != n:
        raise InvalidInputError(f"{n} activation rows but {len(labels)} {what}: pass exactly one label per row.")
    if labels.dtype != bool and not np.isin(labels, (0, 1)).all():
        raise InvalidInputError(f"{what} must be 0/1 or booleans; got values {sorted(set(labels.tolist()))[:5]}.")
    labels = labels.astype(int)
    if len(np.unique(labels)) < 2:
        raise InvalidInputError(f"all {what} are {labels[0]}: a probe needs examples of both classes (0 and 1) "
                                "to learn a direction; add the missing class.")
    return labels


class Probe(ABC):
    """Base class: subclasses set `name` and implement `_fit`, `_score`, `_tensors`, `_set_tensors`."""

    name: ClassVar[str]

    def __init__(self, positive: str = "label 1") -> None:
        self.positive = positive
        self.d_model: int | None = None

    def fit(self, acts: Any, labels: Any) -> Probe:
        x = as_matrix(acts)
        y = as_labels(labels, len(x))
        self.d_model = int(x.shape[1])
        self._fit(x, y)
        return self

    def score(self, acts: Any) -> np.ndarray:
        """One score per row; higher = more like label 1. Scores are logits-like (0 is the decision boundary)."""
        if self.d_model is None:
            raise OverseerError(f"this {self.name} probe is not fitted: call fit(acts, labels) or load(dir) first.")
        x = as_matrix(acts)
        if x.shape[1] != self.d_model:
            raise InvalidInputError(f"probe was fitted on d_model {self.d_model} but got {x.shape[1]} columns: use "
                                    "activations from the same layer of the same model.")
        return self._score(x)

    def predict(self, acts: Any) -> np.ndarray:
        return (self.score(acts) > 0).astype(int)

    @property
    def direction(self) -> np.ndarray:
        """The unit vector in activation space the score grows along."""
        w = self._tensors()["weight"].double().numpy()
        return w / (np.linalg.norm(w) or 1.0)

    @abstractmethod
    def _fit(self, x: np.ndarray, y: np.ndarray) -> None: ...

    @abstractmethod
    def _score(self, x: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _tensors(self) -> dict[str, torch.Tensor]: ...

    @abstractmethod
    def _set_tensors(self, tensors: dict[str, torch.Tensor]) -> None: ...

    def _config(self) -> dict[str, Any]:
        return {}

    def save(self, directory: str | Path) -> Path:
        if self.d_model is None:
            raise OverseerError("cannot save an unfitted probe: call fit(acts, labels) first.")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {"probe": self.name, "d_model": self.d_model, "positive": self.positive, **self._config()}
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2))
        save_file({k: v.detach().contiguous().cpu() for k, v in self._tensors().items()},
                  str(directory / TENSORS_FILE))
        return directory


def load_probe(directory: str | Path) -> Probe:
    """Load any saved probe; the config names its class."""
    directory = Path(directory)
    config_path, tensors_path = directory / CONFIG_FILE, directory / TENSORS_FILE
    if not config_path.is_file() or not tensors_path.is_file():
        raise OverseerError(f"{directory} is not a saved probe: it needs {CONFIG_FILE} and {TENSORS_FILE} "
                            "(written by probe.save(dir)).")
    config = json.loads(config_path.read_text())
    kind = config.get("probe")
    if kind not in PROBES:
        raise OverseerError(f"{config_path} names probe {kind!r}; known probes: {', '.join(sorted(PROBES))}.")
    probe = PROBES[kind](**{k: v for k, v in config.items() if k not in ("probe", "d_model")})
    probe.d_model = int(config["d_model"])
    probe._set_tensors(load_file(str(tensors_path)))
    return probe


def save_with_sidecar(probe: Probe, directory: str | Path, sidecar: str, payload: Any) -> Path:
    """Save a detector built on `probe`: the probe's files plus `sidecar` (JSON) for the detector's own state."""
    directory = Path(directory)
    probe.save(directory)
    (directory / sidecar).write_text(json.dumps(payload, indent=2))
    return directory


def read_sidecar(directory: str | Path, sidecar: str, what: str) -> Any:
    """The JSON a detector saved beside its probe; a directory without it is not a saved `what`."""
    directory = Path(directory)
    path = directory / sidecar
    if not path.is_file():
        raise OverseerError(f"{directory} has no {sidecar}: it is not a saved {what}.")
    return json.loads(path.read_text())


def make_probe(kind: str, **kwargs: Any) -> Probe:
    if kind not in PROBES:
        raise InvalidInputError(f"unknown probe {kind!r}; choose one of {', '.join(sorted(PROBES))}.")
    return PROBES[kind](**kwargs)

"""The probe contract: `fit(acts, labels)`, then `score(acts)`; an `overseer.fitted.Fitted` object, saved as
`probe.json` + `probe.safetensors` and loaded back by `load_probe(dir)` (or `overseer.fitted.load(dir)`).

A probe reads one layer's activations `[n, d_model]` and returns one real score per row; higher
means "more like label 1". What label 1 means (true statement, honest answer, lie) is the caller's
choice and is recorded in the probe's `positive` field so a loaded probe says what it scores.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Self

import numpy as np
import torch
from safetensors.torch import load_file

from overseer.errors import InvalidInputError
from overseer.fitted import Fitted, check_is_fitted
from overseer.registry import Registry

PROBES: Registry[type[Probe]] = Registry("probe")
PROBES.add_lazy("logistic", "overseer.probes.linear:LogisticProbe", "L2-regularised logistic regression")
PROBES.add_lazy("mass_mean", "overseer.probes.linear:MassMeanProbe", "difference of class means (Marks & Tegmark)")
PROBES.add_lazy("lda", "overseer.probes.linear:LDAProbe", "Fisher LDA with a shrunk covariance")

# Detectors built on probes or on a model's answers; label 1 = lie / deceptive.
DETECTORS: Registry[type[Detector]] = Registry("lie detector")
DETECTORS.add_lazy("deception", "overseer.probes.deception:DeceptionProbe",
                   "white-box deception probe with a calibrated alarm threshold")
DETECTORS.add_lazy("follow_up", "overseer.probes.blackbox:FollowUpLieDetector",
                   "black-box follow-up questions (Pacchiardi et al. 2023)")


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


class Probe(Fitted, ABC):
    """Base class: subclasses set `name` and implement `_fit` and `_score`; learned state ends in `_`."""

    family = "probe"
    what = "probe"
    fit_hint = "fit(acts, labels)"

    def __init__(self, positive: str = "label 1") -> None:
        self.positive = positive

    def fit(self, acts: Any, labels: Any) -> Self:
        x = as_matrix(acts)
        y = as_labels(labels, len(x))
        self._fit(x, y)
        self.d_model_ = int(x.shape[1])
        return self

    def score(self, acts: Any) -> np.ndarray:
        """One score per row; higher = more like label 1. Scores are logits-like (0 is the decision boundary)."""
        check_is_fitted(self, "d_model_")
        x = as_matrix(acts)
        if x.shape[1] != self.d_model_:
            raise InvalidInputError(f"probe was fitted on d_model {self.d_model_} but got {x.shape[1]} columns: use "
                                    "activations from the same layer of the same model.")
        return self._score(x)

    def predict(self, acts: Any) -> np.ndarray:
        return (self.score(acts) > 0).astype(int)

    @property
    def direction(self) -> np.ndarray:
        """The unit vector in activation space the score grows along."""
        check_is_fitted(self, "weight_")
        w = np.asarray(self.weight_, dtype=np.float64)
        return w / (np.linalg.norm(w) or 1.0)

    @abstractmethod
    def _fit(self, x: np.ndarray, y: np.ndarray) -> None: ...

    @abstractmethod
    def _score(self, x: np.ndarray) -> np.ndarray: ...

    @classmethod
    def _load_legacy(cls, directory: Path, config: dict | None) -> Probe | None:
        """probe.json written before the fitted-object contract: {"probe": name, "d_model", ...params}."""
        if config is None or "probe" not in config or not (directory / "probe.safetensors").is_file():
            return None
        target = PROBES.get(config["probe"])
        probe = target(**{k: v for k, v in config.items() if k in target.param_names()})
        tensors = load_file(str(directory / "probe.safetensors"))
        probe._set_state({"weight_": tensors["weight"].double().numpy(), "bias_": float(tensors["bias"][0]),
                          "d_model_": int(config["d_model"])})
        return probe


Probe.registry = PROBES


class Detector(Fitted):
    """Base class of lie detectors (label 1 = lie / deceptive), saved as detector.json + detector.safetensors."""

    family = "detector"
    registry = DETECTORS
    what = "lie detector"


def load_probe(directory: str | Path) -> Probe:
    """Load any saved probe; the config names its class."""
    return Probe.load(directory)


def make_probe(kind: str, **kwargs: Any) -> Probe:
    return PROBES.get(kind)(**kwargs)

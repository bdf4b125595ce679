"""ODESteer (Zhao et al., ICLR 2026, arXiv 2602.17560) and its one-step variant.

Steering is integrating `da/dt = v(a)` with `v = grad h / ||grad h||`, where the barrier function h is the
log density ratio of positive over negative activations, estimated by a logistic regression on TensorSketch
polynomial features of the L2-normalised activation, plus the prior correction `log((1 - pi) / pi)` (pi =
fraction of positive examples). The gradient is analytic: through the sketch (a quadratic form for degree 2,
FFTs otherwise), then through the normalisation, whose Jacobian is `(I - x_hat x_hat^T) / ||x||`.
ODESteer takes `steps` Euler steps on [0, T]; StepODESteer one step of size T of the same field.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from overseer.steering.base import SteeringMethod, register
from overseer.steering.sketch import TensorSketch

_NORM_EPS = 1e-12
_FIELD_EPS = 1e-10


@register
class ODESteer(SteeringMethod):
    name = "odesteer"
    default_steps = 10

    def __init__(self, strength: float = 5.0, steps: int | None = None, degree: int = 2, n_components: int = 8000,
                 gamma: float = 0.1, coef0: float = 1.0, seed: int = 0, C: float = 1.0) -> None:
        super().__init__(strength)
        self.steps = int(steps if steps is not None else self.default_steps)
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        self.sketch = TensorSketch(degree, n_components, gamma, coef0, seed)
        self.C = float(C)
        self.weight: torch.Tensor | None = None  # [n_components] logistic-regression weight
        self.bias = 0.0
        self.log_prior = 0.0
        self._quad: torch.Tensor | None = None  # (A + A^T) for degree 2, built lazily from the weight
        self._cache: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}

    # ---- fitting ----
    def _fit(self, pos: torch.Tensor, neg: torch.Tensor) -> None:
        x = torch.cat([pos, neg])
        self.sketch.init(x.shape[1])
        features = self.sketch.transform(_normalise(x.double())).numpy()
        labels = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
        classifier = LogisticRegression(C=self.C, max_iter=1000)
        classifier.fit(features, labels)
        self.weight = torch.from_numpy(classifier.coef_[0]).float()
        self.bias = float(classifier.intercept_[0])
        pi = len(pos) / len(x)
        self.log_prior = math.log((1 - pi) / pi)
        self.train_accuracy = float(classifier.score(features, labels))
        self._reset_cache()

    # ---- the barrier function and its field ----
    def barrier(self, x: torch.Tensor) -> torch.Tensor:
        """h(x): estimated log density ratio log p_pos(x) / p_neg(x), `[n, d] -> [n]` (autograd-friendly)."""
        self._check_fitted()
        features = self.sketch.transform(_normalise(x))
        return features @ self.weight.to(x.device, x.dtype) + self.bias + self.log_prior

    def gradient(self, x: torch.Tensor) -> torch.Tensor:
        """Analytic grad h(x), `[n, d]`."""
        self._check_fitted()
        norm = x.norm(dim=-1, keepdim=True).clamp_min(_NORM_EPS)
        x_hat = x / norm
        if self.sketch.degree == 2:
            block, offset = self._quad_for(x)
            g_hat = torch.addmm(offset, x_hat, block)
        else:
            g_hat = self.sketch.vjp(x_hat, self.weight.to(x.device))
        radial = (g_hat * x_hat).sum(-1, keepdim=True)
        return (g_hat - radial * x_hat) / norm

    def field(self, x: torch.Tensor) -> torch.Tensor:
        grad = self.gradient(x)
        return grad / (grad.norm(dim=-1, keepdim=True) + _FIELD_EPS)

    def _apply_float(self, h: torch.Tensor, strength: float) -> torch.Tensor:
        dt = strength / self.steps
        for _ in range(self.steps):
            h = h + dt * self.field(h)
        return h

    def _quad_for(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """d h / d x_hat = x_hat @ block + offset: the gradient of x_ext^T A x_ext with x_ext = [sqrt(gamma) x_hat,
        sqrt(coef0)], split into the part that multiplies x_hat and the constant from the bias coordinate."""
        key = (x.device, x.dtype)
        if key not in self._cache:
            if self._quad is None:
                a = self.sketch.quadratic_form(self.weight).double()
                self._quad = a + a.T
            gamma, coef0 = self.sketch.gamma, self.sketch.coef0
            block = self._quad[:-1, :-1] * gamma
            offset = self._quad[:-1, -1] * math.sqrt(gamma * coef0)
            self._cache[key] = (block.to(x.device, x.dtype), offset.to(x.device, x.dtype))
        return self._cache[key]

    def _reset_cache(self) -> None:
        self._quad = None
        self._cache = {}

    # ---- persistence ----
    def _config(self) -> dict[str, Any]:
        return {"steps": self.steps, "C": self.C, "bias": self.bias, "log_prior": self.log_prior,
                **self.sketch.config()}

    @classmethod
    def _from_config(cls, config: dict[str, Any]) -> ODESteer:
        method = cls(steps=config["steps"], degree=config["degree"], n_components=config["n_components"],
                     gamma=config["gamma"], coef0=config["coef0"], seed=config["seed"], C=config.get("C", 1.0))
        method.bias, method.log_prior = float(config["bias"]), float(config["log_prior"])
        return method

    def _tensors(self) -> dict[str, torch.Tensor]:
        return {"weight": self.weight, **self.sketch.state()}

    def _load_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        self.weight = tensors["weight"].float()
        self.sketch.load_state(tensors)
        self._reset_cache()


@register
class StepODESteer(ODESteer):
    """One Euler step of ODESteer's field: `h' = h + T * v(h)`."""

    name = "step_odesteer"
    default_steps = 1


def _normalise(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True).clamp_min(_NORM_EPS)

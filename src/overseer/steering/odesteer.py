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
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from overseer.errors import InvalidInputError
from overseer.fitted import check_is_fitted
from overseer.steering.base import SteeringMethod
from overseer.steering.sketch import TensorSketch

_NORM_EPS = 1e-12
_FIELD_EPS = 1e-10


class ODESteer(SteeringMethod):
    name = "odesteer"
    default_steps = 10

    def __init__(self, strength: float = 5.0, steps: int | None = None, degree: int = 2, n_components: int = 8000,
                 gamma: float = 0.1, coef0: float = 1.0, seed: int = 0, c: float = 1.0,
                 layer: int | Sequence[int] | None = None, positions: str = "last") -> None:
        super().__init__(strength, layer, positions)
        self.steps = int(steps if steps is not None else self.default_steps)
        if self.steps < 1:
            raise InvalidInputError(f"steps must be >= 1, got {self.steps}: it is the number of Euler steps.")
        if not c > 0:
            raise InvalidInputError(f"c (inverse regularisation strength) must be > 0, got {c}.")
        self.degree, self.n_components, self.gamma, self.coef0, self.seed = degree, n_components, gamma, coef0, seed
        self.c = float(c)
        self._reset_cache()

    # ---- fitting ----
    def _fit(self, pos: torch.Tensor, neg: torch.Tensor) -> None:
        x = torch.cat([pos, neg])
        self.sketch_ = self._sketch().init(x.shape[1])
        features = self.sketch_.transform(_normalise(x.double())).numpy()
        labels = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
        classifier = LogisticRegression(C=self.c, max_iter=1000)
        classifier.fit(features, labels)
        self.weight_ = torch.from_numpy(classifier.coef_[0]).float()  # [n_components]
        self.bias_ = float(classifier.intercept_[0])
        pi = len(pos) / len(x)
        self.log_prior_ = math.log((1 - pi) / pi)
        self.train_accuracy_ = float(classifier.score(features, labels))
        self._reset_cache()

    def _sketch(self) -> TensorSketch:
        return TensorSketch(self.degree, self.n_components, self.gamma, self.coef0, self.seed)

    # ---- the barrier function and its field ----
    def barrier(self, x: torch.Tensor) -> torch.Tensor:
        """h(x): estimated log density ratio log p_pos(x) / p_neg(x), `[n, d] -> [n]` (autograd-friendly)."""
        check_is_fitted(self, "weight_")
        features = self.sketch_.transform(_normalise(x))
        return features @ self.weight_.to(x.device, x.dtype) + self.bias_ + self.log_prior_

    def gradient(self, x: torch.Tensor) -> torch.Tensor:
        """Analytic grad h(x), `[n, d]`."""
        check_is_fitted(self, "weight_")
        norm = x.norm(dim=-1, keepdim=True).clamp_min(_NORM_EPS)
        x_hat = x / norm
        if self.degree == 2:
            block, offset = self._quad_for(x)
            g_hat = torch.addmm(offset, x_hat, block)
        else:
            g_hat = self.sketch_.vjp(x_hat, self.weight_.to(x.device))
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
                a = self.sketch_.quadratic_form(self.weight_).double()
                self._quad = a + a.T
            gamma, coef0 = self.gamma, self.coef0
            block = self._quad[:-1, :-1] * gamma
            offset = self._quad[:-1, -1] * math.sqrt(gamma * coef0)
            self._cache[key] = (block.to(x.device, x.dtype), offset.to(x.device, x.dtype))
        return self._cache[key]

    def _reset_cache(self) -> None:
        self._quad = None
        self._cache = {}

    # ---- persistence: the sketch is saved as its two hash tables ----
    def _get_state(self) -> dict[str, Any]:
        state = {k: v for k, v in super()._get_state().items() if k != "sketch_"}
        return {**state, **({"sketch_index_": self.sketch_.index, "sketch_sign_": self.sketch_.sign}
                            if "sketch_" in vars(self) else {})}

    def _set_state(self, state: dict[str, Any]) -> None:
        state = dict(state)
        index, sign = state.pop("sketch_index_", None), state.pop("sketch_sign_", None)
        super()._set_state(state)
        if index is not None:
            self.sketch_ = self._sketch()
            self.sketch_.load_state({"sketch_index": index, "sketch_sign": sign})
        self._reset_cache()

    def _legacy_state(self, config: dict[str, Any], tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
        return {"weight_": tensors["weight"].float(), "sketch_index_": tensors["sketch_index"],
                "sketch_sign_": tensors["sketch_sign"], "bias_": float(config["bias"]),
                "log_prior_": float(config["log_prior"])}


class StepODESteer(ODESteer):
    """One Euler step of ODESteer's field: `h' = h + T * v(h)`."""

    name = "step_odesteer"
    default_steps = 1


def _normalise(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True).clamp_min(_NORM_EPS)

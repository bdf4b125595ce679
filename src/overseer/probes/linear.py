"""Linear probes: logistic regression, difference of means ("mass mean"), and LDA.

All three end up as an affine score `x @ weight + bias`, so they save, load and compare the same way.
Mass mean and LDA follow Marks & Tegmark (2023): the mass-mean direction is mu_1 - mu_0; LDA is their
"IID" variant, the same direction whitened by the (shrunk) pooled within-class covariance.
"""

from __future__ import annotations

import numpy as np

from overseer.errors import InvalidInputError
from overseer.probes.base import Probe


class AffineProbe(Probe):
    """A probe whose score is `x @ weight_ + bias_`."""

    def _score(self, x: np.ndarray) -> np.ndarray:
        return x @ self.weight_ + self.bias_


def _midpoint_bias(weight: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    return -float(weight @ (x[y == 1].mean(0) + x[y == 0].mean(0))) / 2


class LogisticProbe(AffineProbe):
    """L2-regularised logistic regression on standardised features (scikit-learn's lbfgs)."""

    name = "logistic"

    def __init__(self, positive: str = "label 1", c: float = 1.0, max_iter: int = 2000) -> None:
        super().__init__(positive)
        if not c > 0:
            raise InvalidInputError(f"c (inverse regularisation strength) must be > 0, got {c}.")
        self.c = float(c)
        self.max_iter = int(max_iter)

    def _fit(self, x: np.ndarray, y: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression

        mean, scale = x.mean(0), x.std(0)
        scale[scale == 0] = 1.0
        model = LogisticRegression(C=self.c, max_iter=self.max_iter, class_weight="balanced")
        model.fit((x - mean) / scale, y)
        # Fold the standardisation into the affine map so scoring needs no extra state.
        self.weight_ = model.coef_[0] / scale
        self.bias_ = float(model.intercept_[0] - self.weight_ @ mean)


class MassMeanProbe(AffineProbe):
    """Difference of class means; the boundary is the midpoint between the means."""

    name = "mass_mean"

    def _fit(self, x: np.ndarray, y: np.ndarray) -> None:
        self.weight_ = x[y == 1].mean(0) - x[y == 0].mean(0)
        self.bias_ = _midpoint_bias(self.weight_, x, y)


class LDAProbe(AffineProbe):
    """Fisher LDA: Sigma^-1 (mu_1 - mu_0) with a Ledoit-Wolf shrunk pooled covariance (d_model often > n)."""

    name = "lda"

    def _fit(self, x: np.ndarray, y: np.ndarray) -> None:
        from sklearn.covariance import ledoit_wolf

        centred = np.concatenate([x[y == c] - x[y == c].mean(0) for c in (0, 1)])
        covariance, _ = ledoit_wolf(centred, assume_centered=True)
        diff = x[y == 1].mean(0) - x[y == 0].mean(0)
        self.weight_ = np.linalg.solve(covariance + 1e-8 * np.eye(len(diff)), diff)
        self.bias_ = _midpoint_bias(self.weight_, x, y)

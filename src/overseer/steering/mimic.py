"""MiMiC (Singh et al. 2024, "Representation Surgery"), as the ODESteer paper runs it: a gated linear
optimal-transport map from the negative to the positive activations.

The map is the Gaussian (Bures-Wasserstein) Monge map between the two classes' empirical moments:
with biased covariances regularised on the diagonal, Cs = cov(neg) + reg I and Ct = cov(pos) + reg I,

    A = Cs^-1/2 (Cs^1/2 Ct Cs^1/2)^1/2 Cs^-1/2,   T(h) = mu_pos + A (h - mu_neg),

so T sends N(mu_neg, Cs) exactly onto N(mu_pos, Ct). The gate is a logistic-regression probe on the same
activations: only activations it classifies as negative are transported; the others pass unchanged.
Strength lambda interpolates for gated activations, h' = h + lambda (T(h) - h): 1 is the paper's map.

Deviations from ZhaoHongjue/odesteer (which uses POT's LinearTransport(reg=1e-2) and sklearn's
LogisticRegression(max_iter=1000) on raw activations, and ignores the strength): the probe is fitted on
standardised activations (LLM residual streams have a few huge dimensions that stall the solver on raw ones)
and mapped back to raw coordinates, which changes only how its L2 penalty weighs dimensions; and strength
interpolates the map, so MiMiC sits on the same strength axis as Linear-AcT.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from overseer.errors import InvalidInputError
from overseer.steering.base import SteeringMethod


def _sym_sqrt(matrix: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    """Square root (or inverse square root) of a symmetric positive semi-definite matrix, via eigh."""
    values, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    values = values.clamp_min(0.0).sqrt()
    if inverse:
        values = 1.0 / values.clamp_min(1e-12)
    return (vectors * values) @ vectors.T


def gaussian_transport(source: torch.Tensor, target: torch.Tensor,
                       reg: float = 1e-2) -> tuple[torch.Tensor, torch.Tensor]:
    """(A, b) with x @ A + b the Monge map from N(mean, cov + reg I) of `source` to that of `target` (float64)."""
    source, target = source.double(), target.double()
    mu_s, mu_t = source.mean(0), target.mean(0)
    eye = torch.eye(source.shape[1], dtype=torch.float64)
    cov_s = (source - mu_s).T @ (source - mu_s) / len(source) + reg * eye
    cov_t = (target - mu_t).T @ (target - mu_t) / len(target) + reg * eye
    root_s, inv_root_s = _sym_sqrt(cov_s), _sym_sqrt(cov_s, inverse=True)
    a = inv_root_s @ _sym_sqrt(root_s @ cov_t @ root_s) @ inv_root_s
    a = (a + a.T) / 2  # symmetric in exact arithmetic: the gradient of a convex quadratic
    return a, mu_t - mu_s @ a


class MiMiC(SteeringMethod):
    name = "mimic"
    strength_is_relative = True

    def __init__(self, strength: float = 1.0, layer: int | Sequence[int] | None = None, positions: str = "last",
                 reg: float = 1e-2, gate: bool = True) -> None:
        super().__init__(strength=strength, layer=layer, positions=positions)
        if not reg >= 0:
            raise InvalidInputError(f"reg must be >= 0 (it is added to the covariances' diagonals), got {reg}.")
        self.reg = float(reg)
        self.gate = bool(gate)

    def _fit(self, pos: torch.Tensor, neg: torch.Tensor) -> None:
        a, b = gaussian_transport(neg, pos, self.reg)
        if not (torch.isfinite(a).all() and torch.isfinite(b).all()):
            raise InvalidInputError("MiMiC's transport map is not finite: the covariances are singular; raise reg.")
        self.transport_ = a.float()
        self.shift_ = b.float()
        x = torch.cat([pos, neg]).double()
        mean, std = x.mean(0), x.std(0).clamp_min(1e-6)
        probe = LogisticRegression(max_iter=1000)
        probe.fit(((x - mean) / std).numpy(), np.concatenate([np.ones(len(pos)), np.zeros(len(neg))]))
        weight = torch.from_numpy(probe.coef_[0]).double() / std
        self.gate_weight_ = weight.float()
        self.gate_bias_ = torch.tensor([float(probe.intercept_[0]) - float(weight @ mean)])

    def transport(self, h: torch.Tensor) -> torch.Tensor:
        """T(h) for float32 `[n, d_model]` activations, ungated."""
        return h @ self.transport_.to(h.device) + self.shift_.to(h.device)

    def gated(self, h: torch.Tensor) -> torch.Tensor:
        """True where the probe classifies `h` (float32 `[n, d_model]`) as negative, i.e. where MiMiC acts."""
        if not self.gate:
            return torch.ones(h.shape[0], dtype=torch.bool, device=h.device)
        return h @ self.gate_weight_.to(h.device) + self.gate_bias_.to(h.device) < 0

    def _apply_float(self, h: torch.Tensor, strength: float) -> torch.Tensor:
        moved = h + strength * (self.transport(h) - h)
        return torch.where(self.gated(h)[:, None], moved, h)

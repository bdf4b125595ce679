"""Linear-AcT (Rodriguez et al. 2024): a per-dimension affine transport map from the negative to the positive
activations.

For each dimension the 1-D optimal transport map between two empirical distributions is the monotone map
matching their quantiles; Linear-AcT fits it with an affine function by least squares on the sorted
(quantile-matched) samples: `pos_q ~ a * neg_q + b`. Strength lambda interpolates,
`h' = h + lambda * ((a - 1) * h + b)`: 0 leaves h alone, 1 applies the full map.
"""

from __future__ import annotations

import torch

from overseer.steering.base import SteeringMethod

_QUANTILES = 256


class LinearAcT(SteeringMethod):
    name = "linear_act"
    strength_is_relative = True

    def _fit(self, pos: torch.Tensor, neg: torch.Tensor) -> None:
        levels = torch.linspace(0, 1, min(_QUANTILES, len(pos), len(neg)), dtype=torch.float64)
        pos_q = torch.quantile(pos.double(), levels, dim=0)  # [q, d], sorted per dimension
        neg_q = torch.quantile(neg.double(), levels, dim=0)
        neg_mean, pos_mean = neg_q.mean(0), pos_q.mean(0)
        cov = ((neg_q - neg_mean) * (pos_q - pos_mean)).mean(0)
        var = ((neg_q - neg_mean) ** 2).mean(0)
        # A dimension that is constant in the negative set has no slope to fit: translate it only.
        scale = torch.where(var > 1e-12, cov / var.clamp_min(1e-12), torch.ones_like(var))
        self.scale_ = scale.float()
        self.shift_ = (pos_mean - scale * neg_mean).float()

    def _apply_float(self, h: torch.Tensor, strength: float) -> torch.Tensor:
        scale, shift = self.scale_.to(h.device), self.shift_.to(h.device)
        return h + strength * ((scale - 1) * h + shift)

"""Shared shape of the additive baselines: `h' = h + strength * v` with one fitted vector v."""

from __future__ import annotations

import torch

from overseer.fitted import check_is_fitted
from overseer.steering.base import SteeringMethod


class AdditiveSteering(SteeringMethod):
    """One Euler step of a constant field: the vector is fitted, the strength multiplies it."""

    def _apply_float(self, h: torch.Tensor, strength: float) -> torch.Tensor:
        return h + strength * self.vector_.to(h.device)

    @property
    def unit_displacement(self) -> float:
        check_is_fitted(self, "vector_")
        return float(self.vector_.norm())

"""Shared shape of the additive baselines: `h' = h + strength * v` with one fitted vector v."""

from __future__ import annotations

import torch

from overseer.steering.base import SteeringMethod


class AdditiveSteering(SteeringMethod):
    """One Euler step of a constant field: the vector is fitted, the strength multiplies it."""

    def __init__(self, strength: float = 1.0) -> None:
        super().__init__(strength)
        self.vector: torch.Tensor | None = None

    def _apply_float(self, h: torch.Tensor, strength: float) -> torch.Tensor:
        return h + strength * self.vector.to(h.device)

    @property
    def unit_displacement(self) -> float:
        self._check_fitted()
        return float(self.vector.norm())

    def _tensors(self) -> dict[str, torch.Tensor]:
        return {"vector": self.vector}

    def _load_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        self.vector = tensors["vector"].float()

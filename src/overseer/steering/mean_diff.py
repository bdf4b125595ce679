"""CAA (Rimsky et al. 2024): the difference of the class means, added at every steered position."""

from __future__ import annotations

import torch

from overseer.steering.additive import AdditiveSteering


class MeanDiff(AdditiveSteering):
    name = "caa"

    def _fit(self, pos: torch.Tensor, neg: torch.Tensor) -> None:
        self.vector_ = pos.mean(0) - neg.mean(0)

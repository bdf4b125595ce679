"""RepE-style reading vector (Zou et al. 2023): first principal component of paired differences.

Pairs are formed row by row (pos[i] - neg[i]) over the first min(n_pos, n_neg) rows, so pass the
examples in matching order when they come in pairs. The component is oriented so that it points
from the negative toward the positive mean, and scaled to the length of the mean difference's
projection on it, so strength 1 moves activations about as far along it as CAA would.
"""

from __future__ import annotations

import torch

from overseer.steering.additive import AdditiveSteering


class RepE(AdditiveSteering):
    name = "repe"

    def _fit(self, pos: torch.Tensor, neg: torch.Tensor) -> None:
        n = min(len(pos), len(neg))
        diffs = (pos[:n] - neg[:n]).double()
        # Uncentred: RepE's PCA on differences keeps the mean shift, which is the signal we want.
        _, _, vh = torch.linalg.svd(diffs, full_matrices=False)
        direction = vh[0]
        shift = (pos.mean(0) - neg.mean(0)).double()
        projection = float(shift @ direction)
        if projection < 0:
            direction, projection = -direction, -projection
        self.vector_ = (direction * projection).float()

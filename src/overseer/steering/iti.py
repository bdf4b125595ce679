"""ITI-style steering (Li et al. 2023): the normalised weight of a logistic-regression probe.

ITI shifts along the probe direction by alpha times the standard deviation of the activations
projected on it; here strength is alpha, so strength 1 moves one standard deviation.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from overseer.steering.additive import AdditiveSteering


class ITI(AdditiveSteering):
    name = "iti"

    def _fit(self, pos: torch.Tensor, neg: torch.Tensor) -> None:
        x = torch.cat([pos, neg]).double()
        y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
        # Standardising makes the solver well conditioned when a few dimensions are huge (as in
        # many LLM residual streams); the weight is mapped back to the raw coordinates.
        mean, std = x.mean(0), x.std(0).clamp_min(1e-6)
        probe = LogisticRegression(max_iter=2000, class_weight="balanced")
        probe.fit(((x - mean) / std).numpy(), y)
        weight = torch.from_numpy(probe.coef_[0]).double() / std
        direction = weight / weight.norm().clamp_min(1e-12)
        sigma = float((x @ direction).std())
        self.vector_ = (direction * sigma).float()

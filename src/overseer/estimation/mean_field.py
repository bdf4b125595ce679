"""K = 1 (mean field): per-neuron means plus one variance shared by the whole layer. O(n^2).

The linear step maps the mean exactly and scales the shared variance by the layer's average
squared row norm ||W||_F^2 / n (the "average metric"); off-diagonal covariances are dropped.
Per-neuron spreads in variance and the dropped covariances are both O(n^-1/2), hence the
O(n^-1) mean squared error.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from overseer.estimation.activations import Activation
from overseer.estimation.gaussian_moments import DerivativeMoments, positive_variance
from overseer.estimation.inputs import GaussianInput


@dataclass
class MeanFieldState:
    mean: Tensor
    var: Tensor  # 0-dim: one variance for every neuron of the layer

    def variances(self) -> Tensor:
        return self.var.expand_as(self.mean)


class MeanFieldPropagator:
    order = 1

    def from_input(self, input_dist: GaussianInput) -> MeanFieldState:
        return MeanFieldState(input_dist.mean.clone(), input_dist.cov.diagonal().mean())

    def linear(self, state: MeanFieldState, weight: Tensor, bias: Tensor | None) -> MeanFieldState:
        mean = weight @ state.mean
        if bias is not None:
            mean = mean + bias
        metric = (weight * weight).sum() / weight.shape[0]
        return MeanFieldState(mean, state.var * metric)

    def nonlinear(self, state: MeanFieldState, activation: Activation) -> tuple[MeanFieldState, int]:
        var, clamped = positive_variance(state.variances())
        moments = DerivativeMoments(activation, state.mean, var)
        mean = moments(0, 1)
        shared = (moments(0, 2) - mean * mean).mean()
        return MeanFieldState(mean, shared), clamped

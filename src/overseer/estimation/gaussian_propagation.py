"""K = 2: propagate a full-covariance Gaussian (mean vector and covariance matrix). O(n^3).

Nonlinear step (SIMPLE), expanding around independent Gaussians N(mu_i, C_ii):
    E[x_i]  = E[phi(Z_i)]
    C_X,ii  = Var phi(Z_i)
    C_X,ij  = E[phi']_i E[phi']_j C_ij
AUGMENT (the next diagrams, and the trace parts of kappa3 and kappa4) lives in `augmented`.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from overseer.estimation.activations import Activation
from overseer.estimation.gaussian_moments import DerivativeMoments, positive_variance
from overseer.estimation.inputs import GaussianInput


@dataclass
class GaussianState:
    mean: Tensor
    cov: Tensor

    def variances(self) -> Tensor:
        return self.cov.diagonal()


def linear_gaussian(mean: Tensor, cov: Tensor, weight: Tensor, bias: Tensor | None) -> tuple[Tensor, Tensor]:
    new_mean = weight @ mean
    if bias is not None:
        new_mean = new_mean + bias
    new_cov = weight @ cov @ weight.T
    return new_mean, 0.5 * (new_cov + new_cov.T)


class GaussianPropagator:
    order = 2

    def from_input(self, input_dist: GaussianInput) -> GaussianState:
        return GaussianState(input_dist.mean.clone(), input_dist.cov.clone())

    def linear(self, state: GaussianState, weight: Tensor, bias: Tensor | None) -> GaussianState:
        return GaussianState(*linear_gaussian(state.mean, state.cov, weight, bias))

    def nonlinear(self, state: GaussianState, activation: Activation) -> tuple[GaussianState, int]:
        var, clamped = positive_variance(state.cov.diagonal())
        moments = DerivativeMoments(activation, state.mean, var)
        mean = moments(0, 1)
        d1 = moments(1, 1)
        cov = state.cov * (d1[:, None] * d1[None, :])
        cov.diagonal().copy_(moments(0, 2) - mean * mean)
        return GaussianState(mean, cov), clamped

"""K = 1 (mean field): per-neuron means and one variance coefficient per layer. O(n^2).

After a nonlinearity the covariance is replaced by its isotropic part c I, c = mean_i Var phi(z_i)
(the harmonic projection the reference code makes at K = 1); off-diagonal covariances are
dropped. The linear step maps the mean exactly and the covariance c I to c W W^T, of which K = 1
keeps the diagonal:
    metric="weights" (the reference's W W^T metric, the default here): Var z_i = c ||W_i||^2, exact
        at the first layer;
    metric="average": one variance c ||W||_F^2 / n shared by the layer (overseer's former K = 1,
        1.5-5x worse at width 128; kept for comparison as `k1-average`).
The dropped covariances and the spread of Var phi(z_i) around c are O(n^-1/2) per entry, hence
the O(n^-1) mean squared error.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from overseer.errors import InvalidInputError
from overseer.estimation.activations import Activation
from overseer.estimation.gaussian_moments import DerivativeMoments, positive_variance
from overseer.estimation.inputs import GaussianInput

METRICS = ("weights", "average")


def check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise InvalidInputError(f"metric must be one of {METRICS}, got {metric!r}.")


@dataclass
class MeanFieldState:
    mean: Tensor
    var: Tensor  # per-neuron variances at a pre-activation layer (0-dim c after a nonlinearity)

    def variances(self) -> Tensor:
        return self.var.expand_as(self.mean)


class MeanFieldPropagator:
    order = 1

    def __init__(self, metric: str = "weights") -> None:
        check_metric(metric)
        self.metric = metric

    def from_input(self, input_dist: GaussianInput) -> MeanFieldState:
        return MeanFieldState(input_dist.mean.clone(), input_dist.cov.diagonal().mean())

    def linear(self, state: MeanFieldState, weight: Tensor, bias: Tensor | None) -> MeanFieldState:
        mean = weight @ state.mean
        if bias is not None:
            mean = mean + bias
        squares = weight * weight
        metric = squares.sum(dim=1) if self.metric == "weights" else squares.sum() / weight.shape[0]
        return MeanFieldState(mean, state.var * metric)

    def nonlinear(self, state: MeanFieldState, activation: Activation) -> tuple[MeanFieldState, int]:
        var, clamped = positive_variance(state.variances())
        moments = DerivativeMoments(activation, state.mean, var)
        mean = moments(0, 1)
        isotropic = (moments(0, 2) - mean * mean).mean()
        return MeanFieldState(mean, isotropic), clamped

"""K = 2 AUGMENT, as the paper defines it: a full Gaussian plus the trace parts of kappa3 and kappa4.

At budget K the reference code tracks the cumulant of degree K + 1 as Sym(a (x) M) and that of
degree K + 2 (when even) as c Sym(M (x) M), where M is the metric the linear steps carry (M = I
after a nonlinearity, W W^T after the next linear step), and sums every diagram of cost <= K
(one more than SIMPLE). At K = 2 this means, besides the mean mu and covariance C:
    kappa3_ijk = b_i M_jk + b_j M_ik + b_k M_ij          (a vector b)
    kappa4_ijkl = c (M_ij M_kl + M_ik M_jl + M_il M_jk)   (a scalar c)
Linear step: mu, C exact, b -> W b, c unchanged, M = W W^T (`metric="weights"`) or its isotropic
average ||W||_F^2 / n I (`metric="average"`).
Nonlinear step: the one- and two-vertex diagrams of cost <= 2 (the C^2 term of the old
"augment", the kappa3 slices T_iij, T_iii and the kappa4 slices kappa4_iijj, kappa4_iiii, which
also correct the mean), then the orthogonal projection of the new kappa3 and kappa4 onto the
form above: b_i = sum_j kappa3_ijj / (n + 2), c = sum_ij kappa4_iijj / (n (n + 2)). Both traces
use only repeated-index entries, so nothing of size n^3 is ever formed: O(n^3) per layer, as K = 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from overseer.estimation.activations import Activation
from overseer.estimation.gaussian_moments import DerivativeMoments, positive_variance
from overseer.estimation.gaussian_propagation import linear_gaussian
from overseer.estimation.inputs import GaussianInput
from overseer.estimation.mean_field import check_metric
from overseer.estimation.third_order import repeated_index_cumulants


@dataclass
class AugmentedState:
    mean: Tensor
    cov: Tensor
    b: Tensor  # kappa3 = Sym(b (x) M)
    c: Tensor  # kappa4 = c Sym(M (x) M), 0-dim
    metric: Tensor  # M: (n, n), or 0-dim for a multiple of the identity

    def metric_diagonal(self) -> Tensor:
        return self.metric.diagonal() if self.metric.ndim == 2 else self.metric.expand_as(self.mean)

    def variances(self) -> Tensor:
        return self.cov.diagonal()

    def kappa3(self) -> Tensor:
        return 3.0 * self.b * self.metric_diagonal()

    def kappa4(self) -> Tensor:
        return 3.0 * self.c * self.metric_diagonal() ** 2


class AugmentedGaussianPropagator:
    order = 2

    def __init__(self, metric: str = "weights") -> None:
        check_metric(metric)
        self.metric = metric

    def from_input(self, input_dist: GaussianInput) -> AugmentedState:
        mean = input_dist.mean.clone()
        zero = mean.new_zeros(())
        return AugmentedState(mean, input_dist.cov.clone(), torch.zeros_like(mean), zero, zero + 1.0)

    def linear(self, state: AugmentedState, weight: Tensor, bias: Tensor | None) -> AugmentedState:
        mean, cov = linear_gaussian(state.mean, state.cov, weight, bias)
        # The average metric is the isotropic part of W W^T: ||W||_F^2 / n times the identity.
        metric = weight @ weight.T if self.metric == "weights" else (weight * weight).sum() / weight.shape[0]
        return AugmentedState(mean, cov, weight @ state.b, state.c, metric)

    def nonlinear(self, state: AugmentedState, activation: Activation) -> tuple[AugmentedState, int]:
        var, clamped = positive_variance(state.cov.diagonal())
        a = DerivativeMoments(activation, state.mean, var)
        n = state.mean.shape[0]
        diag = state.metric_diagonal()
        full = state.metric if state.metric.ndim == 2 else torch.diag(diag)
        # T_iij = 2 b_i M_ij + b_j M_ii; kappa4_iijj = c (M_ii M_jj + 2 M_ij^2).
        pair_k3 = 2.0 * state.b[:, None] * full + state.b[None, :] * diag[:, None]
        k4 = state.c * (diag[:, None] * diag[None, :] + 2.0 * full * full)
        k4.diagonal().copy_(3.0 * state.c * diag * diag)
        out = repeated_index_cumulants(a, state.cov, pair_k3, 3.0 * state.b * diag, k4)
        # sum_j kappa3_ijj: the pair slice [j, i] off the diagonal plus kappa3_iii.
        trace3 = out.k3_pair.sum(dim=0) - out.k3_pair.diagonal() + out.k3_triple
        c = out.k4_pair.sum() / (n * (n + 2))
        identity = state.mean.new_ones(())
        return AugmentedState(out.mean, out.cov, trace3 / (n + 2), c, identity), clamped

"""K = 3: Gaussian plus the third cumulant and the pair slice of the fourth.

The third cumulant is a full tensor (O(n^4) per layer) or, by default, in factored CP form
(O(n^3 l) at layer l), see `symmetric_tensors`.

Power counting for a wide random MLP (entries of pre-activation cumulants): off-diagonal
covariances are O(n^-1/2); third cumulants and the fourth cumulant's entries kappa4_iijj,
kappa4_iiii are O(n^-1). K = 3 keeps every term of size O(n^-1) in the mean, so the per-neuron
error is O(n^-3/2) and the MSE O(n^-3).

State at a pre-activation layer: mean mu, covariance C, third cumulant T (n x n x n) and
P (n x n) with P_ij = kappa4_iijj off the diagonal and P_ii = kappa4_iiii.

Linear step: mu, C and T map exactly (T' = W^{(x)3} T). For P only the index pairings that
survive at O(n^-1) are kept, with W2 = W * W (elementwise):
    P'_ij = sum_ab W2_ia W2_jb Ptilde_ab  (Ptilde: P_ab off the diagonal, P_aa on it)
    P'_ii = sum_a W2_ia^2 P_aa + 3 sum_(a != b) W2_ia W2_ib P_ab

Nonlinear step: expand around independent Gaussians N(mu_i, C_ii), writing a(k, p) for
E[d^k phi^p]. As in the reference code, first compute power cumulants (joint cumulants of
powers x_i^p) by summing the connected diagrams of cost <= 2 (an edge C_ij costs 1; a
kappa3 block or a kappa4 pair block costs 2), then convert them to ordinary cumulants:
    one vertex     E[x_i^p]        = a(0,p) + T_iii a(3,p)/6 + P_ii a(4,p)/24
    two vertices   k(x_i^p, x_j^q) = C a(1,p)a(1,q) + C^2 a(2,p)a(2,q)/2
                                     + T_iij a(2,p)a(1,q)/2 + T_ijj a(1,p)a(2,q)/2 + P_ij a(2,p)a(2,q)/4
    three vertices k(x_i, x_j, x_k) = T_ijk a(1)a(1)a(1) + the three two-edge paths C C a(1) a(2) a(1)
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from overseer.estimation.activations import Activation
from overseer.estimation.gaussian_moments import DerivativeMoments, positive_variance
from overseer.estimation.gaussian_propagation import linear_gaussian
from overseer.estimation.inputs import GaussianInput
from overseer.estimation.symmetric_tensors import DenseCubic, FactoredCubic

Cubic = DenseCubic | FactoredCubic


@dataclass
class ThirdOrderState:
    mean: Tensor
    cov: Tensor
    k3: Cubic
    k4_pairs: Tensor

    def variances(self) -> Tensor:
        return self.cov.diagonal()

    def kappa3(self) -> Tensor:
        return self.k3.triple_diagonal()

    def kappa4(self) -> Tensor:
        return self.k4_pairs.diagonal()


class ThirdOrderPropagator:
    """`factored=True` keeps T in CP form (see `symmetric_tensors`); both forms give the same numbers."""

    order = 3

    def __init__(self, factored: bool = True) -> None:
        self.factored = factored

    def from_input(self, input_dist: GaussianInput) -> ThirdOrderState:
        n = input_dist.dim
        mean = input_dist.mean.clone()
        cubic = FactoredCubic.zeros(mean) if self.factored else DenseCubic.zeros(mean)
        return ThirdOrderState(mean, input_dist.cov.clone(), cubic, mean.new_zeros(n, n))

    def linear(self, state: ThirdOrderState, weight: Tensor, bias: Tensor | None) -> ThirdOrderState:
        mean, cov = linear_gaussian(state.mean, state.cov, weight, bias)
        k3 = state.k3.contract(weight)
        w2 = weight * weight
        quartic = state.k4_pairs.diagonal()
        pairs = state.k4_pairs.clone()
        pairs.diagonal().zero_()
        from_pairs = w2 @ pairs @ w2.T
        from_quartic = (w2 * quartic[None, :]) @ w2.T
        k4 = from_pairs + from_quartic
        k4.diagonal().copy_(from_quartic.diagonal() + 3.0 * from_pairs.diagonal())
        return ThirdOrderState(mean, cov, k3, k4)

    def nonlinear(self, state: ThirdOrderState, activation: Activation) -> tuple[ThirdOrderState, int]:
        var, clamped = positive_variance(state.cov.diagonal())
        a = DerivativeMoments(activation, state.mean, var)
        slices = repeated_index_cumulants(
            a, state.cov, state.k3.pair_slice(), state.k3.triple_diagonal(), state.k4_pairs
        )
        # Three distinct vertices: the kappa3 block times e1^3 and the two-edge paths
        # e1_a C_ab e2_b C_bc e1_c; then the repeated-index entries from the power cumulants.
        e1, e2 = a(1, 1), a(2, 1)
        off = state.cov.clone()
        off.diagonal().zero_()
        new_k3 = state.k3.after_nonlinearity(e1, off * e1[:, None], e2, slices.k3_pair, slices.k3_triple)
        return ThirdOrderState(slices.mean, slices.cov, new_k3, slices.k4_pair), clamped


@dataclass
class RepeatedIndexCumulants:
    """The output cumulants of a nonlinear step on at most two distinct neurons.

    k3_pair[i, j] = kappa(x_i, x_i, x_j) off the diagonal; k4_pair[i, j] = kappa(x_i, x_i, x_j, x_j)
    off the diagonal and kappa4(x_i) on it; k3_triple[i] = kappa3(x_i).
    """

    mean: Tensor
    cov: Tensor
    k3_pair: Tensor
    k3_triple: Tensor
    k4_pair: Tensor


def repeated_index_cumulants(
    a: DerivativeMoments, cov: Tensor, pair_k3: Tensor, t3: Tensor, k4: Tensor
) -> RepeatedIndexCumulants:
    """Sum the one- and two-vertex diagrams of cost <= 2, then turn power cumulants into cumulants.

    Inputs are the pre-activation slices: pair_k3[i, j] = T_iij, t3[i] = T_iii, k4[i, j] =
    kappa4_iijj off the diagonal and kappa4_iiii on it.
    """
    q4 = k4.diagonal()

    def single(p: int) -> Tensor:
        """E[x_i^p]: the one-vertex diagrams (kappa3_iii, kappa4_iiii)."""
        return a(0, p) + t3 * a(3, p) / 6.0 + q4 * a(4, p) / 24.0

    def pair(p: int, q: int) -> Tensor:
        """Joint cumulant kappa(x_i^p, x_j^q), i != j: the two-vertex diagrams of cost <= 2."""
        return (
            cov * _outer(a(1, p), a(1, q))
            + 0.5 * cov * cov * _outer(a(2, p), a(2, q))
            + 0.5 * pair_k3 * _outer(a(2, p), a(1, q))
            + 0.5 * pair_k3.T * _outer(a(1, p), a(2, q))
            + 0.25 * k4 * _outer(a(2, p), a(2, q))
        )

    m1, m2, m3, m4 = single(1), single(2), single(3), single(4)
    c11 = pair(1, 1)
    # Power cumulants to ordinary ones: kappa(x_i^2, x_j) = kappa(x_i, x_i, x_j) + 2 mu_i kappa(x_i, x_j).
    k3_pair = pair(2, 1) - 2.0 * m1[:, None] * c11
    k4_pair = (
        pair(2, 2)
        - 2.0 * m1[None, :] * k3_pair
        - 2.0 * m1[:, None] * k3_pair.T
        - 2.0 * c11 * c11
        - 4.0 * _outer(m1, m1) * c11
    )
    cov_out = c11
    cov_out.diagonal().copy_(m2 - m1 * m1)
    k4_pair.diagonal().copy_(m4 - 4.0 * m3 * m1 - 3.0 * m2 * m2 + 12.0 * m2 * m1 * m1 - 6.0 * m1**4)
    return RepeatedIndexCumulants(m1, cov_out, k3_pair, m3 - 3.0 * m2 * m1 + 2.0 * m1**3, k4_pair)


def _outer(a: Tensor, b: Tensor) -> Tensor:
    return a[:, None] * b[None, :]

"""Gaussian expectations E[d^k phi(Z)^p] for Z ~ N(mean, var), one per neuron.

Every nonlinear step of cumulant propagation is an expansion around a product of per-neuron
Gaussians, and the expansion's coefficients are these expectations (Wick coefficients):

- ReLU: closed forms from the normal pdf/cdf. For k <= p, d^k relu^p is a multiple of
  relu^(p-k), whose Gaussian moments obey m_q = mu m_(q-1) + (q-1) var m_(q-2). For k > p it is
  p! times a derivative of Dirac's delta at 0, whose expectation is a Hermite polynomial times the pdf.
- heaviside = relu', sgn = 2 heaviside - 1 (sgn^p = 1 for even p), and |z|^p = relu(z)^p + relu(-z)^p,
  whose k-th derivative has expectation R(k, p; mu) + (-1)^k R(k, p; -mu): all closed forms from ReLU's.
- Polynomials: exact, from the Gaussian raw moments.
- GELU, tanh, sigmoid: 100-node Gauss-Hermite quadrature of sigma^-k E[phi^p He_k(xi)]
  (Gaussian integration by parts moves the k derivatives onto the Hermite polynomial).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import torch
from numpy.polynomial import Polynomial
from numpy.polynomial.hermite_e import hermegauss
from torch import Tensor

from overseer.estimation.activations import Activation

QUADRATURE_NODES = 100
_SQRT_2PI = math.sqrt(2.0 * math.pi)


def normal_pdf(x: Tensor) -> Tensor:
    return torch.exp(-0.5 * x * x) / _SQRT_2PI


def normal_cdf(x: Tensor) -> Tensor:
    # erfc keeps relative precision in the lower tail, where 1 + erf(x) would cancel.
    return 0.5 * torch.erfc(-x / math.sqrt(2.0))


def normal_sf(x: Tensor) -> Tensor:
    return 0.5 * torch.erfc(x / math.sqrt(2.0))


def hermite_he(order: int, x: Tensor) -> Tensor:
    """Probabilists' Hermite polynomial He_order(x), by the three-term recursion."""
    if order == 0:
        return torch.ones_like(x)
    prev, cur = torch.ones_like(x), x
    for m in range(1, order):
        prev, cur = cur, x * cur - m * prev
    return cur


@cache
def _quadrature(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = hermegauss(n_nodes)
    return nodes, weights / _SQRT_2PI


class _ReluTable:
    """E[d^k relu(Z)^p] for Z ~ N(mean, var), closed forms."""

    def __init__(self, mean: Tensor, var: Tensor, std: Tensor) -> None:
        self.mean, self.var, self.std = mean, var, std
        self.alpha = mean / std
        self._moments: list[Tensor] = []

    def __call__(self, k: int, p: int) -> Tensor:
        if p == 0:
            return torch.ones_like(self.mean) if k == 0 else torch.zeros_like(self.mean)
        if k <= p:
            return math.perm(p, k) * self._moment(p - k)
        return (
            math.factorial(p)
            * self.std ** (-(k - p))
            * hermite_he(k - p - 1, -self.alpha)
            * normal_pdf(self.alpha)
        )

    def _moment(self, q: int) -> Tensor:
        """E[relu(Z)^q], with relu^0 read as the indicator of Z > 0."""
        m = self._moments
        if not m:
            m.append(normal_cdf(self.alpha))
            m.append(self.mean * m[0] + self.std * normal_pdf(self.alpha))
        while len(m) <= q:
            j = len(m)
            m.append(self.mean * m[j - 1] + (j - 1) * self.var * m[j - 2])
        return m[q]


class DerivativeMoments:
    """Lazily computed, cached table of E[d^k phi(Z_i)^p] for Z_i ~ N(mean_i, var_i).

    `var` must already be positive; callers clamp (and flag) non-positive variances.
    """

    def __init__(self, activation: Activation, mean: Tensor, var: Tensor) -> None:
        self.activation = activation
        self.mean = mean
        self.var = var
        self.std = var.sqrt()
        self._cache: dict[tuple[int, int], Tensor] = {}
        self._relu = _ReluTable(mean, var, self.std)
        self._relu_mirror: _ReluTable | None = None
        self._raw_moments: list[Tensor] = []

    def __call__(self, k: int, p: int) -> Tensor:
        if (k, p) not in self._cache:
            self._cache[(k, p)] = self._compute(k, p)
        return self._cache[(k, p)]

    def _compute(self, k: int, p: int) -> Tensor:
        if p == 0:
            return torch.ones_like(self.mean) if k == 0 else torch.zeros_like(self.mean)
        name = self.activation.name
        if name == "relu":
            return self._relu(k, p)
        if name == "heaviside":
            return self._relu(k + 1, 1)
        if name == "sgn":
            if p % 2 == 0:
                return torch.ones_like(self.mean) if k == 0 else torch.zeros_like(self.mean)
            return 2.0 * self._relu(k + 1, 1) - (1.0 if k == 0 else 0.0)
        if name == "abs":
            if self._relu_mirror is None:
                self._relu_mirror = _ReluTable(-self.mean, self.var, self.std)
            return self._relu(k, p) + (-1) ** k * self._relu_mirror(k, p)
        if self.activation.polynomial is not None:
            return self._polynomial(k, p)
        return self._quadrature(k, p)

    def _raw_moment(self, i: int) -> Tensor:
        """E[Z^i] for the Gaussian Z."""
        m = self._raw_moments
        if not m:
            m.append(torch.ones_like(self.mean))
            m.append(self.mean)
        while len(m) <= i:
            j = len(m)
            m.append(self.mean * m[j - 1] + (j - 1) * self.var * m[j - 2])
        return m[i]

    def _polynomial(self, k: int, p: int) -> Tensor:
        poly = (Polynomial(self.activation.polynomial) ** p).deriv(k)
        out = torch.zeros_like(self.mean)
        for i, c in enumerate(poly.coef):
            if c != 0.0:
                out = out + float(c) * self._raw_moment(i)
        return out

    def _quadrature(self, k: int, p: int) -> Tensor:
        return gauss_hermite(self.activation.fn, self.mean, self.std, k, p)


def gauss_hermite(fn, mean: Tensor, std: Tensor, k: int = 0, p: int = 1) -> Tensor:
    """std^-k E[fn(Z)^p He_k(xi)], Z = mean + std xi, by 100-node Gauss-Hermite quadrature."""
    nodes_np, weights_np = _quadrature(QUADRATURE_NODES)
    nodes = torch.as_tensor(nodes_np, dtype=mean.dtype)
    weights = torch.as_tensor(weights_np, dtype=mean.dtype) * hermite_he(k, nodes)
    z = mean[:, None] + std[:, None] * nodes[None, :]
    values = fn(z)
    if p > 1:
        values = values**p
    return (values @ weights) * std ** (-k)


def positive_variance(var: Tensor, floor: float = 1e-12) -> tuple[Tensor, int]:
    """Clamp variances below `floor` (approximations can make them negative); return the count."""
    bad = var < floor
    count = int(bad.sum().item())
    return (var.clamp_min(floor) if count else var), count

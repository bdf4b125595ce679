"""Two representations of the symmetric third cumulant tensor T that K = 3 carries.

`DenseCubic` stores the n x n x n tensor: the linear step W^{(x)3} T costs 6 n^4 FLOPs.

`FactoredCubic` stores T = sum_r A_r (x) B_r (x) C_r (a CP sum of rank R, symmetric as a whole)
plus, after a nonlinear step, pending corrections on the repeated-index entries (the pair slice
T_iij and the diagonal T_iii), so that the linear step costs 6 n^2 R. Every nonlinear step adds
3n rank-one terms (the two-edge paths: one n x n factor per path orientation) and every linear
step turns the repeated-index corrections into 3n more, so R = 6 n l at layer l and reaching layer
l costs O(n^3 l^2) instead of O(n^4 l). As in the reference code's factored K = 3.

Both expose the same operations, so the K = 3 propagator does not care which it holds.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _triple_diagonal(t: Tensor) -> Tensor:
    return t.diagonal(dim1=0, dim2=1).diagonal(dim1=0, dim2=1)


def contract_symmetric_3(t: Tensor, weight: Tensor) -> Tensor:
    """W^{(x)3} T for a symmetric 3-tensor T, as three (n^2 x n) matrix products."""
    n_out, n_in = weight.shape
    # Contract the first index: (i, b, c).
    x = (weight @ t.reshape(n_in, n_in * n_in)).reshape(n_out, n_in, n_in)
    # Contract the last index: (i, b, k); symmetric in i <-> k.
    x = (x.reshape(n_out * n_in, n_in) @ weight.T).reshape(n_out, n_in, n_out)
    # Bring b last and contract it: (i, k, j), which equals (i, j, k) by symmetry.
    x = x.permute(0, 2, 1).reshape(n_out * n_out, n_in) @ weight.T
    return x.reshape(n_out, n_out, n_out)


class DenseCubic:
    def __init__(self, t: Tensor) -> None:
        self.t = t

    @classmethod
    def zeros(cls, like: Tensor) -> DenseCubic:
        n = like.shape[0]
        return cls(like.new_zeros(n, n, n))

    def contract(self, weight: Tensor) -> DenseCubic:
        return DenseCubic(contract_symmetric_3(self.t, weight))

    def triple_diagonal(self) -> Tensor:
        return _triple_diagonal(self.t)

    def pair_slice(self) -> Tensor:
        """[i, j] -> T_iij."""
        return self.t.diagonal(dim1=0, dim2=1).T

    def after_nonlinearity(
        self, e1: Tensor, path_edge: Tensor, path_middle: Tensor, pair: Tensor, triple: Tensor
    ) -> DenseCubic:
        """T e1^(x)3 + the three two-edge paths, then the repeated entries set to `pair` / `triple`.

        path[a, b, c] = path_edge[a, b] path_middle[b] path_edge[c, b], with b the middle vertex.
        """
        out = self.t * e1[:, None, None]
        out.mul_(e1[None, :, None])
        out.mul_(e1[None, None, :])
        path = path_edge[:, :, None] * (path_middle[:, None] * path_edge.T)[None, :, :]
        out.add_(path)
        out.add_(path.permute(1, 0, 2))
        out.add_(path.permute(0, 2, 1))
        del path
        # Every diagonal view of a symmetric 3-tensor reads [j, i] -> T_iij.
        for dims in ((0, 1), (0, 2), (1, 2)):
            out.diagonal(dim1=dims[0], dim2=dims[1]).copy_(pair.T)
        _triple_diagonal(out).copy_(triple)
        return DenseCubic(out)


class FactoredCubic:
    def __init__(
        self, a: Tensor, b: Tensor, c: Tensor, pair_fix: Tensor | None = None, triple_fix: Tensor | None = None
    ) -> None:
        self.a, self.b, self.c = a, b, c
        # Values to add on the repeated-index entries (pair_fix has a zero diagonal).
        self.pair_fix = pair_fix
        self.triple_fix = triple_fix

    @classmethod
    def zeros(cls, like: Tensor) -> FactoredCubic:
        empty = like.new_zeros(like.shape[0], 0)
        return cls(empty, empty.clone(), empty.clone())

    @property
    def rank(self) -> int:
        return self.a.shape[1]

    def contract(self, weight: Tensor) -> FactoredCubic:
        a, b, c = weight @ self.a, weight @ self.b, weight @ self.c
        if self.pair_fix is None:
            return FactoredCubic(a, b, c)
        # Rep[a, b, c] = d_ab S_ac + d_ac S_ab + d_bc S_ba + d_abc D_a maps to three rank-n terms
        # with V = W S^T; the diagonal D rides on the first.
        v = weight @ self.pair_fix.T
        first = v + weight * self.triple_fix[None, :]
        return FactoredCubic(
            _columns(a, weight, weight, v),
            _columns(b, weight, v, weight),
            _columns(c, first, weight, weight),
        )

    def triple_diagonal(self) -> Tensor:
        out = (self.a * self.b * self.c).sum(dim=1)
        return out if self.triple_fix is None else out + self.triple_fix

    def pair_slice(self) -> Tensor:
        out = (self.a * self.b) @ self.c.T
        return out if self.pair_fix is None else out + self.pair_fix

    def after_nonlinearity(
        self, e1: Tensor, path_edge: Tensor, path_middle: Tensor, pair: Tensor, triple: Tensor
    ) -> FactoredCubic:
        middle = path_edge.new_zeros(path_edge.shape)
        middle.diagonal().copy_(path_middle)
        a = _columns(self.a * e1[:, None], path_edge, middle, path_edge)
        b = _columns(self.b * e1[:, None], middle, path_edge, path_edge)
        c = _columns(self.c * e1[:, None], path_edge, path_edge, middle)
        out = FactoredCubic(a, b, c)
        pair_fix = pair - out.pair_slice()
        pair_fix.diagonal().zero_()
        return FactoredCubic(a, b, c, pair_fix, triple - out.triple_diagonal())


def _columns(*parts: Tensor) -> Tensor:
    """Concatenate factor matrices along the rank axis."""
    return torch.cat(parts, dim=1)

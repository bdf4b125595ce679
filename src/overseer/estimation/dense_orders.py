"""Cumulant propagation at any budget K on dense tensors: K3-AUGMENT and K = 4 (small widths).

The same algorithm as the specialised K = 1, 2, AUGMENT propagators, written once for every order
(and checked against them to rounding in the tests), following the paper's definitions:

- Tracked cumulants (`tracked_reach`): at budget K the cumulant of degree d <= K is kept in full;
  SIMPLE keeps degree K + 1 (when even) as c Sym(M^{(x)(d/2)}); AUGMENT keeps degree K + 1 as
  Sym(A (x) M) and degree K + 2 (when even) as c Sym(M^{(x)(d/2)}). M is the metric: I after a
  nonlinearity, W W^T after the next linear step. Dense storage carries M implicitly.
- Nonlinear step, around independent Gaussians N(mu_i, C_ii): the joint "power cumulant" of
  phi(z_i)^{p_i} over distinct neurons is the sum over connected multisets of blocks v (a block is
  a cumulant kappa_v with multiplicity v_i at neuron i; blocks of total order <= 2 on one neuron
  are in the base Gaussian) of prod kappa_v / v! / (repeats)! times prod_i E[d^{k_i} phi^{p_i}],
  k = sum v (the multivariate Edgeworth expansion, linked-cluster form). Only diagrams of cost
  sum (|v| - 1 - [v all even]) <= K - 1 (+1 for AUGMENT) and power patterns with
  sum ceil(p_i / 2) <= K are summed. Power cumulants become ordinary ones by inverting the
  Leonov-Shiryaev formula, and each degree is projected orthogonally onto its tracked form.

Dense degree-4 tensors cost n^4 memory and 8 n^5 FLOPs per linear step, so this runs at widths
up to MAX_DENSE_WIDTH; the factored forms the reference uses at large widths are not built here.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass
from functools import cache
from itertools import product

import torch
from torch import Tensor

from overseer.errors import InvalidInputError
from overseer.estimation.activations import Activation
from overseer.estimation.gaussian_moments import DerivativeMoments, positive_variance
from overseer.estimation.inputs import GaussianInput

MAX_DENSE_WIDTH = 64
Vec = tuple[int, ...]


def tracked_reach(degree: int, budget: int, augment: bool) -> int:
    """How degree `degree` is kept: 0 in full, r > 0 as Sym(A (x) M^{(x)r}), -1 dropped."""
    if degree <= budget:
        return 0
    if augment and degree == budget + 1:
        return 1
    top = budget + 2 if augment else budget + 1
    return degree // 2 if degree == top and degree % 2 == 0 else -1


def max_degree(budget: int, augment: bool) -> int:
    return max(d for d in range(1, budget + 4) if tracked_reach(d, budget, augment) >= 0)


def block_cost(v: Vec) -> int:
    """A block's entries are O(n^(-cost/2)) in a wide random MLP."""
    return sum(v) - 1 - all(x % 2 == 0 for x in v)


@cache
def _blocks(d: int, max_order: int, budget: int) -> tuple[Vec, ...]:
    out = []
    for v in product(range(max_order + 1), repeat=d):
        support = sum(1 for x in v if x)
        if sum(v) < 2 or sum(v) > max_order or (support == 1 and sum(v) <= 2):
            continue
        if block_cost(v) <= budget:
            out.append(v)
    return tuple(out)


def _connected(blocks: tuple[Vec, ...], d: int) -> bool:
    if d == 1:
        return True
    parent = list(range(d))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for v in blocks:
        support = [i for i, x in enumerate(v) if x]
        for i in support[1:]:
            parent[find(i)] = find(support[0])
    return len({find(i) for i in range(d)}) == 1


@cache
def diagrams(d: int, max_order: int, budget: int) -> tuple[tuple[tuple[Vec, ...], float], ...]:
    """Connected multisets of blocks on d neurons with total cost <= budget, with their weights."""
    blocks = _blocks(d, max_order, budget)
    out = []

    def extend(start: int, chosen: list[Vec], left: int) -> None:
        if _connected(tuple(chosen), d) and (chosen or d == 1):
            weight = 1.0
            for v in set(chosen):
                weight /= math.factorial(chosen.count(v)) * math.prod(math.factorial(x) for x in v) ** chosen.count(v)
            out.append((tuple(chosen), weight))
        for index in range(start, len(blocks)):
            cost = block_cost(blocks[index])
            if cost <= left:
                extend(index, [*chosen, blocks[index]], left - cost)

    extend(0, [], budget)
    return tuple(out)


@cache
def set_partitions(m: int) -> tuple[tuple[tuple[int, ...], ...], ...]:
    if m == 0:
        return ((),)
    out = []
    for rest in set_partitions(m - 1):
        out.append(((m - 1,), *rest))
        for i in range(len(rest)):
            out.append((*rest[:i], (*rest[i], m - 1), *rest[i + 1 :]))
    return tuple(out)


@cache
def patterns(budget: int, top: int) -> tuple[Vec, ...]:
    """Power patterns (p_1, ..., p_d) on distinct neurons, in order of total degree."""
    out = []
    for total in range(1, top + 1):
        for d in range(1, total + 1):
            for p in product(range(1, total + 1), repeat=d):
                if sum(p) == total and sum(math.ceil(x / 2) for x in p) <= budget:
                    out.append(p)
    return tuple(out)


@dataclass
class DenseState:
    cumulants: dict[int, Tensor]  # degree -> dense symmetric tensor

    @property
    def mean(self) -> Tensor:
        return self.cumulants[1]

    def variances(self) -> Tensor:
        return self.cumulants[2].diagonal()

    def kappa3(self) -> Tensor:
        t = self.cumulants.get(3)
        return torch.zeros_like(self.mean) if t is None else t.diagonal(0, 0, 1).diagonal(0, 0, 1)

    def kappa4(self) -> Tensor:
        t = self.cumulants.get(4)
        if t is None:
            return torch.zeros_like(self.mean)
        return t.diagonal(0, 0, 1).diagonal(0, 0, 1).diagonal(0, 0, 1)


class DenseCumulantPropagator:
    def __init__(self, budget: int, augment: bool = False) -> None:
        self.order = budget
        self.budget = budget
        self.augment = augment
        self.top = max_degree(budget, augment)
        if self.top > 4:
            raise InvalidInputError(
                f"Dense cumulant propagation tracks degrees up to 4; budget {budget} "
                f"{'AUGMENT' if augment else 'SIMPLE'} needs {self.top}. Use k4 or k3-augment at most."
            )

    def from_input(self, input_dist: GaussianInput) -> DenseState:
        tower = {1: input_dist.mean.clone(), 2: input_dist.cov.clone()}
        n = input_dist.dim
        for d in range(3, self.top + 1):
            tower[d] = input_dist.mean.new_zeros((n,) * d)
        # The reference projects the input cumulants onto their tracked form too.
        return DenseState(self._project(tower))

    def linear(self, state: DenseState, weight: Tensor, bias: Tensor | None) -> DenseState:
        out = {}
        for d, t in state.cumulants.items():
            for axis in range(d):
                t = torch.movedim(torch.tensordot(weight, t, dims=([1], [axis])), 0, axis)
            out[d] = t
        if bias is not None:
            out[1] = out[1] + bias
        return DenseState(out)

    def nonlinear(self, state: DenseState, activation: Activation) -> tuple[DenseState, int]:
        var, clamped = positive_variance(state.variances())
        a = DerivativeMoments(activation, state.mean, var)
        power = {p: self._power_cumulant(p, state.cumulants, a) for p in patterns(self.budget, self.top)}
        ordinary: dict[Vec, Tensor] = {}
        for p in power:
            ordinary[p] = _invert(p, power[p], ordinary)
        n = state.mean.shape[0]
        tower = {d: _assemble(d, ordinary, n, state.mean) for d in range(1, self.top + 1)}
        return DenseState(self._project(tower)), clamped

    def _power_cumulant(self, p: Vec, cumulants: dict[int, Tensor], a: DerivativeMoments) -> Tensor:
        d = len(p)
        letters = string.ascii_lowercase[:d]
        total = None
        for blocks, weight in diagrams(d, self.top, self.budget - 1 + self.augment):
            operands, subscripts = [], []
            for v in blocks:
                subscripts.append("".join(letters[i] * x for i, x in enumerate(v)))
                operands.append(cumulants[sum(v)])
            k = [sum(v[i] for v in blocks) for i in range(d)]
            for i in range(d):
                subscripts.append(letters[i])
                operands.append(a(k[i], p[i]))
            term = weight * torch.einsum(",".join(subscripts) + "->" + letters, *operands)
            total = term if total is None else total + term
        return total

    def _project(self, tower: dict[int, Tensor]) -> dict[int, Tensor]:
        out = {}
        for d, t in tower.items():
            reach = tracked_reach(d, self.budget, self.augment)
            if reach == 0:
                out[d] = t
            elif reach > 0:
                out[d] = harmonic_projection(t, reach)
        return out


def _invert(p: Vec, power: Tensor, ordinary: dict[Vec, Tensor]) -> Tensor:
    """kappa(x_1 .. x_1, x_2 .. x_2, ...) from the power cumulant kappa(x_1^p_1, x_2^p_2, ...).

    Leonov-Shiryaev: the power cumulant is the sum over partitions pi of the copies whose join
    with the grouping by neuron is one block, of products of ordinary cumulants over pi's blocks.
    """
    owner = [i for i, x in enumerate(p) for _ in range(x)]
    letters = string.ascii_lowercase[: len(p)]
    out = power.clone()
    for partition in set_partitions(len(owner)):
        if len(partition) == 1 or not _joins_all(partition, owner, len(p)):
            continue
        operands, subscripts = [], []
        for block in partition:
            neurons = sorted({owner[c] for c in block})
            sub = tuple(sum(1 for c in block if owner[c] == i) for i in neurons)
            operands.append(ordinary[sub])
            subscripts.append("".join(letters[i] for i in neurons))
        out = out - torch.einsum(",".join(subscripts) + "->" + letters, *operands)
    return out


def _joins_all(partition, owner: list[int], d: int) -> bool:
    blocks = tuple(tuple(1 if any(owner[c] == i for c in block) else 0 for i in range(d)) for block in partition)
    return _connected(blocks, d)


def _assemble(d: int, ordinary: dict[Vec, Tensor], n: int, like: Tensor) -> Tensor:
    """The dense degree-d cumulant from its slices (one per pattern of equal indices)."""
    out = like.new_zeros((n,) * d)
    letters = string.ascii_lowercase[:d]
    eye = torch.eye(n, dtype=like.dtype)
    for partition in set_partitions(d):
        ordered = sorted(partition, key=min)
        p = tuple(len(b) for b in ordered)
        if p not in ordinary:
            continue
        m = len(ordered)
        slice_ = ordinary[p] * _distinct_mask(m, n, like.dtype)
        subscripts = ["".join(letters[min(b)] for b in ordered)]
        operands = [slice_]
        for b in ordered:
            for c in b:
                if c != min(b):
                    subscripts.append(letters[min(b)] + letters[c])
                    operands.append(eye)
        out = out + torch.einsum(",".join(subscripts) + "->" + letters, *operands)
    return out


@cache
def _distinct_mask_cached(m: int, n: int) -> Tensor:
    mask = torch.ones((n,) * m, dtype=torch.float64)
    eye = torch.eye(n, dtype=torch.float64)
    for i in range(m):
        for j in range(i + 1, m):
            mask = mask * (1 - eye).reshape([n if k in (i, j) else 1 for k in range(m)])
    return mask


def _distinct_mask(m: int, n: int, dtype: torch.dtype) -> Tensor:
    return _distinct_mask_cached(m, n).to(dtype)


def harmonic_projection(t: Tensor, r: int) -> Tensor:
    """Orthogonal projection of a symmetric tensor onto {Sym(A (x) I^{(x)r})} (Frobenius)."""
    d, n = t.ndim, t.shape[0]
    eye = torch.eye(n, dtype=t.dtype)
    if d == 2 and r == 1:
        return torch.diagonal(t).sum() / n * eye
    if d == 3 and r == 1:
        b = torch.einsum("ijj->i", t) / (n + 2)
        return _sym_vector_identity(b, eye)
    if d == 4 and r == 2:
        c = torch.einsum("iijj->", t) / (n * (n + 2))
        return c * _sym_identity_identity(eye)
    if d == 4 and r == 1:
        trace = torch.einsum("ijkk->ij", t)
        trace_a = torch.trace(trace) / (2 * n + 4)
        a = (trace - trace_a * eye) / (n + 4)
        return _sym_matrix_identity(a, eye)
    raise InvalidInputError(f"internal: no harmonic projection for degree {d}, reach {r}")


def _sym_vector_identity(b: Tensor, eye: Tensor) -> Tensor:
    return (torch.einsum("i,jk->ijk", b, eye) + torch.einsum("j,ik->ijk", b, eye)
            + torch.einsum("k,ij->ijk", b, eye))


def _sym_identity_identity(eye: Tensor) -> Tensor:
    return (torch.einsum("ij,kl->ijkl", eye, eye) + torch.einsum("ik,jl->ijkl", eye, eye)
            + torch.einsum("il,jk->ijkl", eye, eye))


def _sym_matrix_identity(a: Tensor, eye: Tensor) -> Tensor:
    pairs = ("ij,kl", "kl,ij", "ik,jl", "jl,ik", "il,jk", "jk,il")
    return sum(torch.einsum(f"{p}->ijkl", a, eye) for p in pairs)

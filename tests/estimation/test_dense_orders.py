"""The any-order dense engine (K3-AUGMENT, K = 4) against the specialised propagators, exact Isserlis
values, brute-force projections and a sampled ground truth."""

import itertools
import math

import pytest
import torch

from overseer.estimation import GaussianInput, build_mlp, make_cumulant_estimator, sample_ground_truth
from overseer.estimation.activations import get_activation
from overseer.estimation.augmented import AugmentedGaussianPropagator
from overseer.estimation.dense_orders import DenseCumulantPropagator, harmonic_projection, tracked_reach
from overseer.estimation.gaussian_propagation import GaussianPropagator
from overseer.estimation.mean_field import MeanFieldPropagator


def propagate(prop, mlp, dist):
    state, means = prop.from_input(dist), []
    for layer in range(mlp.depth):
        state = prop.linear(state, mlp.weight(layer), mlp.bias(layer))
        means.append(state.mean.clone())
        if layer < mlp.depth - 1:
            state, _ = prop.nonlinear(state, mlp.activation)
    return means, state


@pytest.mark.parametrize("activation", ["relu", "gelu", "sgn"])
@pytest.mark.parametrize(
    "budget,augment,specialised",
    [(1, False, MeanFieldPropagator), (2, False, GaussianPropagator), (2, True, AugmentedGaussianPropagator)],
)
def test_dense_engine_reproduces_the_specialised_orders(activation, budget, augment, specialised):
    mlp = build_mlp(7, 4, activation, bias=True, seed=1)
    dist = GaussianInput.standard(7)
    dense, _ = propagate(DenseCumulantPropagator(budget, augment), mlp, dist)
    reference, _ = propagate(specialised(), mlp, dist)
    for a, b in zip(dense, reference, strict=True):
        assert torch.allclose(a, b, atol=1e-13)


def test_tracked_forms_follow_the_paper():
    # (budget, augment) -> reach of degrees 1..6: 0 full, r > 0 Sym(A (x) M^r), -1 dropped.
    expected = {
        (1, False): [0, 1, -1, -1, -1, -1],
        (2, True): [0, 0, 1, 2, -1, -1],
        (3, False): [0, 0, 0, 2, -1, -1],
        (3, True): [0, 0, 0, 1, -1, -1],
        (4, False): [0, 0, 0, 0, -1, -1],
    }
    for (budget, augment), reaches in expected.items():
        assert [tracked_reach(d, budget, augment) for d in range(1, 7)] == reaches


@pytest.mark.parametrize("reach", [1, 2])
def test_degree_four_projection_is_the_least_squares_one(reach):
    n = 4
    g = torch.Generator().manual_seed(3)
    raw = torch.randn(n, n, n, n, generator=g, dtype=torch.float64)
    t = sum(raw.permute(*p) for p in itertools.permutations(range(4))) / 24
    eye = torch.eye(n, dtype=torch.float64)
    if reach == 2:
        basis = [harmonic_projection(torch.einsum("ij,kl->ijkl", eye, eye), 2)]
    else:
        basis = []
        for i, j in itertools.combinations_with_replacement(range(n), 2):
            a = torch.zeros(n, n, dtype=torch.float64)
            a[i, j] = a[j, i] = 1.0
            placements = ("ij,kl", "kl,ij", "ik,jl", "jl,ik", "il,jk", "jk,il")
            basis.append(sum(torch.einsum(f"{p}->ijkl", a, eye) for p in placements))
    matrix = torch.stack([b.reshape(-1) for b in basis], dim=1)
    coef, *_ = torch.linalg.lstsq(matrix, t.reshape(-1, 1))
    assert torch.allclose(harmonic_projection(t, reach), (matrix @ coef).reshape(t.shape), atol=1e-12)


@pytest.mark.parametrize("budget,augment", [(3, True), (4, False)])
def test_third_cumulant_of_squared_gaussians_is_exact(budget, augment):
    # kappa(z_i^2, z_j^2, z_k^2) = 8 C_ij C_jk C_ki for z ~ N(0, C), every (i, j, k) including repeats.
    n = 5
    g = torch.Generator().manual_seed(0)
    w = torch.randn(n, n, generator=g, dtype=torch.float64) / math.sqrt(n)
    prop = DenseCumulantPropagator(budget, augment)
    state = prop.linear(prop.from_input(GaussianInput.standard(n)), w, None)
    out, _ = prop.nonlinear(state, get_activation("square"))
    c = w @ w.T
    assert torch.allclose(out.cumulants[3], 8 * torch.einsum("ij,jk,ki->ijk", c, c, c), atol=1e-12)
    assert torch.allclose(out.cumulants[2], 2 * c * c, atol=1e-12)
    assert torch.allclose(out.mean, c.diagonal(), atol=1e-14)


@pytest.mark.slow
def test_k4_and_k3_augment_improve_on_lower_orders_on_a_width_16_relu_net():
    mlp = build_mlp(16, 5, "relu", seed=0)
    truth = sample_ground_truth(mlp, n_samples=1_000_000, batch_size=50_000)
    mse = {name: truth.error(make_cumulant_estimator(name).estimate(mlp).layer_means[4], 4)
           for name in ["k2-augment", "k3-augment", "k4"]}
    assert all(e.resolved for e in mse.values())
    assert mse["k3-augment"].mse < mse["k2-augment"].mse
    assert mse["k4"].mse < mse["k3-augment"].mse / 3

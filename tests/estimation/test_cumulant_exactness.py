"""Where cumulant propagation is provably exact, it must match the closed form to rounding."""

import math

import pytest
import torch

from overseer.estimation import GaussianInput, build_mlp, make_cumulant_estimator
from overseer.estimation.activations import get_activation
from overseer.estimation.symmetric_tensors import DenseCubic
from overseer.estimation.third_order import ThirdOrderPropagator, ThirdOrderState

ALL = ["k1", "k2", "k2-augment", "k3", "k3-dense"]


def random_input(n: int, seed: int = 0) -> GaussianInput:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, n, generator=g, dtype=torch.float64) / math.sqrt(n)
    return GaussianInput(torch.randn(n, generator=g, dtype=torch.float64) * 0.5, a @ a.T + 0.1 * torch.eye(n))


@pytest.mark.parametrize("name", ALL)
def test_linear_network_means_are_exact_for_every_order(name):
    mlp = build_mlp(12, 4, "linear", bias=True, seed=3)
    dist = random_input(12)
    result = make_cumulant_estimator(name).estimate(mlp, dist)
    mean = dist.mean
    for layer in range(4):
        mean = mlp.weight(layer) @ mean + mlp.bias(layer)
        assert torch.allclose(result.layer_means[layer], mean, atol=1e-12)


@pytest.mark.parametrize("name", ["k2", "k2-augment", "k3", "k3-dense"])
def test_linear_network_covariance_is_exact(name):
    mlp = build_mlp(10, 3, "linear", seed=4)
    dist = random_input(10, seed=1)
    result = make_cumulant_estimator(name).estimate(mlp, dist)
    cov = dist.cov
    for layer in range(3):
        w = mlp.weight(layer)
        cov = w @ cov @ w.T
        assert torch.allclose(result.layer_variances[layer], cov.diagonal(), atol=1e-12)


@pytest.mark.parametrize("name", ["k2", "k2-augment", "k3", "k3-dense"])
def test_one_relu_on_a_known_gaussian_matches_the_closed_form(name):
    mlp = build_mlp(9, 2, "relu", bias=True, seed=5)
    dist = random_input(9, seed=2)
    w0, b0 = mlp.weight(0), mlp.bias(0)
    mu = w0 @ dist.mean + b0
    sigma = (w0 @ dist.cov @ w0.T).diagonal().sqrt()
    alpha = mu / sigma
    cdf = 0.5 * torch.erfc(-alpha / math.sqrt(2))
    pdf = torch.exp(-0.5 * alpha**2) / math.sqrt(2 * math.pi)
    expected = mlp.weight(1) @ (mu * cdf + sigma * pdf) + mlp.bias(1)
    result = make_cumulant_estimator(name).estimate(mlp, dist)
    assert torch.allclose(result.layer_means[1], expected, atol=1e-12)


def exact_square_network_mean(mlp, dist: GaussianInput) -> torch.Tensor:
    """E[z_2] for z_0 = W0 x, z_1 = W1 z_0^2, z_2 = W2 z_1^2 with Gaussian x (Isserlis)."""
    w0, w1, w2 = (mlp.weight(i) for i in range(3))
    mu0 = w0 @ dist.mean
    c0 = w0 @ dist.cov @ w0.T
    mu_x = mu0**2 + c0.diagonal()
    cov_x = 2 * c0**2 + 4 * torch.outer(mu0, mu0) * c0
    mu1, c1 = w1 @ mu_x, w1 @ cov_x @ w1.T
    return w2 @ (mu1**2 + c1.diagonal())


@pytest.mark.parametrize("name", ["k2-augment", "k3", "k3-dense"])
def test_square_activation_network_is_exact_with_the_augmented_term(name):
    mlp = build_mlp(8, 3, "square", seed=6)
    dist = random_input(8, seed=3)
    result = make_cumulant_estimator(name).estimate(mlp, dist)
    assert torch.allclose(result.layer_means[2], exact_square_network_mean(mlp, dist), rtol=1e-10)


def test_simple_k2_misses_the_squared_covariance_term_on_square_activations():
    mlp = build_mlp(8, 3, "square", seed=6)
    dist = random_input(8, seed=3)
    result = make_cumulant_estimator("k2").estimate(mlp, dist)
    assert not torch.allclose(result.layer_means[2], exact_square_network_mean(mlp, dist), rtol=1e-6)


def test_k3_nonlinear_step_is_exact_for_the_mean_of_a_cube():
    n = 5
    g = torch.Generator().manual_seed(0)
    mean = torch.randn(n, generator=g, dtype=torch.float64)
    a = torch.randn(n, n, generator=g, dtype=torch.float64)
    cov = a @ a.T / n + torch.eye(n, dtype=torch.float64)
    k3 = torch.randn(n, n, n, generator=g, dtype=torch.float64) * 0.1
    k3 = sum(k3.permute(*p) for p in [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]) / 6
    state = ThirdOrderState(mean, cov, DenseCubic(k3), torch.zeros(n, n, dtype=torch.float64))
    out, clamped = ThirdOrderPropagator(factored=False).nonlinear(state, get_activation("cube"))
    s = cov.diagonal()
    t3 = k3.diagonal(dim1=0, dim2=1).diagonal(dim1=0, dim2=1)
    assert clamped == 0
    assert torch.allclose(out.mean, mean**3 + 3 * mean * s + t3, atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "gelu", "sigmoid"])
def test_factored_third_cumulant_gives_the_same_numbers_as_the_dense_one(activation):
    mlp = build_mlp(12, 5, activation, bias=True, seed=9)
    dist = random_input(12, seed=4)
    factored = make_cumulant_estimator("k3").estimate(mlp, dist)
    dense = make_cumulant_estimator("k3-dense").estimate(mlp, dist)
    for layer in range(5):
        assert torch.allclose(factored.layer_means[layer], dense.layer_means[layer], atol=1e-12)
        assert torch.allclose(factored.layer_kappa3[layer], dense.layer_kappa3[layer], atol=1e-12)
        assert torch.allclose(factored.layer_kappa4[layer], dense.layer_kappa4[layer], atol=1e-12)


def test_negative_variances_are_clamped_and_counted():
    from overseer.estimation.gaussian_propagation import GaussianPropagator, GaussianState

    mean = torch.zeros(3, dtype=torch.float64)
    cov = torch.diag(torch.tensor([1.0, -0.5, 2.0], dtype=torch.float64))
    out, clamped = GaussianPropagator().nonlinear(GaussianState(mean, cov), get_activation("relu"))
    assert clamped == 1
    assert torch.isfinite(out.mean).all() and torch.isfinite(out.cov).all()


def test_exploding_networks_are_flagged_as_diverged():
    mlp = build_mlp(8, 8, "cube", seed=0)
    with torch.no_grad():
        for layer in mlp.layers:
            layer.weight.mul_(3.0)
    result = make_cumulant_estimator("k2").estimate(mlp)
    assert result.diverged and result.diverged_at_layer is not None
    assert torch.isnan(result.layer_means[-1]).all()
    assert any("diverged" in note for note in result.notes)


def test_clamped_variances_flag_the_layers_after_them():
    # K=3 on a narrow, deep net is far outside its regime; its variances go negative.
    result = make_cumulant_estimator("k3").estimate(build_mlp(8, 16, seed=0))
    assert result.negative_variances > 0 and result.first_clamped_layer is not None
    assert result.flagged_at(15) and not result.flagged_at(result.first_clamped_layer)

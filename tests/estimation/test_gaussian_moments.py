import math

import pytest
import torch

from overseer.estimation.activations import get_activation
from overseer.estimation.gaussian_moments import DerivativeMoments, hermite_he
from overseer.estimation.mlp import he_gain

MEANS = torch.tensor([-1.3, -0.2, 0.0, 0.4, 1.7], dtype=torch.float64)
VARS = torch.tensor([0.3, 1.0, 2.0, 0.7, 1.4], dtype=torch.float64)


def grid_expectation(fn, k: int) -> torch.Tensor:
    """sigma^-k E[fn(Z) He_k((Z - mean) / sigma)] per neuron, by a fine trapezoid rule.

    Gaussian integration by parts makes this E[d^k fn(Z)] without differentiating fn.
    """
    x = torch.linspace(-14.0, 14.0, 60_001, dtype=torch.float64)
    sigma = VARS.sqrt()[:, None]
    weight = torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    values = fn(MEANS[:, None] + sigma * x) * hermite_he(k, x) * weight
    return torch.trapezoid(values, x) * sigma[:, 0] ** (-k)


RELU_CASES = [(0, 1), (1, 1), (2, 1), (3, 1), (4, 1), (0, 2), (1, 2), (2, 2), (3, 2), (4, 2), (0, 4)]


@pytest.mark.parametrize("k,p", RELU_CASES)
def test_relu_closed_forms_match_numerical_integration(k, p):
    table = DerivativeMoments(get_activation("relu"), MEANS, VARS)
    want = grid_expectation(lambda z: torch.relu(z) ** p, k)
    assert torch.allclose(table(k, p), want, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", ["gelu", "tanh", "sigmoid"])
@pytest.mark.parametrize("k,p", [(0, 1), (2, 1), (4, 1), (0, 3), (2, 2)])
def test_quadrature_matches_numerical_integration_for_smooth_activations(name, k, p):
    act = get_activation(name)
    table = DerivativeMoments(act, MEANS, VARS)
    want = grid_expectation(lambda z: act.fn(z) ** p, k)
    assert torch.allclose(table(k, p), want, rtol=1e-6, atol=1e-9)


def test_polynomial_activations_give_exact_gaussian_moments():
    mu, s = MEANS, VARS
    square = DerivativeMoments(get_activation("square"), mu, s)
    assert torch.allclose(square(0, 1), mu**2 + s)
    assert torch.allclose(square(1, 1), 2 * mu)
    assert torch.allclose(square(0, 2), mu**4 + 6 * mu**2 * s + 3 * s**2)
    cube = DerivativeMoments(get_activation("cube"), mu, s)
    assert torch.allclose(cube(0, 1), mu**3 + 3 * mu * s)
    assert torch.allclose(cube(3, 1), torch.full_like(mu, 6.0))
    assert torch.allclose(cube(4, 1), torch.zeros_like(mu))


def test_he_gain_normalises_the_second_moment():
    assert he_gain(get_activation("relu")) == pytest.approx(2.0)
    assert he_gain(get_activation("linear")) == pytest.approx(1.0)
    assert he_gain(get_activation("square")) == pytest.approx(1.0 / 3.0)


PIECEWISE_CASES = [(k, p) for k in range(5) for p in (1, 2, 3)]


@pytest.mark.parametrize("name", ["heaviside", "sgn", "abs"])
@pytest.mark.parametrize("k,p", PIECEWISE_CASES)
def test_piecewise_closed_forms_match_numerical_integration(name, k, p):
    act = get_activation(name)
    closed = DerivativeMoments(act, MEANS, VARS)(k, p)
    numeric = grid_expectation(lambda z: act.fn(z) ** p, k)
    # The trapezoid rule is only first-order accurate across a jump (grid step 5e-4).
    tol = 1e-6 if name == "abs" else 2e-3
    assert torch.allclose(closed, numeric, atol=tol)


def test_heaviside_and_sgn_expectations_are_normal_cdfs():
    alpha = MEANS / VARS.sqrt()
    cdf = 0.5 * torch.erfc(-alpha / math.sqrt(2))
    assert torch.allclose(DerivativeMoments(get_activation("heaviside"), MEANS, VARS)(0, 1), cdf, atol=1e-15)
    assert torch.allclose(DerivativeMoments(get_activation("sgn"), MEANS, VARS)(0, 1), 2 * cdf - 1, atol=1e-15)
    assert torch.equal(DerivativeMoments(get_activation("sgn"), MEANS, VARS)(0, 2), torch.ones(5, dtype=torch.float64))

"""Estimates against a sampled ground truth: within standard error where exact, ordered by K otherwise."""

import pytest
import torch

from overseer.estimation import MonteCarloEstimator, build_mlp, make_cumulant_estimator, sample_ground_truth


@pytest.fixture(scope="module")
def shallow_relu():
    mlp = build_mlp(16, 2, "relu", bias=True, seed=11)
    return mlp, sample_ground_truth(mlp, n_samples=200_000, seed=1)


@pytest.mark.parametrize("name", ["k2", "k2-augment", "k3"])
def test_one_hidden_layer_estimates_agree_with_sampling_within_standard_error(shallow_relu, name):
    mlp, truth = shallow_relu
    result = make_cumulant_estimator(name).estimate(mlp)
    z = (result.layer_means[1] - truth.means[1]) / truth.std_errors[1]
    # The estimate is exact, so z is standard normal per neuron: mean z^2 ~ 1 +- 0.35 for 16 neurons.
    assert (z**2).mean().item() < 2.5
    assert z.abs().max().item() < 4.5


def test_monte_carlo_error_matches_its_standard_error(shallow_relu):
    mlp, truth = shallow_relu
    mses = []
    for seed in range(20):
        result = MonteCarloEstimator(500, seed=seed).estimate(mlp)
        mses.append(((result.layer_means[1] - truth.means[1]) ** 2).mean().item())
    expected = truth.variances[1].mean().item() / 500
    assert sum(mses) / len(mses) == pytest.approx(expected, rel=0.4)


def test_bootstrap_standard_errors_match_sigma_over_root_n(shallow_relu):
    mlp, truth = shallow_relu
    analytic = (truth.variances[1] / truth.n_samples).sqrt()
    assert torch.allclose(truth.std_errors[1], analytic, rtol=0.35)
    assert all(sd > 0 for sd in truth.null_sds)


def test_higher_order_cumulants_are_more_accurate_on_a_wide_relu_net():
    mlp = build_mlp(64, 4, "relu", seed=0)
    truth = sample_ground_truth(mlp, n_samples=400_000, batch_size=20_000)
    layer = 3
    errors = {
        name: truth.error(make_cumulant_estimator(name).estimate(mlp).layer_means[layer], layer)
        for name in ["k1", "k2", "k3"]
    }
    assert errors["k1"].resolved and errors["k2"].resolved
    assert errors["k1"].mse > 10 * errors["k2"].mse
    assert errors["k2"].mse > 5 * max(errors["k3"].mse, 3 * errors["k3"].null_sd)

import pytest
import torch

from overseer.errors import InvalidInputError, OverseerError
from overseer.estimation import (
    CumulantPropagation,
    GaussianInput,
    MonteCarloEstimator,
    UnsupportedEstimatorError,
    activations,
    build_mlp,
    make_cumulant_estimator,
    sample_ground_truth,
)
from overseer.estimation.experiment import CompareConfig


@pytest.mark.parametrize("order", [0, 5])
def test_cumulant_order_outside_one_to_four_is_rejected(order):
    with pytest.raises(InvalidInputError, match="1, 2, 3 or 4"):
        CumulantPropagation(order)


def test_k4_augment_and_average_metric_on_plain_k2_are_refused_with_a_next_step():
    with pytest.raises(InvalidInputError, match="variant='simple'"):
        CumulantPropagation(4, "augment")
    with pytest.raises(InvalidInputError, match="k1 and k2-augment"):
        CumulantPropagation(3, "augment", metric="average")
    with pytest.raises(InvalidInputError, match="k1 and k2-augment"):
        CumulantPropagation(2, metric="average")
    with pytest.raises(InvalidInputError, match="metric"):
        CumulantPropagation(1, metric="diagonal")


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        ({"init": "xavier"}, "init"),
        ({"init": "critical", "activation": "heaviside"}, "Dirac"),
        ({"init": "critical", "bias": True}, "sets the biases"),
        ({"q_star": 0.0}, "q_star"),
        ({"bias_mean": (0.0, 1.0)}, "one value per linear layer"),
        ({"bias_var": -1.0}, "bias_var"),
    ],
)
def test_bad_initialisation_options_are_rejected(kwargs, fragment):
    with pytest.raises(InvalidInputError, match=fragment):
        build_mlp(4, 3, **kwargs)


def test_augment_variant_only_exists_for_orders_two_and_three():
    with pytest.raises(InvalidInputError, match="orders 2 and 3"):
        CumulantPropagation(1, "augment")
    with pytest.raises(InvalidInputError, match="Variant"):
        CumulantPropagation(2, "fancy")


def test_dense_orders_refuse_widths_they_cannot_store():
    with pytest.raises(UnsupportedEstimatorError, match="k3 or k2-augment"):
        make_cumulant_estimator("k4").estimate(build_mlp(65, 2))


def test_unknown_estimator_name_lists_the_choices():
    with pytest.raises(InvalidInputError, match="k2-augment"):
        make_cumulant_estimator("k5")


def test_order_three_on_an_activation_without_fourth_derivative_moments_is_refused(monkeypatch):
    softsign = activations.Activation("softsign", torch.nn.functional.softsign)
    monkeypatch.setitem(activations.ACTIVATIONS, "softsign", softsign)
    mlp = build_mlp(4, 2, "softsign")
    with pytest.raises(UnsupportedEstimatorError, match="order 1 or 2"):
        make_cumulant_estimator("k3").estimate(mlp)


@pytest.mark.parametrize(
    "mean,cov,fragment",
    [
        (torch.tensor([0.0, float("nan")]), torch.eye(2), "finite"),
        (torch.zeros(2), torch.tensor([[1.0, float("inf")], [float("inf"), 1.0]]), "finite"),
        (torch.zeros(2), torch.tensor([[1.0, 2.0], [2.0, 1.0]]), "semi-definite"),
        (torch.zeros(2), torch.tensor([[1.0, 0.5], [0.0, 1.0]]), "symmetric"),
        (torch.zeros(3), torch.eye(2), "shape|matrix"),
    ],
)
def test_bad_input_distributions_are_rejected(mean, cov, fragment):
    with pytest.raises(InvalidInputError, match=fragment):
        GaussianInput(mean, cov)


def test_input_dimension_must_match_the_width():
    with pytest.raises(InvalidInputError, match="does not match"):
        make_cumulant_estimator("k2").estimate(build_mlp(4, 2), GaussianInput.standard(5))


@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_samples_is_rejected(n):
    with pytest.raises(InvalidInputError, match="at least 2 samples"):
        MonteCarloEstimator(n)
    with pytest.raises(InvalidInputError, match="at least 2 samples"):
        sample_ground_truth(build_mlp(4, 2), n_samples=n)


def test_compare_config_is_validated_before_any_work():
    with pytest.raises(OverseerError):
        CompareConfig(widths=(8, 0)).validate()
    with pytest.raises(OverseerError):
        CompareConfig(estimators=("k2", "k9")).validate()
    with pytest.raises(OverseerError):
        CompareConfig(gt_samples=1).validate()

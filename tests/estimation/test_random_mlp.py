import pytest
import torch

from overseer.errors import InvalidInputError, OverseerError
from overseer.estimation import MLPSpec, RandomMLP, build_mlp


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        ({"width": 0, "depth": 3}, "width"),
        ({"width": 8, "depth": 0}, "depth"),
        ({"width": 8, "depth": 3, "activation": "swish"}, "Unknown activation"),
        ({"width": 8, "depth": 3, "bias_std": float("nan")}, "bias_std"),
    ],
)
def test_invalid_spec_raises_a_clear_overseer_error(kwargs, fragment):
    with pytest.raises(InvalidInputError, match=fragment) as info:
        MLPSpec(**kwargs)
    assert isinstance(info.value, OverseerError)


def test_deeper_mlp_with_same_seed_extends_the_shallower_one():
    short, deep = build_mlp(16, 3, seed=7), build_mlp(16, 6, seed=7)
    for i in range(3):
        assert torch.equal(short.layers[i].weight, deep.layers[i].weight)
    assert not torch.equal(build_mlp(16, 3, seed=8).layers[0].weight, short.layers[0].weight)


def test_he_init_keeps_the_second_moment_near_one():
    mlp = build_mlp(256, 6, "relu", seed=0)
    with torch.no_grad():
        pre = mlp.forward_all(torch.randn(4000, 256, generator=torch.Generator().manual_seed(0)))
    for z in pre:
        assert (z**2).mean().item() == pytest.approx(1.0, abs=0.25)


def test_forward_returns_the_last_pre_activation_and_biases_are_drawn():
    mlp = RandomMLP(MLPSpec(width=8, depth=3, activation="tanh", bias=True, seed=1))
    x = torch.randn(5, 8)
    pre = mlp.forward_all(x)
    assert len(pre) == 3 and all(z.shape == (5, 8) for z in pre)
    assert torch.equal(mlp(x), pre[-1])
    assert mlp.layers[0].bias is not None and mlp.layers[0].bias.abs().sum() > 0


def test_critical_relu_is_he_without_biases_and_critical_tanh_solves_both_conditions():
    from overseer.estimation.activations import get_activation
    from overseer.estimation.mlp import critical_variances

    assert critical_variances(get_activation("relu"), 1.0) == pytest.approx((2.0, 0.0), abs=1e-9)
    q = 1.5
    w_var, b_var = critical_variances(get_activation("tanh"), q)
    x = torch.linspace(-12, 12, 200_001, dtype=torch.float64)
    gauss = torch.exp(-0.5 * x * x) / (2 * torch.pi) ** 0.5
    z = q**0.5 * x
    slope = torch.trapezoid((1 - torch.tanh(z) ** 2) ** 2 * gauss, x).item()
    second = torch.trapezoid(torch.tanh(z) ** 2 * gauss, x).item()
    assert w_var * slope == pytest.approx(1.0, abs=1e-6)
    assert w_var * second + b_var == pytest.approx(q, abs=1e-6)


def test_critical_tanh_net_keeps_the_pre_activation_variance_at_q_star():
    mlp = build_mlp(512, 5, "tanh", init="critical", q_star=1.5, seed=0)
    assert mlp.layers[0].bias is not None
    with torch.no_grad():
        pre = mlp.forward_all(torch.randn(3000, 512, generator=torch.Generator().manual_seed(1)))
    for z in pre:
        assert (z**2).mean().item() == pytest.approx(1.5, rel=0.12)


def test_per_layer_bias_means_and_variances_are_drawn_as_asked():
    mlp = build_mlp(2048, 3, "relu", bias_mean=(0.5, -1.0, 0.0), bias_var=(0.04, 0.0, 0.25), seed=3)
    b0, b1, b2 = (mlp.bias(i) for i in range(3))
    assert b0.mean().item() == pytest.approx(0.5, abs=0.015) and b0.var().item() == pytest.approx(0.04, rel=0.15)
    assert torch.all(b1 == -1.0)
    assert b2.mean().item() == pytest.approx(0.0, abs=0.04) and b2.var().item() == pytest.approx(0.25, rel=0.15)
    # He gain after a layer with bias mean 0.5: 1 / E[relu(N(0.5, 1))^2].
    from overseer.estimation.activations import get_activation
    from overseer.estimation.mlp import he_gain

    assert mlp.inits[1].weight_var == pytest.approx(he_gain(get_activation("relu"), 0.5))
    assert mlp.inits[1].weight_var < 2.0

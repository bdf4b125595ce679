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

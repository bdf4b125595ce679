"""Random MLPs as the paper draws them: square layers, He-style Gaussian weights, optional biases.

Layer convention (as in the reference code): `depth` counts linear layers, so a depth-D MLP has
D - 1 hidden activations and D pre-activation layers. Layer l (0-based) is
z_l = W_l phi(z_(l-1)) + b_l with z_(-1) read as the input x; "layer 4" is the pre-activation
after four hidden activations. The output is the last pre-activation z_(D-1).

Weights are drawn layer by layer from one seeded generator, so the first L layers of a deep MLP
equal a depth-L MLP with the same spec and seed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from overseer.errors import InvalidInputError
from overseer.estimation.activations import Activation, get_activation
from overseer.estimation.gaussian_moments import DerivativeMoments


@dataclass(frozen=True)
class MLPSpec:
    width: int
    depth: int
    activation: str = "relu"
    bias: bool = False
    bias_std: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.width, int) or self.width < 1:
            raise InvalidInputError(f"MLP width must be an integer >= 1, got {self.width!r}.")
        if not isinstance(self.depth, int) or self.depth < 1:
            raise InvalidInputError(
                f"MLP depth (number of linear layers) must be an integer >= 1, got {self.depth!r}."
            )
        get_activation(self.activation)
        if not math.isfinite(self.bias_std) or self.bias_std < 0:
            raise InvalidInputError(f"bias_std must be finite and >= 0, got {self.bias_std!r}.")

    def to_dict(self) -> dict:
        return asdict(self)


def he_gain(activation: Activation) -> float:
    """Weight variance (times fan-in) that keeps E[z^2] = 1: 1 / E[phi(Z)^2] for Z ~ N(0, 1)."""
    one = torch.ones(1, dtype=torch.float64)
    second_moment = DerivativeMoments(activation, 0 * one, one)(0, 2).item()
    return 1.0 / second_moment


class RandomMLP(nn.Module):
    """A square random MLP; call it on a batch of inputs to sample it."""

    def __init__(self, spec: MLPSpec) -> None:
        super().__init__()
        self.spec = spec
        self.activation = get_activation(spec.activation)
        gain = he_gain(self.activation)
        generator = torch.Generator().manual_seed(spec.seed)
        self.layers = nn.ModuleList()
        n = spec.width
        for index in range(spec.depth):
            layer = nn.Linear(n, n, bias=spec.bias)
            # The input is N(0, I), so the first layer needs unit gain; later layers see phi(z).
            weight_var = (1.0 if index == 0 else gain) / n
            with torch.no_grad():
                layer.weight.copy_(torch.randn(n, n, generator=generator) * math.sqrt(weight_var))
                if spec.bias:
                    layer.bias.copy_(torch.randn(n, generator=generator) * spec.bias_std)
            layer.requires_grad_(False)
            self.layers.append(layer)

    @property
    def width(self) -> int:
        return self.spec.width

    @property
    def depth(self) -> int:
        return self.spec.depth

    def weight(self, index: int, dtype: torch.dtype = torch.float64) -> Tensor:
        return self.layers[index].weight.detach().to(dtype)

    def bias(self, index: int, dtype: torch.dtype = torch.float64) -> Tensor | None:
        b = self.layers[index].bias
        return None if b is None else b.detach().to(dtype)

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_all(x)[-1]

    def forward_all(self, x: Tensor, up_to: int | None = None) -> list[Tensor]:
        """Pre-activations of every layer (or of layers 0..up_to) for a batch of inputs."""
        last = self.depth - 1 if up_to is None else up_to
        pre: list[Tensor] = []
        h = x
        for index in range(last + 1):
            z = self.layers[index](h)
            pre.append(z)
            if index < self.depth - 1:
                h = self.activation.fn(z)
        return pre


def build_mlp(
    width: int,
    depth: int,
    activation: str = "relu",
    *,
    bias: bool = False,
    seed: int = 0,
    bias_std: float = 0.1,
) -> RandomMLP:
    return RandomMLP(
        MLPSpec(width=width, depth=depth, activation=activation, bias=bias, seed=seed, bias_std=bias_std)
    )

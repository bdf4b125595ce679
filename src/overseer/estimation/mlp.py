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
from overseer.estimation.gaussian_moments import DerivativeMoments, gauss_hermite

INITS = ("he", "critical")


@dataclass(frozen=True)
class MLPSpec:
    """A random MLP's recipe.

    `init="he"` keeps E[z^2] = 1 layer to layer; `init="critical"` puts the network at the edge of
    chaos for a fixed point `q_star` of the pre-activation variance (weight and bias variances
    solved from q* = s_w^2 E[phi(sqrt(q*) Z)^2] + s_b^2 and 1 = s_w^2 E[phi'(sqrt(q*) Z)^2]).
    Biases: `bias=True` draws N(bias_mean, bias_std^2) per neuron; `bias_mean` / `bias_var` may
    also be given per layer (a tuple of length depth), which gives the layers biases on their own.
    """

    width: int
    depth: int
    activation: str = "relu"
    bias: bool = False
    bias_std: float = 0.1
    seed: int = 0
    init: str = "he"
    q_star: float = 1.0
    bias_mean: float | tuple[float, ...] = 0.0
    bias_var: float | tuple[float, ...] | None = None

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
        if self.init not in INITS:
            raise InvalidInputError(f"init must be one of {INITS}, got {self.init!r}.")
        if not math.isfinite(self.q_star) or self.q_star <= 0:
            raise InvalidInputError(f"q_star must be finite and > 0, got {self.q_star!r}.")
        means = self.per_layer(self.bias_mean, "bias_mean")
        variances = self.per_layer(0.0 if self.bias_var is None else self.bias_var, "bias_var")
        if any(not math.isfinite(m) for m in means) or any(not math.isfinite(v) or v < 0 for v in variances):
            raise InvalidInputError("bias_mean must be finite and bias_var finite and >= 0 in every layer.")
        if self.init == "critical" and (self.bias or self.bias_var is not None or any(means)):
            raise InvalidInputError(
                "Critical initialisation sets the biases itself; drop bias, bias_mean and bias_var."
            )

    def per_layer(self, value, name: str) -> tuple[float, ...]:
        if isinstance(value, (int, float)):
            return (float(value),) * self.depth
        values = tuple(float(v) for v in value)
        if len(values) != self.depth:
            raise InvalidInputError(f"{name} needs one value per linear layer ({self.depth}), got {len(values)}.")
        return values

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LayerInit:
    """Variances and means a layer's parameters are drawn with (weights: variance / fan-in)."""

    weight_var: float
    bias_mean: float
    bias_var: float

    @property
    def has_bias(self) -> bool:
        return self.bias_var > 0 or self.bias_mean != 0


def second_moment(activation: Activation, mean: float = 0.0, var: float = 1.0) -> float:
    """E[phi(Z)^2] for Z ~ N(mean, var)."""
    one = torch.ones(1, dtype=torch.float64)
    return DerivativeMoments(activation, mean * one, var * one)(0, 2).item()


def he_gain(activation: Activation, bias_mean: float = 0.0) -> float:
    """Weight variance (times fan-in) that keeps E[z^2] = 1: 1 / E[phi(Z)^2] for Z ~ N(bias_mean, 1)."""
    return 1.0 / second_moment(activation, bias_mean)


def critical_variances(activation: Activation, q_star: float) -> tuple[float, float]:
    """(s_w^2, s_b^2) at the edge of chaos for the fixed point q* (Pennington et al. 2017)."""
    if activation.derivative is None:
        raise InvalidInputError(
            f"Critical initialisation needs phi' as a function; {activation.name}'s is a Dirac delta. "
            "Use init='he'."
        )
    one = torch.ones(1, dtype=torch.float64)
    slope = gauss_hermite(activation.derivative, 0 * one, math.sqrt(q_star) * one, 0, 2).item()
    weight_var = 1.0 / slope
    bias_var = q_star - weight_var * second_moment(activation, 0.0, q_star)
    if bias_var < -1e-6:
        raise InvalidInputError(
            f"No critical initialisation for {activation.name} at q_star={q_star:g} (it needs a negative bias "
            "variance); try another q_star."
        )
    return weight_var, max(bias_var, 0.0)


def layer_inits(spec: MLPSpec) -> list[LayerInit]:
    activation = get_activation(spec.activation)
    if spec.init == "critical":
        weight_var, bias_var = critical_variances(activation, spec.q_star)
        # The first layer sees N(0, I), so it gets q* - s_b^2 to put every layer at variance q*.
        first = LayerInit(spec.q_star - bias_var, 0.0, bias_var)
        return [first] + [LayerInit(weight_var, 0.0, bias_var)] * (spec.depth - 1)
    means = spec.per_layer(spec.bias_mean, "bias_mean")
    default_var = spec.bias_std**2 if spec.bias else 0.0
    variances = spec.per_layer(default_var if spec.bias_var is None else spec.bias_var, "bias_var")
    out = []
    for index in range(spec.depth):
        # The input is N(0, I), so the first layer needs unit gain; later layers see phi(z).
        weight_var = 1.0 if index == 0 else he_gain(activation, means[index - 1])
        out.append(LayerInit(weight_var, means[index], variances[index]))
    return out


class RandomMLP(nn.Module):
    """A square random MLP; call it on a batch of inputs to sample it."""

    def __init__(self, spec: MLPSpec) -> None:
        super().__init__()
        self.spec = spec
        self.activation = get_activation(spec.activation)
        self.inits = layer_inits(spec)
        generator = torch.Generator().manual_seed(spec.seed)
        self.layers = nn.ModuleList()
        n = spec.width
        for init in self.inits:
            layer = nn.Linear(n, n, bias=spec.bias or init.has_bias)
            with torch.no_grad():
                layer.weight.copy_(torch.randn(n, n, generator=generator) * math.sqrt(init.weight_var / n))
                if layer.bias is not None:
                    noise = torch.randn(n, generator=generator) if init.bias_var > 0 else torch.zeros(n)
                    layer.bias.copy_(init.bias_mean + noise * math.sqrt(init.bias_var))
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
    **spec_options,
) -> RandomMLP:
    """A random MLP; `spec_options` are MLPSpec's other fields (init, q_star, bias_mean, bias_var)."""
    return RandomMLP(
        MLPSpec(
            width=width, depth=depth, activation=activation, bias=bias, seed=seed, bias_std=bias_std, **spec_options
        )
    )

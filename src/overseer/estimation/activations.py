"""The activations a random MLP may use: their torch function, derivative and, for polynomials, coefficients.

ReLU, GELU, tanh and sigmoid are the paper's activations; heaviside, sgn and abs are the
reference code's piecewise ones, whose Gaussian expectations are closed forms. `linear`,
`square` and `cube` are polynomials, for which Gaussian expectations are exact, so tests can
pin exactness. `derivative` (None where it is a Dirac delta) serves critical initialisation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from overseer.errors import InvalidInputError


@dataclass(frozen=True)
class Activation:
    name: str
    fn: Callable[[Tensor], Tensor]
    # Coefficients c_0, c_1, ... of phi(z) = sum_i c_i z^i when phi is a polynomial.
    polynomial: tuple[float, ...] | None = None
    derivative: Callable[[Tensor], Tensor] | None = None


def _gelu(z: Tensor) -> Tensor:
    return torch.nn.functional.gelu(z)


def _gelu_derivative(z: Tensor) -> Tensor:
    cdf = 0.5 * torch.erfc(-z / 2**0.5)
    return cdf + z * torch.exp(-0.5 * z * z) / (2 * torch.pi) ** 0.5


def _heaviside(z: Tensor) -> Tensor:
    return (z > 0).to(z.dtype)


def _sigmoid_derivative(z: Tensor) -> Tensor:
    s = torch.sigmoid(z)
    return s * (1 - s)


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("relu", torch.relu, derivative=_heaviside),
    "gelu": Activation("gelu", _gelu, derivative=_gelu_derivative),
    "tanh": Activation("tanh", torch.tanh, derivative=lambda z: 1 - torch.tanh(z) ** 2),
    "sigmoid": Activation("sigmoid", torch.sigmoid, derivative=_sigmoid_derivative),
    "heaviside": Activation("heaviside", _heaviside),
    "sgn": Activation("sgn", torch.sign),
    "abs": Activation("abs", torch.abs, derivative=torch.sign),
    "linear": Activation("linear", lambda z: z, polynomial=(0.0, 1.0), derivative=torch.ones_like),
    "square": Activation("square", lambda z: z * z, polynomial=(0.0, 0.0, 1.0), derivative=lambda z: 2 * z),
    "cube": Activation("cube", lambda z: z * z * z, polynomial=(0.0, 0.0, 0.0, 1.0), derivative=lambda z: 3 * z * z),
}
# Activations whose Gaussian expectations E[d^k phi^p] are closed forms built from ReLU's.
PIECEWISE = frozenset({"relu", "heaviside", "sgn", "abs"})


def get_activation(name: str) -> Activation:
    key = name.lower().strip()
    if key not in ACTIVATIONS:
        raise InvalidInputError(
            f"Unknown activation {name!r}. Choose one of: {', '.join(sorted(ACTIVATIONS))}."
        )
    return ACTIVATIONS[key]

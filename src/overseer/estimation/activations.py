"""The activations a random MLP may use: their torch function and, for polynomials, coefficients.

ReLU, GELU, tanh and sigmoid are the paper's activations. `linear`, `square` and `cube` are
polynomial activations for which Gaussian expectations are exact, so tests can pin exactness.
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


def _gelu(z: Tensor) -> Tensor:
    return torch.nn.functional.gelu(z)


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("relu", torch.relu),
    "gelu": Activation("gelu", _gelu),
    "tanh": Activation("tanh", torch.tanh),
    "sigmoid": Activation("sigmoid", torch.sigmoid),
    "linear": Activation("linear", lambda z: z, polynomial=(0.0, 1.0)),
    "square": Activation("square", lambda z: z * z, polynomial=(0.0, 0.0, 1.0)),
    "cube": Activation("cube", lambda z: z * z * z, polynomial=(0.0, 0.0, 0.0, 1.0)),
}


def get_activation(name: str) -> Activation:
    key = name.lower().strip()
    if key not in ACTIVATIONS:
        raise InvalidInputError(
            f"Unknown activation {name!r}. Choose one of: {', '.join(sorted(ACTIVATIONS))}."
        )
    return ACTIVATIONS[key]

"""The input distribution: a multivariate Gaussian N(mean, cov), by default N(0, I)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from overseer.errors import InvalidInputError


@dataclass(frozen=True)
class GaussianInput:
    mean: Tensor
    cov: Tensor

    @classmethod
    def standard(cls, dim: int) -> GaussianInput:
        if dim < 1:
            raise InvalidInputError(f"Input dimension must be >= 1, got {dim}.")
        return cls(torch.zeros(dim, dtype=torch.float64), torch.eye(dim, dtype=torch.float64))

    def __post_init__(self) -> None:
        mean = torch.as_tensor(self.mean, dtype=torch.float64)
        cov = torch.as_tensor(self.cov, dtype=torch.float64)
        if mean.ndim != 1 or cov.shape != (mean.shape[0], mean.shape[0]):
            raise InvalidInputError(
                f"Input mean must be a vector (d,) and cov a (d, d) matrix; got {tuple(mean.shape)} "
                f"and {tuple(cov.shape)}."
            )
        if not (torch.isfinite(mean).all() and torch.isfinite(cov).all()):
            raise InvalidInputError("Input mean and covariance must be finite (no NaN or inf).")
        if not torch.allclose(cov, cov.T, atol=1e-10):
            raise InvalidInputError("Input covariance must be symmetric.")
        _, info = torch.linalg.cholesky_ex(cov + 1e-12 * torch.eye(cov.shape[0], dtype=cov.dtype))
        if info.item() != 0:
            raise InvalidInputError(
                "Input covariance must be positive semi-definite; check it with torch.linalg.eigvalsh."
            )
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "cov", cov)

    @property
    def dim(self) -> int:
        return int(self.mean.shape[0])

    def is_standard(self) -> bool:
        return bool((self.mean == 0).all() and torch.equal(self.cov, torch.eye(self.dim, dtype=self.cov.dtype)))

    def sampler(self, dtype: torch.dtype = torch.float32):
        """A function (n, generator) -> (n, d) samples."""
        if self.is_standard():
            def draw_standard(n: int, generator: torch.Generator) -> Tensor:
                return torch.randn(n, self.dim, generator=generator, dtype=dtype)

            return draw_standard
        eigval, eigvec = torch.linalg.eigh(self.cov)
        root = (eigvec * eigval.clamp_min(0).sqrt()).to(dtype)
        mean = self.mean.to(dtype)

        def draw(n: int, generator: torch.Generator) -> Tensor:
            return mean + torch.randn(n, self.dim, generator=generator, dtype=dtype) @ root.T

        return draw


def check_input_matches(input_dist: GaussianInput, width: int) -> None:
    if input_dist.dim != width:
        raise InvalidInputError(
            f"Input dimension {input_dist.dim} does not match the MLP width {width}; "
            "use GaussianInput.standard(width)."
        )

"""TensorSketch random features for the polynomial kernel `(gamma <x, y> + coef0) ** degree`.

Pham & Pagh (2013): append sqrt(coef0) to sqrt(gamma) * x, CountSketch it `degree` times with independent
hash and sign tables, and multiply the sketches in the Fourier domain (a circular convolution). This is the
construction of scikit-learn's `PolynomialCountSketch`, written in torch so that features and their gradient
run batched inside a forward hook.
"""

from __future__ import annotations

import math

import torch

from overseer.errors import InvalidInputError


class TensorSketch:
    def __init__(self, degree: int = 2, n_components: int = 8000, gamma: float = 0.1, coef0: float = 1.0,
                 seed: int = 0) -> None:
        self.degree = int(degree)
        self.n_components = int(n_components)
        self.gamma = float(gamma)
        self.coef0 = float(coef0)
        self.seed = int(seed)
        self.index: torch.Tensor | None = None  # [degree, d + 1] long, hash bucket of each input coordinate
        self.sign: torch.Tensor | None = None  # [degree, d + 1] float, +-1

    def init(self, d: int) -> TensorSketch:
        generator = torch.Generator().manual_seed(self.seed)
        self.index = torch.randint(0, self.n_components, (self.degree, d + 1), generator=generator)
        self.sign = torch.randint(0, 2, (self.degree, d + 1), generator=generator).float() * 2 - 1
        return self

    @property
    def d(self) -> int:
        return self.index.shape[1] - 1

    def _extend(self, x: torch.Tensor) -> torch.Tensor:
        bias = x.new_full((*x.shape[:-1], 1), math.sqrt(self.coef0))
        return torch.cat([x * math.sqrt(self.gamma), bias], dim=-1)

    def _count_sketches(self, x_ext: torch.Tensor) -> torch.Tensor:
        """[n, d + 1] -> [degree, n, n_components]."""
        n = x_ext.shape[0]
        index, sign = self.index.to(x_ext.device), self.sign.to(x_ext.device, x_ext.dtype)
        out = x_ext.new_zeros(self.degree, n, self.n_components)
        for k in range(self.degree):
            out[k].scatter_add_(1, index[k].expand(n, -1), x_ext * sign[k])
        return out

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """Features `[n, n_components]` of `[n, d]` inputs (differentiable by autograd)."""
        spectra = torch.fft.rfft(self._count_sketches(self._extend(x)), dim=-1)
        return torch.fft.irfft(spectra.prod(0), n=self.n_components, dim=-1)

    def vjp(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """Gradient of `transform(x) @ weight` w.r.t. x, `[n, d]`, for any degree.

        The output is a circular convolution of the sketches, so its derivative w.r.t. sketch k is the
        circular cross-correlation of `weight` with the convolution of the other sketches; the chain rule
        through CountSketch then gathers it back at each coordinate's bucket with its sign.
        """
        spectra = torch.fft.rfft(self._count_sketches(self._extend(x)), dim=-1)  # [D, n, f]
        weight_spectrum = torch.fft.rfft(weight.to(x.dtype), n=self.n_components)
        grad = x.new_zeros(x.shape)
        index, sign = self.index.to(x.device), self.sign.to(x.device, x.dtype)
        for k in range(self.degree):
            others = torch.ones_like(spectra[0])
            for j in range(self.degree):
                if j != k:
                    others = others * spectra[j]
            corr = torch.fft.irfft(others.conj() * weight_spectrum, n=self.n_components, dim=-1)  # [n, f]
            grad = grad + corr[:, index[k, :-1]] * sign[k, :-1]
        return grad * math.sqrt(self.gamma)

    def quadratic_form(self, weight: torch.Tensor) -> torch.Tensor:
        """For degree 2: the matrix A with `transform(x) @ weight == x_ext^T A x_ext` exactly.

        Feature m collects x_i x_j over pairs whose buckets sum to m (mod n_components), so the linear score
        is a quadratic form in the extended input. Its gradient is one small matmul, which makes the
        steering hook cheap: `(A + A^T) x_ext` instead of FFTs over n_components per step.
        """
        if self.degree != 2:
            raise InvalidInputError(f"quadratic_form exists only for degree 2, not {self.degree}.")
        index, sign = self.index, self.sign
        buckets = (index[0].unsqueeze(1) + index[1].unsqueeze(0)) % self.n_components  # [d+1, d+1]
        return sign[0].unsqueeze(1) * sign[1].unsqueeze(0) * weight.float()[buckets]

    def state(self) -> dict[str, torch.Tensor]:
        return {"sketch_index": self.index, "sketch_sign": self.sign}

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        self.index = tensors["sketch_index"].long()
        self.sign = tensors["sketch_sign"].float()

    def config(self) -> dict[str, float | int]:
        return {"degree": self.degree, "n_components": self.n_components, "gamma": self.gamma,
                "coef0": self.coef0, "seed": self.seed}

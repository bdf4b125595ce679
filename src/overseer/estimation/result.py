"""The one estimator contract: `estimator.estimate(mlp, input_dist) -> EstimateResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from torch import Tensor

from overseer.estimation.inputs import GaussianInput
from overseer.estimation.mlp import RandomMLP


@dataclass
class EstimateResult:
    """Per-layer estimates of E[z_l] for every pre-activation layer l of one MLP.

    `layer_flops[l]` is the cumulative FLOP count needed to reach layer l's estimate, so a
    method can be compared at any layer. `layer_variances[l]` is the method's estimate of
    Var(z_l,i) (a sample variance for Monte Carlo). `layer_kappa3` / `layer_kappa4` hold the
    per-neuron third and fourth cumulants where the method tracks them (K = 3).
    """

    def flagged_at(self, layer: int) -> bool:
        """Whether layer's estimate comes after a divergence or a clamped negative variance."""
        if self.diverged and self.diverged_at_layer is not None and layer >= self.diverged_at_layer:
            return True
        return self.first_clamped_layer is not None and layer > self.first_clamped_layer

    estimator: str
    layer_means: list[Tensor]
    layer_flops: list[int]
    wall_time_s: float
    layer_variances: list[Tensor] = field(default_factory=list)
    layer_kappa3: list[Tensor] = field(default_factory=list)
    layer_kappa4: list[Tensor] = field(default_factory=list)
    negative_variances: int = 0
    # Layer whose (estimated) variances were negative and clamped; later layers inherit the error.
    first_clamped_layer: int | None = None
    diverged: bool = False
    diverged_at_layer: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def depth(self) -> int:
        return len(self.layer_means)

    @property
    def output_mean(self) -> Tensor:
        return self.layer_means[-1]

    def to_dict(self, include_means: bool = False) -> dict:
        out = {
            "estimator": self.estimator,
            "layer_flops": [int(f) for f in self.layer_flops],
            "wall_time_s": self.wall_time_s,
            "negative_variances_clamped": self.negative_variances,
            "first_clamped_layer": self.first_clamped_layer,
            "diverged": self.diverged,
            "diverged_at_layer": self.diverged_at_layer,
            "notes": list(self.notes),
        }
        if include_means:
            out["layer_means"] = [m.tolist() for m in self.layer_means]
        return out


@runtime_checkable
class Estimator(Protocol):
    name: str

    def estimate(self, mlp: RandomMLP, input_dist: GaussianInput | None = None) -> EstimateResult: ...

"""Error of an estimate against a sampled ground truth, with the sampling noise taken out.

With ground truth g = m + e (e the sampling error, standard error s), E[(est - g)^2] =
(est - m)^2 + s^2. So the mean over neurons of (est - g)^2 - s^2 is an unbiased estimate of
the true MSE. Its null spread (its standard deviation when est = m exactly) comes from the
ground truth's bootstrap; an estimate is "resolved" when its corrected MSE exceeds three times it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from torch import Tensor


@dataclass(frozen=True)
class LayerError:
    raw_mse: float
    noise_floor: float
    mse: float  # noise-corrected; may be slightly negative when below the floor
    null_sd: float
    variance: float

    @property
    def mse_over_var(self) -> float:
        return self.mse / self.variance

    @property
    def resolved(self) -> bool:
        return self.mse > 3.0 * self.null_sd

    def to_dict(self) -> dict:
        return {**asdict(self), "mse_over_var": self.mse_over_var, "resolved": self.resolved}


def layer_error(
    estimate: Tensor, truth: Tensor, std_error: Tensor, variance: float, null_sd: float | None = None
) -> LayerError:
    """`null_sd` defaults to mean(s^2) sqrt(2/n), right when neurons' sampling errors are independent."""
    diff = estimate.double() - truth.double()
    raw = float((diff * diff).mean())
    floor = float((std_error.double() ** 2).mean())
    if null_sd is None:
        null_sd = floor * math.sqrt(2.0 / estimate.numel())
    if not math.isfinite(raw):
        return LayerError(math.nan, floor, math.nan, null_sd, variance)
    return LayerError(raw, floor, raw - floor, null_sd, variance)


def sampling_mse_over_var(flops_per_sample: float, flops: float) -> float:
    """MSE / Var of Monte Carlo given `flops`: Var / N with N = flops / flops_per_sample."""
    return flops_per_sample / flops if flops > 0 else math.inf

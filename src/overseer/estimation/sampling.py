"""Sampling: the Monte Carlo estimator (the baseline) and the large-sample ground truth.

The ground truth keeps per-batch means and turns them into standard errors by bootstrap
(resampling batches with replacement), as the reference code does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from overseer.errors import InvalidInputError
from overseer.estimation.flops import FlopCounter
from overseer.estimation.inputs import GaussianInput, check_input_matches
from overseer.estimation.metrics import LayerError, layer_error
from overseer.estimation.mlp import RandomMLP
from overseer.estimation.result import EstimateResult


def _check_samples(n_samples: int) -> None:
    if not isinstance(n_samples, int) or n_samples < 2:
        raise InvalidInputError(
            f"Sampling needs at least 2 samples (got {n_samples!r}); one sample has no error estimate."
        )


class MonteCarloEstimator:
    """Average the MLP's pre-activations over `n_samples` Gaussian inputs."""

    name = "mc"

    def __init__(
        self, n_samples: int, *, seed: int = 0, batch_size: int = 8192, count_flops: bool = True
    ) -> None:
        _check_samples(n_samples)
        if batch_size < 1:
            raise InvalidInputError(f"batch_size must be >= 1, got {batch_size}.")
        self.n_samples = n_samples
        self.seed = seed
        self.batch_size = batch_size
        self.count_flops = count_flops

    def estimate(self, mlp: RandomMLP, input_dist: GaussianInput | None = None) -> EstimateResult:
        input_dist = input_dist if input_dist is not None else GaussianInput.standard(mlp.width)
        check_input_matches(input_dist, mlp.width)
        draw = input_dist.sampler()
        generator = torch.Generator().manual_seed(self.seed)
        sums = [torch.zeros(mlp.width, dtype=torch.float64) for _ in range(mlp.depth)]
        layer_flops = [0] * mlp.depth
        counter = FlopCounter() if self.count_flops else None
        if counter is not None:
            FlopCounter.warm_up()
        start = time.perf_counter()
        with torch.no_grad():
            done = 0
            while done < self.n_samples:
                size = min(self.batch_size, self.n_samples - done)
                h = draw(size, generator)
                for layer in range(mlp.depth):
                    before = counter.total if counter else 0
                    if counter:
                        counter.__enter__()
                    z = mlp.layers[layer](h if layer == 0 else mlp.activation.fn(h))
                    sums[layer] += z.sum(dim=0, dtype=torch.float64)
                    if counter:
                        counter.__exit__(None, None, None)
                        layer_flops[layer] += counter.total - before
                    h = z
                done += size
        wall = time.perf_counter() - start
        cumulative = [sum(layer_flops[: i + 1]) for i in range(mlp.depth)]
        return EstimateResult(
            estimator=f"mc(N={self.n_samples})",
            layer_means=[s / self.n_samples for s in sums],
            layer_flops=cumulative,
            wall_time_s=wall,
        )


def sampling_flops_per_sample(mlp: RandomMLP, batch: int = 64) -> list[float]:
    """Cumulative FLOPs per sample to reach each layer's Monte Carlo estimate (counted on a batch)."""
    result = MonteCarloEstimator(batch, seed=0, batch_size=batch).estimate(mlp)
    return [f / batch for f in result.layer_flops]


@dataclass
class GroundTruth:
    """Large-sample per-layer means with bootstrap standard errors and per-neuron variances.

    `tail_probs[l]` is P(z_l,i > tail_threshold) when a threshold was given.
    """

    means: list[Tensor]
    std_errors: list[Tensor]
    null_sds: list[float]
    variances: list[Tensor]
    n_samples: int
    n_batches: int
    seconds: float
    tail_threshold: float | None = None
    tail_probs: list[Tensor] | None = None
    tail_std_errors: list[Tensor] | None = None
    tail_null_sds: list[float] | None = None

    def layer_variance(self, layer: int) -> float:
        """Var(z_l) averaged over neurons: the normaliser of MSE / Var."""
        return float(self.variances[layer].mean())

    def error(self, estimate: Tensor, layer: int) -> LayerError:
        return layer_error(
            estimate, self.means[layer], self.std_errors[layer], self.layer_variance(layer), self.null_sds[layer]
        )


# Not on overseer.stats: it resamples whole vectors of per-neuron batch means at once (one weight matrix, torch, the
# run's seeded generator) to get standard errors that keep cross-neuron correlation; stats' CIs are of one scalar.
def _bootstrap(batch_means: Tensor, n_bootstrap: int, generator: torch.Generator) -> tuple[Tensor, float]:
    """Per-neuron standard errors, and the spread of mean_i(error_i^2) when the estimate is exact.

    The second number is the null standard deviation of a noise-corrected MSE; taking it from
    the bootstrap keeps the correlations between neurons' sampling errors.
    """
    n_batches = batch_means.shape[0]
    picks = torch.randint(n_batches, (n_bootstrap, n_batches), generator=generator)
    weights = torch.zeros(n_bootstrap, n_batches, dtype=torch.float64)
    weights.scatter_add_(1, picks, torch.ones_like(picks, dtype=torch.float64))
    deviations = (weights / n_batches) @ batch_means - batch_means.mean(dim=0)
    return deviations.std(dim=0), float((deviations**2).mean(dim=1).std())


def sample_ground_truth(
    mlp: RandomMLP,
    input_dist: GaussianInput | None = None,
    *,
    n_samples: int = 1_000_000,
    batch_size: int = 10_000,
    n_bootstrap: int = 200,
    seed: int | None = None,
    up_to: int | None = None,
    tail_threshold: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> GroundTruth:
    """Sample the MLP `n_samples` times; `progress(k)` is called after each batch of k samples."""
    _check_samples(n_samples)
    input_dist = input_dist if input_dist is not None else GaussianInput.standard(mlp.width)
    check_input_matches(input_dist, mlp.width)
    if tail_threshold is not None and not math.isfinite(tail_threshold):
        raise InvalidInputError(f"tail_threshold must be finite, got {tail_threshold!r}.")
    # At least 20 batches so the bootstrap has something to resample.
    batch_size = max(1, min(batch_size, n_samples // 20 if n_samples >= 40 else 1))
    n_batches = n_samples // batch_size
    last = mlp.depth - 1 if up_to is None else up_to
    n_layers = last + 1
    seed = (2**31 - 1 - mlp.spec.seed) if seed is None else seed
    generator = torch.Generator().manual_seed(seed)
    draw = input_dist.sampler()

    batch_means = [torch.empty(n_batches, mlp.width, dtype=torch.float64) for _ in range(n_layers)]
    sq_sums = [torch.zeros(mlp.width, dtype=torch.float64) for _ in range(n_layers)]
    tails = [torch.empty(n_batches, mlp.width, dtype=torch.float64) for _ in range(n_layers)]
    start = time.perf_counter()
    with torch.no_grad():
        for b in range(n_batches):
            pre = mlp.forward_all(draw(batch_size, generator), up_to=last)
            for layer, z in enumerate(pre):
                z64 = z.to(torch.float64)
                batch_means[layer][b] = z64.mean(dim=0)
                sq_sums[layer] += (z64 * z64).sum(dim=0)
                if tail_threshold is not None:
                    tails[layer][b] = (z > tail_threshold).to(torch.float64).mean(dim=0)
            if progress is not None:
                progress(batch_size)
    used = n_batches * batch_size
    means = [bm.mean(dim=0) for bm in batch_means]
    variances = [
        (sq / used - m * m).clamp_min(0.0) * used / (used - 1) for sq, m in zip(sq_sums, means, strict=True)
    ]
    boot = torch.Generator().manual_seed(seed + 1)
    booted = [_bootstrap(bm, n_bootstrap, boot) for bm in batch_means]
    truth = GroundTruth(
        means=means,
        std_errors=[se for se, _ in booted],
        null_sds=[sd for _, sd in booted],
        variances=variances,
        n_samples=used,
        n_batches=n_batches,
        seconds=time.perf_counter() - start,
    )
    if tail_threshold is not None:
        _add_tails(truth, tail_threshold, tails, n_bootstrap, boot)
    return truth


def _add_tails(truth: GroundTruth, threshold: float, tails: list[Tensor], n_bootstrap: int, boot) -> None:
    truth.tail_threshold = threshold
    truth.tail_probs = [t.mean(dim=0) for t in tails]
    tail_booted = [_bootstrap(t, n_bootstrap, boot) for t in tails]
    truth.tail_std_errors = [se for se, _ in tail_booted]
    truth.tail_null_sds = [sd for _, sd in tail_booted]

"""One random MLP, every estimator up to an order, against a sampled ground truth (`overseer estimate mlp`)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from overseer.errors import InvalidInputError
from overseer.estimation.cumulants import ESTIMATOR_NAMES, make_cumulant_estimator
from overseer.estimation.mlp import MLPSpec, RandomMLP
from overseer.estimation.result import EstimateResult
from overseer.estimation.sampling import (
    GroundTruth,
    MonteCarloEstimator,
    sample_ground_truth,
    sampling_flops_per_sample,
)


@dataclass
class EstimatorRow:
    estimator: str
    mean_output: float  # mean over output neurons of the estimated E[f_i]
    mse_over_var: float
    resolved: bool
    flops: float
    advantage: float  # sampling MSE at the same FLOPs / this MSE; a lower bound when unresolved
    wall_time_s: float
    flags: list[str] = field(default_factory=list)


@dataclass
class SingleMLPResult:
    spec: MLPSpec
    truth_mean: float
    truth_std_error: float
    gt_samples: int
    truth_seconds: float
    rows: list[EstimatorRow] = field(default_factory=list)

    def table(self) -> tuple[str, list[str], list[list[str]]]:
        s = self.spec
        title = (f"E[f(x)] of a random {s.activation} MLP (width {s.width}, depth {s.depth}, init {s.init}, "
                 f"seed {s.seed}), x ~ N(0, I)")
        columns = ["estimator", "mean_i E[f_i]", "MSE/Var", "FLOPs", "advantage", "time (s)", "flags"]
        rows = [["ground truth", f"{self.truth_mean:.5f}", f"s.e. {self.truth_std_error:.1e}",
                 f"N={self.gt_samples:,}", "", f"{self.truth_seconds:.2f}", ""]]
        for r in self.rows:
            mse = "—" if math.isnan(r.mse_over_var) else f"{r.mse_over_var:.2e}"
            advantage = ("" if r.resolved else "≥") + (f"{r.advantage:.3g}" if math.isfinite(r.advantage) else "—")
            rows.append([r.estimator, f"{r.mean_output:.5f}", mse, f"{r.flops:.3g}", advantage,
                         f"{r.wall_time_s:.3f}", ", ".join(r.flags)])
        return title, columns, rows

    def to_dict(self) -> dict:
        return asdict(self)


def estimators_up_to(order: int) -> list[str]:
    if order not in (1, 2, 3, 4):
        raise InvalidInputError(f"order must be 1, 2, 3 or 4, got {order}.")
    return [n for n in (*ESTIMATOR_NAMES, "k3-augment", "k4") if int(n[1]) <= order]


def estimate_one_mlp(
    spec: MLPSpec, *, order: int = 2, estimators: list[str] | None = None, gt_samples: int = 200_000
) -> SingleMLPResult:
    """Run the estimators (default: the standard ones up to `order`) and a matched-FLOPs Monte Carlo."""
    names = estimators if estimators is not None else estimators_up_to(order)
    cumulant = [make_cumulant_estimator(n) for n in names]
    mlp = RandomMLP(spec)
    for est in cumulant:
        est.check_supported(mlp)
    results = [est.estimate(mlp) for est in cumulant]
    per_sample = sampling_flops_per_sample(mlp)[-1]
    mc_samples = max(2, round(results[-1].layer_flops[-1] / per_sample)) if results else 2
    results.append(MonteCarloEstimator(mc_samples, seed=spec.seed + 1).estimate(mlp))
    truth = sample_ground_truth(mlp, n_samples=gt_samples)
    last = mlp.depth - 1
    out = SingleMLPResult(spec, float(truth.means[last].mean()), float(truth.std_errors[last].mean()),
                          truth.n_samples, truth.seconds)
    out.rows = [_row(result, truth, last, per_sample) for result in results]
    return out


def _row(result: EstimateResult, truth: GroundTruth, layer: int, per_sample: float) -> EstimatorRow:
    err = truth.error(result.layer_means[layer], layer)
    flops = float(result.layer_flops[layer])
    upper = err.mse_over_var if err.resolved else max(err.mse_over_var, 0) + 3 * err.null_sd / err.variance
    advantage = (per_sample / flops) / upper if upper > 0 else math.inf
    flags = [] if err.resolved else ["below noise"]
    if result.negative_variances:
        flags.append(f"{result.negative_variances} var clamped")
    if result.diverged:
        flags.append(f"diverged@{result.diverged_at_layer}")
    return EstimatorRow(result.estimator, float(result.layer_means[layer].mean()), err.mse_over_var, err.resolved,
                        flops, advantage, result.wall_time_s, flags)


__all__ = ["EstimatorRow", "SingleMLPResult", "estimate_one_mlp", "estimators_up_to"]

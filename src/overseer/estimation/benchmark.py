"""The per-order benchmark: every cumulant order against sampling, at widths where it counts.

For each width and seed: one random MLP, a sampled ground truth at the scored layer (its size set
per width, so that the noise floor is stated and the orders above it are resolved), then every
estimator. Per order and width, over seeds: MSE / Var (noise-corrected) with a bootstrap interval
from `overseer.stats`, its FLOPs and seconds, the error ratio against sampling at equal FLOPs
(sampling has MSE / Var = F_sample / F; since sampling's error is exactly inverse in its FLOPs
this is also the FLOP ratio at equal error), and the fraction of sampling's FLOPs the order
needs to match sampling with 1, 16 and 256 samples (when its error is at most 1/m).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from overseer.errors import InvalidInputError
from overseer.estimation.cumulants import UnsupportedEstimatorError, make_cumulant_estimator
from overseer.estimation.mlp import build_mlp
from overseer.estimation.sampling import sample_ground_truth, sampling_flops_per_sample
from overseer.stats import Estimate, mean_ci

DEFAULT_ORDERS = ("k1-average", "k1", "k2", "k2-augment", "k3", "k3-augment", "k4")


@dataclass
class BenchConfig:
    widths: tuple[int, ...] = (256, 1024)
    gt_samples: tuple[int, ...] = (2**20, 2**15)  # one per width
    seeds: int = 5
    layer: int = 4
    activation: str = "relu"
    init: str = "he"  # or "critical" (edge of chaos at q_star)
    q_star: float = 1.0
    estimators: tuple[str, ...] = DEFAULT_ORDERS
    # Orders named here run on only `costly_seeds` seeds at widths above `costly_above` (cost, not accuracy).
    costly: tuple[str, ...] = ("k3",)
    costly_above: int = 256
    costly_seeds: int = 1
    sample_counts: tuple[int, ...] = (1, 16, 256)
    slope_min_width: int = 16  # narrower nets are far from the asymptotic regime (outlier seeds)

    def validate(self) -> None:
        if not self.widths or any(w < 1 for w in self.widths):
            raise InvalidInputError(f"widths must be integers >= 1, got {self.widths}.")
        if len(self.gt_samples) != len(self.widths) or any(n < 40 for n in self.gt_samples):
            raise InvalidInputError("Give one ground-truth size (>= 40 samples) per width.")
        if self.seeds < 1 or self.costly_seeds < 1:
            raise InvalidInputError("seeds and costly_seeds must be >= 1.")
        if self.layer < 0:
            raise InvalidInputError(f"layer must be >= 0, got {self.layer}.")
        for name in self.estimators:
            make_cumulant_estimator(name)


@dataclass
class SeedScore:
    width: int
    seed: int
    estimator: str
    mse_over_var: float
    null_sd_over_var: float
    floor_over_var: float
    flops: float
    seconds: float
    sample_flops: float  # FLOPs of one Monte Carlo sample up to the layer
    truth_seconds: float


@dataclass
class OrderSummary:
    width: int
    estimator: str
    n_seeds: int
    mse_over_var: Estimate  # mean over seeds, 95% bootstrap interval over seeds
    null_sd_over_var: float  # spread of that mean if every estimate were exact
    resolved: bool
    flops: float
    seconds: float
    sample_flops: float
    error_ratio: float  # sampling MSE / this MSE at equal FLOPs; a lower bound when unresolved
    match_fraction: dict[int, float | None]  # m -> F / (m F_sample) when MSE/Var <= 1/m, else None

    @property
    def upper(self) -> float:
        value = self.mse_over_var.value
        return value if self.resolved else max(value, 0.0) + 3.0 * self.null_sd_over_var

    def to_dict(self) -> dict:
        out = asdict(self)
        out["mse_over_var"] = self.mse_over_var.to_dict()
        out["upper_mse_over_var"] = self.upper
        return out


@dataclass
class TruthSummary:
    width: int
    n_samples: int
    floor_over_var: float  # mean s^2 / Var, subtracted from every raw MSE
    null_sd_over_var: float  # per seed
    seconds: float


@dataclass
class BenchResult:
    config: BenchConfig
    scores: list[SeedScore] = field(default_factory=list)
    summaries: list[OrderSummary] = field(default_factory=list)
    truths: list[TruthSummary] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "order at width: why", once each
    seconds: float = 0.0

    def slopes(self) -> dict[str, float]:
        """Least-squares slope of log MSE/Var against log width, per order, over its resolved widths
        from `slope_min_width` up."""
        out = {}
        for name in self.config.estimators:
            points = sorted(
                (s.width, s.mse_over_var.value)
                for s in self.summaries
                if s.estimator == name and s.resolved and s.width >= self.config.slope_min_width
            )
            if len(points) >= 2:
                x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
                out[name] = float(np.polyfit(x, y, 1)[0])
        return out

    def table(self, width: int) -> tuple[str, list[str], list[list[str]]]:
        """(title, columns, rows) of the per-order table at one width."""
        truth = next(t for t in self.truths if t.width == width)
        title = (
            f"width {width}, layer {self.config.layer} ({self.config.activation}, {self.config.init} init); "
            f"ground truth {truth.n_samples:,} samples/seed, noise floor {truth.floor_over_var:.1e} (subtracted), "
            f"null s.d. {truth.null_sd_over_var:.1e} per seed (MSE/Var units)"
        )
        columns = ["order", "seeds", "MSE/Var", "95% CI", "FLOPs", "seconds", "error ratio"] + [
            f"F/F_mc({m})" for m in self.config.sample_counts
        ]
        rows = []
        for s in (s for s in self.summaries if s.width == width):
            mark = "" if s.resolved else "<"
            ci = f"[{s.mse_over_var.low:.2e}, {s.mse_over_var.high:.2e}]" if s.n_seeds > 1 else "—"
            match = ["—" if f is None else f"{f:.2g}" for f in (s.match_fraction[m] for m in self.config.sample_counts)]
            rows.append(
                [s.estimator, str(s.n_seeds), f"{mark}{s.upper:.2e}", ci, f"{s.flops:.3g}", f"{s.seconds:.2f}",
                 ("≥" if not s.resolved else "") + f"{s.error_ratio:.3g}", *match]
            )
        return title, columns, rows

    def to_dict(self) -> dict:
        return {
            "config": asdict(self.config),
            "truths": [asdict(t) for t in self.truths],
            "skipped": list(self.skipped),
            "slopes": self.slopes(),
            "summaries": [s.to_dict() for s in self.summaries],
            "scores": [asdict(s) for s in self.scores],
            "seconds": self.seconds,
        }


def run_benchmark(config: BenchConfig, on_step: Callable[[str], None] | None = None) -> BenchResult:
    config.validate()
    start = time.perf_counter()
    out = BenchResult(config)
    for width, n_samples in zip(config.widths, config.gt_samples, strict=True):
        truth_rows = []
        for seed in range(config.seeds):
            truth_rows.append(_score_seed(config, width, n_samples, seed, out))
            if on_step is not None:
                on_step(f"width {width} seed {seed}")
        floors, nulls, secs = zip(*truth_rows, strict=True)
        out.truths.append(TruthSummary(width, n_samples, float(np.mean(floors)), float(np.mean(nulls)), sum(secs)))
        out.summaries.extend(_summarise(config, width, out.scores))
    out.seconds = time.perf_counter() - start
    return out


def _score_seed(config: BenchConfig, width: int, n_samples: int, seed: int, out: BenchResult):
    layer = config.layer
    mlp = build_mlp(width, layer + 1, config.activation, seed=seed, init=config.init, q_star=config.q_star)
    truth = sample_ground_truth(mlp, n_samples=n_samples)
    variance = truth.layer_variance(layer)
    sample_flops = sampling_flops_per_sample(mlp)[layer]
    for name in config.estimators:
        if name in config.costly and width > config.costly_above and seed >= config.costly_seeds:
            continue
        estimator = make_cumulant_estimator(name)
        try:
            estimator.check_supported(mlp)
        except UnsupportedEstimatorError as err:
            if seed == 0:
                out.skipped.append(f"{name} at width {width}: {err}")
            continue
        result = estimator.estimate(mlp)
        err = truth.error(result.layer_means[layer], layer)
        out.scores.append(
            SeedScore(width, seed, result.estimator, err.mse_over_var, err.null_sd / variance,
                      err.noise_floor / variance, float(result.layer_flops[layer]), result.wall_time_s,
                      sample_flops, truth.seconds)
        )
    return truth_floor(truth, layer), truth.null_sds[layer] / variance, truth.seconds


def truth_floor(truth, layer: int) -> float:
    return float((truth.std_errors[layer] ** 2).mean()) / truth.layer_variance(layer)


def _summarise(config: BenchConfig, width: int, scores: list[SeedScore]) -> list[OrderSummary]:
    out = []
    for name in config.estimators:
        rows = [s for s in scores if s.width == width and s.estimator == name]
        if not rows:
            continue
        k = len(rows)
        values = [r.mse_over_var for r in rows]
        estimate = mean_ci(values) if k > 1 else Estimate(values[0], math.nan, math.nan, 1)
        null = math.sqrt(sum(r.null_sd_over_var**2 for r in rows)) / k
        resolved = estimate.value > 3.0 * null
        upper = estimate.value if resolved else max(estimate.value, 0.0) + 3.0 * null
        flops = float(np.mean([r.flops for r in rows]))
        sample_flops = float(np.mean([r.sample_flops for r in rows]))
        match = {m: (flops / (m * sample_flops) if upper <= 1.0 / m else None) for m in config.sample_counts}
        out.append(
            OrderSummary(width, name, k, estimate, null, resolved, flops, float(np.mean([r.seconds for r in rows])),
                         sample_flops, (sample_flops / flops) / upper if upper > 0 else math.inf, match)
        )
    return out

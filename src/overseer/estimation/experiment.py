"""The paper's experiment: error versus FLOPs of cumulant propagation against sampling.

For every width and seed: draw a random MLP, sample a large ground truth (bootstrap standard
errors), run each estimator, and score every layer by MSE / Var (noise-corrected, see
`metrics`). Sampling at matched FLOPs has MSE / Var = F_sample / F, where F_sample is the
counted cost of one sample up to that layer. The advantage of an estimator is that sampling
MSE divided by its own: > 1 means it beats sampling at equal FLOPs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from overseer.errors import InvalidInputError
from overseer.estimation.activations import get_activation
from overseer.estimation.cumulants import ESTIMATOR_NAMES, make_cumulant_estimator
from overseer.estimation.metrics import layer_error, sampling_mse_over_var
from overseer.estimation.mlp import build_mlp
from overseer.estimation.sampling import MonteCarloEstimator, sample_ground_truth, sampling_flops_per_sample


@dataclass
class CompareConfig:
    widths: tuple[int, ...] = (8, 16, 32, 64, 128, 256)
    seeds: int = 5
    depth: int = 16
    activation: str = "relu"
    bias: bool = False
    gt_samples: int = 1_000_000
    batch_size: int = 10_000
    estimators: tuple[str, ...] = ESTIMATOR_NAMES
    k3_max_width: int = 256  # factored K = 3 costs O(n^3 l^2) FLOPs and O(n^2 l) memory at layer l
    main_layer: int = 4
    mc_samples: tuple[int, ...] = (16, 256)  # Monte Carlo runs that check the sampling line
    slope_min_width: int = 16
    init: str = "he"
    q_star: float = 1.0
    bias_mean: float = 0.0
    bias_var: float | None = None

    def validate(self) -> None:
        if not self.widths or any(w < 1 for w in self.widths):
            raise InvalidInputError(f"Widths must be a non-empty list of integers >= 1, got {self.widths}.")
        if self.seeds < 1:
            raise InvalidInputError(f"seeds must be >= 1, got {self.seeds}.")
        if self.depth < 1:
            raise InvalidInputError(f"depth (linear layers) must be >= 1, got {self.depth}.")
        if self.gt_samples < 2:
            raise InvalidInputError(f"gt_samples must be >= 2, got {self.gt_samples}.")
        if any(n < 2 for n in self.mc_samples):
            raise InvalidInputError(f"Monte Carlo sample counts must be >= 2, got {self.mc_samples}.")
        get_activation(self.activation)
        for name in self.estimators:
            make_cumulant_estimator(name)

    @property
    def layer(self) -> int:
        """The main layer, clipped to the network."""
        return min(self.main_layer, self.depth - 1)


@dataclass
class Row:
    """One estimator on one MLP at one layer."""

    width: int
    seed: int
    estimator: str
    layer: int
    flops: float
    wall_time_s: float
    raw_mse: float
    noise_floor: float
    mse: float
    null_sd: float
    variance: float
    mse_over_var: float
    resolved: bool
    sampling_mse_over_var: float
    flagged: bool  # after a divergence or a clamped negative variance upstream
    negative_variances: int


@dataclass
class Aggregate:
    """An estimator at one width and layer, averaged over seeds."""

    width: int
    estimator: str
    layer: int
    n_seeds: int
    flops: float
    mse_over_var: float  # mean over seeds of the noise-corrected MSE / Var
    sem: float  # standard error of that mean across seeds
    null_sd_over_var: float  # its spread if every estimate were exact
    resolved: bool
    sampling_mse_over_var: float
    advantage: float  # sampling / estimator at equal FLOPs; a lower bound when unresolved
    flagged_seeds: int  # seeds whose estimate here follows a divergence or clamped variance

    @property
    def upper_mse_over_var(self) -> float:
        """The MSE / Var itself when resolved, else an upper bound from the noise floor."""
        if self.resolved:
            return self.mse_over_var
        return max(self.mse_over_var, 0.0) + 3.0 * self.null_sd_over_var


@dataclass
class Slope:
    estimator: str
    slope: float
    stderr: float
    widths: list[int]


@dataclass
class CompareResult:
    config: CompareConfig
    rows: list[Row] = field(default_factory=list)
    aggregates: list[Aggregate] = field(default_factory=list)
    slopes: list[Slope] = field(default_factory=list)
    statement: str = ""
    seconds: float = 0.0

    @property
    def main_width(self) -> int:
        return max(self.config.widths)

    def aggregate(self, width: int, estimator: str, layer: int) -> Aggregate | None:
        for agg in self.aggregates:
            if (agg.width, agg.estimator, agg.layer) == (width, estimator, layer):
                return agg
        return None

    def estimators_run(self) -> list[str]:
        names = []
        for agg in self.aggregates:
            if agg.estimator not in names:
                names.append(agg.estimator)
        return names

    def table(self) -> tuple[str, list[str], list[list[str]]]:
        """(title, columns, rows): MSE/Var and advantage per width and estimator at the main layer."""
        layer = self.config.layer
        names = [n for n in self.estimators_run() if not n.startswith("mc")]
        rows = []
        for width in sorted(self.config.widths):
            cells = [str(width)]
            for name in names:
                agg = self.aggregate(width, name, layer)
                if agg is None:
                    cells.append("—")
                    continue
                mark, bound = ("", "") if agg.resolved else ("<", "≥")
                flag = " !" if agg.flagged_seeds else ""
                advantage = f"{bound}{_fmt(agg.advantage, '.3g')}x"
                cells.append(f"{mark}{_fmt(agg.upper_mse_over_var, '.2e')} ({advantage}){flag}")
            rows.append(cells)
        return f"MSE/Var at layer {layer} (advantage over sampling at equal FLOPs)", ["width", *names], rows

    def slope_table(self) -> tuple[str, list[str], list[list[str]]]:
        rows = [[s.estimator, f"{s.slope:.2f}", _fmt(s.stderr, ".2f"), ",".join(map(str, s.widths))]
                for s in self.slopes]
        return "MSE/Var ~ width^slope", ["estimator", "slope", "± s.e.", "widths fitted"], rows

    def to_dict(self) -> dict:
        config = asdict(self.config)
        aggregates = []
        for agg in self.aggregates:
            record = asdict(agg)
            record["upper_mse_over_var"] = agg.upper_mse_over_var
            aggregates.append(record)
        return {
            "config": config,
            "main_width": self.main_width,
            "main_layer": self.config.layer,
            "statement": self.statement,
            "slopes": [asdict(s) for s in self.slopes],
            "aggregates": aggregates,
            "rows": [asdict(r) for r in self.rows],
            "seconds": self.seconds,
        }


def _fmt(x: float, spec: str = ".3g") -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def run_compare(
    config: CompareConfig, on_task: Callable[[str], None] | None = None
) -> CompareResult:
    """Run the whole comparison; `on_task(description)` is called after each (width, seed)."""
    config.validate()
    start = time.perf_counter()
    out = CompareResult(config=config)
    for width in config.widths:
        for seed in range(config.seeds):
            _run_one(config, width, seed, out)
            if on_task is not None:
                on_task(f"width {width} seed {seed}")
    out.aggregates = _aggregate(out.rows)
    out.slopes = _fit_slopes(out, config.layer, config.slope_min_width)
    out.statement = overtaking_statement(out)
    out.seconds = time.perf_counter() - start
    return out


def _run_one(config: CompareConfig, width: int, seed: int, out: CompareResult) -> None:
    mlp = build_mlp(width, config.depth, config.activation, bias=config.bias, seed=seed, init=config.init,
                    q_star=config.q_star, bias_mean=config.bias_mean, bias_var=config.bias_var)
    truth = sample_ground_truth(mlp, n_samples=config.gt_samples, batch_size=config.batch_size)
    per_sample = sampling_flops_per_sample(mlp)
    results = []
    for name in config.estimators:
        estimator = make_cumulant_estimator(name)
        if (estimator.order >= 3 and width > config.k3_max_width) or width > estimator.max_width:
            continue
        results.append(estimator.estimate(mlp))
    if width == max(config.widths):
        for n_samples in config.mc_samples:
            results.append(MonteCarloEstimator(n_samples, seed=1000 + seed).estimate(mlp))
    for result in results:
        for layer in range(mlp.depth):
            err = layer_error(
                result.layer_means[layer],
                truth.means[layer],
                truth.std_errors[layer],
                truth.layer_variance(layer),
                truth.null_sds[layer],
            )
            flops = float(result.layer_flops[layer])
            out.rows.append(
                Row(
                    width=width,
                    seed=seed,
                    estimator=result.estimator,
                    layer=layer,
                    flops=flops,
                    wall_time_s=result.wall_time_s,
                    raw_mse=err.raw_mse,
                    noise_floor=err.noise_floor,
                    mse=err.mse,
                    null_sd=err.null_sd,
                    variance=err.variance,
                    mse_over_var=err.mse_over_var,
                    resolved=err.resolved,
                    sampling_mse_over_var=sampling_mse_over_var(per_sample[layer], flops),
                    flagged=result.flagged_at(layer),
                    negative_variances=result.negative_variances,
                )
            )


def _aggregate(rows: list[Row]) -> list[Aggregate]:
    groups: dict[tuple[int, str, int], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.width, row.estimator, row.layer), []).append(row)
    out = []
    for (width, estimator, layer), group in groups.items():
        usable = [r for r in group if math.isfinite(r.mse_over_var)]
        k = len(usable)
        if k == 0:
            nan = math.nan
            flops = float(np.mean([r.flops for r in group]))
            out.append(Aggregate(width, estimator, layer, 0, flops, nan, nan, nan, False, nan, nan, len(group)))
            continue
        values = np.array([r.mse_over_var for r in usable])
        mean = float(values.mean())
        sem = float(values.std(ddof=1) / math.sqrt(k)) if k > 1 else math.nan
        null_sd = math.sqrt(sum((r.null_sd / r.variance) ** 2 for r in usable)) / k
        resolved = mean > 3.0 * null_sd
        flops = float(np.mean([r.flops for r in usable]))
        sampling = float(np.mean([r.sampling_mse_over_var for r in usable]))
        upper = mean if resolved else max(mean, 0.0) + 3.0 * null_sd
        out.append(
            Aggregate(
                width=width,
                estimator=estimator,
                layer=layer,
                n_seeds=k,
                flops=flops,
                mse_over_var=mean,
                sem=sem,
                null_sd_over_var=null_sd,
                resolved=resolved,
                sampling_mse_over_var=sampling,
                advantage=sampling / upper if upper > 0 else math.inf,
                flagged_seeds=sum(r.flagged for r in group),
            )
        )
    return out


def _fit_slopes(result: CompareResult, layer: int, min_width: int) -> list[Slope]:
    """Least-squares slope of log MSE/Var against log width, over resolved, unflagged widths."""
    slopes = []
    for name in result.estimators_run():
        if name.startswith("mc"):
            continue
        points = [
            (agg.width, agg.mse_over_var)
            for agg in result.aggregates
            if agg.estimator == name
            and agg.layer == layer
            and agg.resolved
            and agg.width >= min_width
            and not agg.flagged_seeds
        ]
        points.sort()
        if len(points) < 2:
            continue
        x = np.log([p[0] for p in points])
        y = np.log([p[1] for p in points])
        slope, intercept = np.polyfit(x, y, 1)
        dof = len(points) - 2
        if dof > 0:
            resid = y - (slope * x + intercept)
            stderr = float(math.sqrt(resid @ resid / dof / ((x - x.mean()) @ (x - x.mean()))))
        else:
            stderr = math.nan
        slopes.append(Slope(name, float(slope), stderr, [p[0] for p in points]))
    return slopes


def overtaking_statement(result: CompareResult) -> str:
    """Where cumulant propagation overtakes sampling at the main layer, and by what factor."""
    layer = result.config.layer
    widths = sorted(result.config.widths)
    names = [n for n in result.estimators_run() if not n.startswith("mc")]
    best_by_width = {}
    for width in widths:
        candidates = [result.aggregate(width, name, layer) for name in names]
        candidates = [c for c in candidates if c is not None and math.isfinite(c.advantage)]
        if candidates:
            best_by_width[width] = max(candidates, key=lambda c: c.advantage)
    if not best_by_width:
        return "No estimator produced a finite error; nothing to compare."
    overtakes_at = None
    for width in reversed(widths):
        best = best_by_width.get(width)
        if best is None or best.advantage <= 1.0:
            break
        overtakes_at = width
    main = best_by_width[max(best_by_width)]
    bound = "" if main.resolved else " (a lower bound: its error is below the ground truth's noise)"
    lines = []
    if overtakes_at is None:
        lines.append(
            f"At layer {layer}, cumulant propagation does not beat sampling at equal FLOPs at the "
            f"widest width run ({max(best_by_width)}): best advantage {main.advantage:.3g}x ({main.estimator})."
        )
    else:
        lines.append(
            f"At layer {layer}, cumulant propagation beats sampling at equal FLOPs from width {overtakes_at} "
            f"upward; at width {main.width} the best estimator, {main.estimator}, has "
            f"{main.advantage:.3g}x lower MSE than sampling with the same FLOPs{bound}."
        )
    lines.append(_per_estimator_line(result, names, widths, main.width))
    lines.extend(_trend_and_flags(result, best_by_width))
    return " ".join(lines)


def _per_estimator_line(result: CompareResult, names: list[str], widths: list[int], main_width: int) -> str:
    layer = result.config.layer
    per_estimator = []
    for name in names:
        wins = [w for w in widths if (a := result.aggregate(w, name, layer)) and a.advantage > 1.0]
        at_main = result.aggregate(main_width, name, layer)
        if at_main is None:
            continue
        first = f"wins from width {min(wins)}" if wins else "never wins"
        per_estimator.append(f"{name}: {first}, {at_main.advantage:.3g}x at width {main_width}")
    return "Per estimator: " + "; ".join(per_estimator) + "."


def _trend_and_flags(result: CompareResult, best_by_width: dict) -> list[str]:
    layer = result.config.layer
    lines = []
    growing = [best_by_width[w].advantage for w in sorted(best_by_width)]
    if len(growing) >= 2:
        trend = "grows" if growing[-1] > growing[0] else "does not grow"
        lines.append(
            f"The best advantage {trend} with width ({growing[0]:.3g}x at width {min(best_by_width)} "
            f"to {growing[-1]:.3g}x at width {max(best_by_width)})."
        )
    flagged = [
        f"{a.estimator} at width {a.width} ({a.flagged_seeds}/{a.n_seeds} seeds)"
        for a in result.aggregates
        if a.layer == layer and a.flagged_seeds and not a.estimator.startswith("mc")
    ]
    if flagged:
        lines.append(
            "Flagged (a negative variance was clamped or the cumulants diverged upstream): "
            + ", ".join(flagged) + "."
        )
    if result.slopes:
        lines.append(
            "MSE/Var vs width slopes: "
            + ", ".join(f"{s.estimator} {s.slope:.2f}" for s in result.slopes)
            + " (theory: -K)."
        )
    return lines

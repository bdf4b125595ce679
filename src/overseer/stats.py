"""The one place for uncertainty: `Estimate(value, low, high, n)`, bootstrap CIs (plain,
stratified, clustered, paired), Wilson intervals for rates, and McNemar's test for paired
binary outcomes. Every area (probes, steering, evals) reports its numbers through these.

All bootstraps are percentile bootstraps with a seeded numpy Generator, so a rerun gives the
same interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from overseer.errors import InvalidInputError


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a (1 - alpha) interval, over `n` units (items, clusters, games)."""

    value: float
    low: float
    high: float
    n: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"

    def signed(self) -> str:
        """`+0.050 [+0.015, +0.090]`: for differences."""
        return f"{self.value:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"


def _percentile(draws: Sequence[float], alpha: float) -> tuple[float, float]:
    finite = np.asarray([d for d in draws if d is not None and np.isfinite(d)], dtype=np.float64)
    if len(finite) == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def bootstrap_ci(statistic: Callable[..., float], *arrays: Any, n_boot: int = 1000, alpha: float = 0.05,
                 seed: int = 0, stratify: Any = None, clusters: Any = None) -> Estimate:
    """Percentile bootstrap of `statistic(*arrays)` over the rows that `arrays` share.

    - `stratify`: resample within each class (keeps both labels in every draw, so AUROC stays defined).
    - `clusters`: resample whole clusters (all rows with the same id together), e.g. NSG centre cases
      or the epochs of one item.
    Draws where the statistic is NaN are left out of the interval.
    """
    arrays = [np.asarray(a) for a in arrays]
    if not arrays:
        raise InvalidInputError("bootstrap_ci needs at least one array.")
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise InvalidInputError(f"bootstrap arrays have different lengths {[len(a) for a in arrays]}.")
    if n == 0:
        raise InvalidInputError("cannot bootstrap an empty sample.")
    if stratify is not None and clusters is not None:
        raise InvalidInputError("pass stratify or clusters, not both.")
    value = float(statistic(*arrays))
    rng = np.random.default_rng(seed)
    if clusters is not None:
        ids = np.asarray(clusters)
        if len(ids) != n:
            raise InvalidInputError(f"{len(ids)} cluster ids for {n} rows.")
        members = [np.flatnonzero(ids == c) for c in dict.fromkeys(ids.tolist())]
        units = len(members)

        def draw_index() -> np.ndarray:
            return np.concatenate([members[i] for i in rng.integers(0, units, size=units)])
    else:
        groups = [np.arange(n)] if stratify is None else [np.flatnonzero(np.asarray(stratify) == g)
                                                          for g in np.unique(stratify)]
        units = n

        def draw_index() -> np.ndarray:
            return np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups])

    draws = []
    for _ in range(n_boot):
        index = draw_index()
        draws.append(float(statistic(*[a[index] for a in arrays])))
    low, high = _percentile(draws, alpha)
    return Estimate(value, low, high, units)


def mean_ci(values: Any, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0, clusters: Any = None) -> Estimate:
    """Mean of `values` with a bootstrap CI (over rows, or over clusters if given)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if len(values) and not np.isfinite(values).all():
        raise InvalidInputError("values contain NaN or inf: drop or fix them before averaging.")
    return bootstrap_ci(np.mean, values, n_boot=n_boot, alpha=alpha, seed=seed, clusters=clusters)


def paired_difference_ci(a: Any, b: Any, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0,
                         statistic: Callable[[np.ndarray], float] = np.mean, clusters: Any = None) -> Estimate:
    """statistic(a) - statistic(b) where a[i] and b[i] are the same unit under two conditions; rows are
    resampled together, so the unit-to-unit variation cancels."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if len(a) != len(b):
        raise InvalidInputError(f"paired samples must have the same length, got {len(a)} and {len(b)}.")
    return bootstrap_ci(lambda x, y: statistic(x) - statistic(y), a, b, n_boot=n_boot, alpha=alpha, seed=seed,
                        clusters=clusters)


def difference_ci(a: Any, b: Any, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0,
                  statistic: Callable[[np.ndarray], float] = np.mean) -> Estimate:
    """statistic(a) - statistic(b) for two independent samples, each resampled on its own."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if len(a) == 0 or len(b) == 0:
        raise InvalidInputError("cannot compare an empty sample.")
    rng = np.random.default_rng(seed)
    value = float(statistic(a) - statistic(b))
    draws = [float(statistic(rng.choice(a, len(a))) - statistic(rng.choice(b, len(b)))) for _ in range(n_boot)]
    low, high = _percentile(draws, alpha)
    return Estimate(value, low, high, len(a) + len(b))


def wilson_interval(successes: int, n: int, alpha: float = 0.05) -> Estimate:
    """A rate with its Wilson score interval (sensible at 0/n and n/n, unlike the normal approximation)."""
    if n <= 0:
        raise InvalidInputError("a rate needs at least one trial.")
    if not 0 <= successes <= n:
        raise InvalidInputError(f"successes must be in [0, {n}], got {successes}.")
    from statistics import NormalDist

    z = NormalDist().inv_cdf(1 - alpha / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Estimate(p, low, high, n)


@dataclass(frozen=True)
class McNemar:
    """McNemar's exact test on paired binary outcomes: b = (a true, b false), c = (a false, b true)."""

    b: int
    c: int
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def mcnemar(a: Any, b: Any) -> McNemar:
    """Exact (binomial) McNemar test that paired outcomes `a` and `b` have the same rate."""
    a = np.asarray(a, dtype=bool).ravel()
    b = np.asarray(b, dtype=bool).ravel()
    if len(a) != len(b):
        raise InvalidInputError(f"paired outcomes must have the same length, got {len(a)} and {len(b)}.")
    n10 = int((a & ~b).sum())
    n01 = int((~a & b).sum())
    discordant = n10 + n01
    if discordant == 0:
        return McNemar(n10, n01, 1.0)
    from scipy.stats import binomtest

    return McNemar(n10, n01, float(binomtest(min(n10, n01), discordant, 0.5).pvalue))


def verdict(diff: Estimate, better: str = "ahead", worse: str = "behind") -> str:
    """What a difference's CI lets one say: ahead / behind / no difference at this n."""
    if diff.low > 0:
        return better
    if diff.high < 0:
        return worse
    return "no difference at this n"


def cluster_totals_bootstrap(statistic: Callable[[np.ndarray], np.ndarray], totals: Any, n_boot: int = 1000,
                             alpha: float = 0.05, seed: int = 0, generator: str = "default") -> Estimate:
    """Percentile bootstrap over clusters of a statistic of summed per-cluster totals (e.g. counts of
    correct answers and of records, for a ratio of sums such as NSG), vectorised over draws.

    `totals` is (clusters, k); `statistic` maps an (m, k) array of totals summed over a draw's clusters
    to m values. `generator="default"` draws with `numpy.random.default_rng(seed)`; `"legacy"` with
    `numpy.random.RandomState(seed).randint(0, clusters, clusters)` per draw, the stream of code that
    seeds numpy's global generator (as Mayne et al.'s NSG reference does, seed 42), so its interval is
    reproduced exactly when the clusters are in the same order. Non-finite draws are left out.
    """
    totals = np.asarray(totals, dtype=np.float64)
    if totals.ndim != 2 or len(totals) == 0:
        raise InvalidInputError("cluster totals must be a non-empty (clusters, k) array.")
    if generator not in ("default", "legacy"):
        raise InvalidInputError(f"generator must be 'default' or 'legacy', got {generator!r}.")
    units = len(totals)
    if generator == "legacy":
        draws = np.random.RandomState(seed).randint(0, units, size=(n_boot, units))
    else:
        draws = np.random.default_rng(seed).integers(0, units, size=(n_boot, units))
    counts = np.stack([np.bincount(row, minlength=units) for row in draws]).astype(np.float64)
    value = float(np.asarray(statistic(totals.sum(axis=0, keepdims=True)), dtype=np.float64)[0])
    low, high = _percentile(np.asarray(statistic(counts @ totals), dtype=np.float64), alpha)
    return Estimate(value, low, high, units)


def jackknife_ci(value: float, leave_one_out: Sequence[float], z: float = 1.959964,
                 bounds: tuple[float, float] | None = None) -> Estimate:
    """`value` (a statistic of all units) with the normal interval value +- z * jackknife standard error, from the
    statistic recomputed with each unit left out. For statistics that are not means of their units (a corpus's
    share of distinct n-grams), where a bootstrap is biased because a resample repeats units. `bounds` clips the
    interval (e.g. (0, 1) for a share); fewer than two units give a zero-width interval."""
    n = len(leave_one_out)
    if n < 2:
        return Estimate(value, value, value, n)
    mean = sum(leave_one_out) / n
    se = math.sqrt((n - 1) / n * sum((v - mean) ** 2 for v in leave_one_out))
    low, high = value - z * se, value + z * se
    if bounds is not None:
        low, high = max(bounds[0], low), min(bounds[1], high)
    return Estimate(value, low, high, n)

"""Jaggedness of skill profiles (after Morris et al. 2026, "Characterizing Model Jaggedness").

Per model m and domain d, x[m, d] = mean score over the observations of the domain's items. Each domain is
normalised to a reference population: a human baseline (mean, sd per domain) when given, otherwise the *other*
models (leave-one-out, so a model is not compared with itself). z = (x - mu) / sd, winsorised to [-clip, clip];
J[m] = population SD of z[m, :] across domains (0 = evenly good or bad everywhere).

Also: a 2PL-style fit P(pass) = sigmoid(alpha_b * (C_m - D_b)) over models x benchmarks (binomial likelihood
of item successes, weak Gaussian priors for identifiability), solved by damped Newton to a tolerance;
difficulty inversions (model fails an easier benchmark while passing a harder one); and percentile bootstrap
CIs through `overseer.stats.bootstrap_ci`. The bootstrap unit is the item: an item's epochs and its repeats
from other files are one unit (a cluster), resampled together and within its domain (the same items for every
model, keeping scores paired), so repeated runs do not narrow the CI.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from overseer.errors import InvalidInputError
from overseer.evals.readers import ItemScore
from overseer.stats import bootstrap_ci

LOG_ALPHA_PRIOR_SD = 0.5


@dataclass
class IRTFit:
    capability: dict[str, float]
    difficulty: dict[str, float]
    discrimination: dict[str, float]
    capability_ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    converged: bool = True
    iterations: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class IRTOptimum:
    """The maximum a posteriori 2PL parameters and how the solver got there."""

    capability: np.ndarray
    difficulty: np.ndarray
    discrimination: np.ndarray
    iterations: int
    converged: bool
    objective: float

    @property
    def params(self) -> np.ndarray:
        return np.concatenate([self.capability, self.difficulty, np.log(self.discrimination)])


@dataclass
class Inversion:
    model: str
    failed_easier: str
    passed_harder: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class JaggednessResult:
    models: list[str]
    domains: list[str]
    scores: dict[str, dict[str, float]]             # model -> domain -> mean score
    z: dict[str, dict[str, float]]                  # winsorised
    jaggedness: dict[str, float]
    jaggedness_ci: dict[str, tuple[float, float]]
    reference: str                                  # "human baseline" or "other models"
    irt: IRTFit | None
    inversions: list[Inversion]
    inversion_rate: dict[str, float]
    settings: dict[str, Any]
    n_items: dict[str, int] = field(default_factory=dict)          # domain -> items (bootstrap units)
    n_observations: dict[str, int] = field(default_factory=dict)   # domain -> scored observations, all models
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["irt"] = self.irt.to_dict() if self.irt is not None else None
        return out


@dataclass
class _Table:
    """Items as rows (all epochs and repeats of an item summed), models as columns."""

    models: list[str]
    domains: list[str]
    k: np.ndarray        # [items, models] summed scores
    n: np.ndarray        # [items, models] observation counts
    domain: np.ndarray   # [items] domain index

    def matrices(self, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, k, n), each [models, domains], over `rows` (all items when None)."""
        rows = np.arange(len(self.domain)) if rows is None else np.asarray(rows, dtype=np.int64)
        onehot = np.eye(len(self.domains))[self.domain[rows]]
        k, n = (onehot.T @ self.k[rows]).T, (onehot.T @ self.n[rows]).T
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(n > 0, k / np.where(n > 0, n, 1.0), math.nan)
        return x, k, n


def _table(items: Sequence[ItemScore]) -> _Table:
    cells: dict[tuple[str, str], dict[str, list[float]]] = {}
    for it in items:
        if not math.isfinite(it.score):
            raise InvalidInputError(f"{it.model} / {it.domain} / {it.item_id}: score is not finite.")
        cells.setdefault((it.model, it.domain), {}).setdefault(it.item_id, []).append(it.score)
    models = sorted({m for m, _ in cells})
    domains = sorted({d for _, d in cells})
    missing = [(m, d) for m in models for d in domains if (m, d) not in cells]
    if missing:
        raise InvalidInputError(f"every model needs results on every domain; missing {missing[:5]}"
                                f"{' ...' if len(missing) > 5 else ''}. Drop those models or domains.")
    # Items per domain: the union over models; a model missing an item is scored on what it has.
    rows = [(j, item) for j, d in enumerate(domains) for item in sorted({i for m in models for i in cells[(m, d)]})]
    k, n = np.zeros((len(rows), len(models))), np.zeros((len(rows), len(models)))
    for r, (j, item) in enumerate(rows):
        for i, m in enumerate(models):
            scores = cells[(m, domains[j])].get(item, [])
            k[r, i], n[r, i] = sum(scores), len(scores)
    return _Table(models, domains, k, n, np.array([j for j, _ in rows], dtype=np.int64))


def z_scores(x: np.ndarray, baseline: np.ndarray | None = None, clip: float = 3.0) -> np.ndarray:
    """x: [models, domains]; baseline: [2, domains] (mean, sd) or None for leave-one-out over models."""
    if baseline is not None:
        mu, sd = baseline[0][None, :], baseline[1][None, :]
    else:
        n = x.shape[0]
        total, total_sq = x.sum(0, keepdims=True), (x ** 2).sum(0, keepdims=True)
        mu = (total - x) / (n - 1)
        var = (total_sq - x ** 2) / (n - 1) - mu ** 2
        sd = np.sqrt(np.clip(var, 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 1e-12, (x - mu) / sd, 0.0)
    return np.clip(z, -clip, clip)


def irt_objective(params: np.ndarray, k: np.ndarray, n: np.ndarray, prior_sd: float = 2.0,
                  hessian: bool = False) -> tuple[float, np.ndarray, np.ndarray | None]:
    """Negative log posterior of the 2PL model, its gradient and (optionally) its Hessian.

    params = [C (models), D (benchmarks), log alpha (benchmarks)]; priors N(0, prior_sd) on C and D,
    N(0, 0.5) on log alpha; k of n items passed per (model, benchmark)."""
    models, benches = k.shape
    c, d, log_a = params[:models], params[models:models + benches], params[models + benches:]
    a = np.exp(log_a)
    u = a[None, :] * (c[:, None] - d[None, :])
    p = 0.5 * (1.0 + np.tanh(u / 2))                  # the logistic function, without overflow
    r = k - n * p                                     # d loglik / du
    loglik = float((k * u - n * np.logaddexp(0.0, u)).sum())
    prior = float((c ** 2).sum() + (d ** 2).sum()) / (2 * prior_sd ** 2) + float((log_a ** 2).sum()) / (
        2 * LOG_ALPHA_PRIOR_SD ** 2)
    grad = -np.concatenate([(r * a).sum(1), -(r * a).sum(0), (r * u).sum(0)])
    grad += np.concatenate([c / prior_sd ** 2, d / prior_sd ** 2, log_a / LOG_ALPHA_PRIOR_SD ** 2])
    if not hessian:
        return prior - loglik, grad, None
    size = models + 2 * benches
    m_idx, b_idx = np.meshgrid(np.arange(models), np.arange(benches), indexing="ij")
    jac = np.zeros((models, benches, size))         # du / dparams per cell
    jac[m_idx, b_idx, m_idx] = a[None, :]
    jac[m_idx, b_idx, models + b_idx] = -a[None, :]
    jac[m_idx, b_idx, models + benches + b_idx] = u
    jac = jac.reshape(-1, size)
    w = (n * p * (1 - p)).ravel()
    hess = (jac * w[:, None]).T @ jac               # Gauss-Newton part of -loglik
    la = models + benches + np.arange(benches)
    ra = r * a[None, :]
    np.add.at(hess, (m_idx.ravel(), la[b_idx.ravel()]), -ra.ravel())   # -r * d2u / dC dlog_a
    np.add.at(hess, (models + b_idx.ravel(), la[b_idx.ravel()]), ra.ravel())
    hess[la, la] -= (r * u).sum(0)
    upper = np.triu(hess, 1)
    hess = np.diag(np.diag(hess)) + upper + upper.T  # the cross terms were added above the diagonal only
    hess += np.diag(np.concatenate([np.full(models + benches, 1 / prior_sd ** 2),
                                    np.full(benches, 1 / LOG_ALPHA_PRIOR_SD ** 2)]))
    return prior - loglik, grad, hess


def fit_irt(k: np.ndarray, n: np.ndarray, prior_sd: float = 2.0, tol: float = 1e-8, max_iter: int = 200,
            init: np.ndarray | None = None) -> IRTOptimum:
    """Maximum a posteriori (C [models], D [benchmarks], alpha [benchmarks]) for k of n items passed.

    Levenberg-damped Newton steps; stops when the largest parameter step and the largest gradient entry (scaled
    by the item count) are both below `tol`, else reports `converged=False` after `max_iter` steps."""
    models, benches = k.shape
    params = np.zeros(models + 2 * benches) if init is None else np.array(init, dtype=np.float64)
    value, grad, hess = irt_objective(params, k, n, prior_sd, hessian=True)
    scale, damping = max(1.0, float(n.sum())), 1e-6
    for iteration in range(1, max_iter + 1):
        step = np.linalg.solve(hess + damping * np.eye(len(params)), -grad)
        new_value, new_grad, new_hess = irt_objective(params + step, k, n, prior_sd, hessian=True)
        if new_value <= value + 1e-12 * abs(value):
            params, value, grad, hess = params + step, new_value, new_grad, new_hess
            damping = max(damping / 10, 1e-12)
            if np.abs(step).max() < tol and np.abs(grad).max() < tol * scale:
                return _optimum(params, models, benches, iteration, True, value)
        else:
            damping *= 10
            if damping > 1e12:
                break
    return _optimum(params, models, benches, iteration, False, value)


def _optimum(params: np.ndarray, models: int, benches: int, iterations: int, converged: bool,
             value: float) -> IRTOptimum:
    return IRTOptimum(params[:models].copy(), params[models:models + benches].copy(),
                      np.exp(params[models + benches:]), iterations, converged, float(value))


def inversions(scores: np.ndarray, difficulty: np.ndarray, models: list[str], domains: list[str],
               threshold: float = 0.5) -> tuple[list[Inversion], dict[str, float]]:
    found, rates = [], {}
    order = np.argsort(difficulty)
    for i, model in enumerate(models):
        passed = scores[i] >= threshold
        count = pairs = 0
        for a_pos, a in enumerate(order):
            for b in order[a_pos + 1:]:  # difficulty[a] <= difficulty[b]
                pairs += 1
                if not passed[a] and passed[b] and difficulty[a] < difficulty[b]:
                    count += 1
                    found.append(Inversion(model, domains[a], domains[b]))
        rates[model] = count / pairs if pairs else math.nan
    return found, rates


def _per_model_ci(table: _Table, per_draw: Callable[[np.ndarray], np.ndarray], n_boot: int,
                  seed: int) -> dict[str, tuple[float, float]]:
    """Percentile CI of each model's entry of `per_draw(rows)` over items resampled within domains.

    `bootstrap_ci` takes a scalar statistic, so it runs once per model; every run draws the same resamples
    (same seed and strata), and `per_draw` is evaluated once per resample."""
    memo: dict[int, np.ndarray] = {}

    def vector(rows: np.ndarray) -> np.ndarray:
        key = hash(rows.tobytes())
        if key not in memo:
            memo[key] = per_draw(rows)
        return memo[key]

    rows = np.arange(len(table.domain))
    out = {}
    for i, model in enumerate(table.models):
        est = bootstrap_ci(lambda r, i=i: vector(r)[i], rows, n_boot=n_boot, seed=seed, stratify=table.domain)
        out[model] = (est.low, est.high)
    return out


def _baseline(domains: list[str], human_baseline: dict[str, tuple[float, float]] | None,
              n_models: int) -> np.ndarray | None:
    if human_baseline is None:
        if n_models < 3:
            raise InvalidInputError(f"without a human baseline, each model is normalised against the others, "
                                    f"which needs at least 3 models (got {n_models}); add models or pass a human "
                                    "baseline.")
        return None
    missing = [d for d in domains if d not in human_baseline]
    if missing:
        raise InvalidInputError(f"the human baseline has no (mean, sd) for domains {missing}.")
    baseline = np.array([[human_baseline[d][0] for d in domains], [human_baseline[d][1] for d in domains]])
    if (baseline[1] <= 0).any():
        raise InvalidInputError("human-baseline standard deviations must be > 0.")
    return baseline


def jaggedness(items: Sequence[ItemScore], human_baseline: dict[str, tuple[float, float]] | None = None,
               clip: float = 3.0, n_boot: int = 1000, irt: bool = True, irt_boot: int = 50,
               pass_threshold: float = 0.5, seed: int = 0, notes: Sequence[str] = ()) -> JaggednessResult:
    """Profiles, J with bootstrap CIs, the IRT fit and inversions; `notes` (e.g. from the readers) are kept."""
    if not items:
        raise InvalidInputError("no item scores given.")
    table = _table(items)
    models, domains = table.models, table.domains
    if len(domains) < 2:
        raise InvalidInputError(f"jaggedness needs at least 2 domains, got {domains}.")
    baseline = _baseline(domains, human_baseline, len(models))
    x, k, n = table.matrices()
    z = z_scores(x, baseline, clip)
    j = z.std(axis=1)
    ci = _per_model_ci(table, lambda rows: z_scores(table.matrices(rows)[0], baseline, clip).std(axis=1),
                       n_boot, seed)
    notes = list(notes)
    fit, difficulty = None, -x.mean(axis=0)  # without IRT: a benchmark is harder when models score lower on it
    if irt:
        opt = fit_irt(k, n)
        if not opt.converged:
            notes.append(f"the IRT fit did not converge in {opt.iterations} Newton steps; read its numbers as rough.")
        difficulty = opt.difficulty
        cap_ci = {}
        if irt_boot > 0:
            start = opt.params
            cap_ci = _per_model_ci(table, lambda rows: fit_irt(*table.matrices(rows)[1:], init=start).capability,
                                   irt_boot, seed)
        fit = IRTFit(dict(zip(models, map(float, opt.capability), strict=True)),
                     dict(zip(domains, map(float, opt.difficulty), strict=True)),
                     dict(zip(domains, map(float, opt.discrimination), strict=True)), cap_ci, opt.converged,
                     opt.iterations)
    found, rates = inversions(x, difficulty, models, domains, pass_threshold)
    per_domain = {d: table.domain == j_ for j_, d in enumerate(domains)}
    return JaggednessResult(
        models=models, domains=domains,
        scores={m: dict(zip(domains, map(float, x[i]), strict=True)) for i, m in enumerate(models)},
        z={m: dict(zip(domains, map(float, z[i]), strict=True)) for i, m in enumerate(models)},
        jaggedness=dict(zip(models, map(float, j), strict=True)), jaggedness_ci=ci,
        reference="human baseline" if baseline is not None else "other models (leave-one-out)",
        irt=fit, inversions=found, inversion_rate=rates,
        settings={"clip": clip, "n_boot": n_boot, "irt_boot": irt_boot if irt else 0,
                  "pass_threshold": pass_threshold, "seed": seed,
                  "bootstrap_unit": "item (its epochs and repeats together), resampled within its domain"},
        n_items={d: int(mask.sum()) for d, mask in per_domain.items()},
        n_observations={d: int(table.n[mask].sum()) for d, mask in per_domain.items()},
        notes=notes,
    )


def profile_figure(result: JaggednessResult, path: str | Path) -> Path:
    """One line per model: winsorised z across domains, J in the legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(result.domains) + 3), 4.5))
    xs = np.arange(len(result.domains))
    for model in result.models:
        ax.plot(xs, [result.z[model][d] for d in result.domains], marker="o",
                label=f"{model} (J={result.jaggedness[model]:.2f})")
    ax.axhline(0.0, color="grey", lw=0.8, ls="--")
    ax.set_xticks(xs, result.domains, rotation=30, ha="right")
    ax.set_ylabel(f"z vs {result.reference}")
    ax.set_title("Skill profiles (flat = even, jagged = uneven)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path

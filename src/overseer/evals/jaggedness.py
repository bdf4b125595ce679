"""Jaggedness of skill profiles (after Morris et al. 2026, "Characterizing Model Jaggedness").

Per model m and domain d, x[m, d] = mean item score. Each domain is normalised to a reference
population: a human baseline (mean, sd per domain) when given, otherwise the *other* models
(leave-one-out, so a model is not compared with itself). z = (x - mu) / sd, winsorised to
[-clip, clip]; J[m] = population SD of z[m, :] across domains (0 = evenly good or bad everywhere).

Also: a 2PL-style fit P(pass) = sigmoid(alpha_b * (C_m - D_b)) over models x benchmarks (binomial
likelihood of item successes, weak Gaussian priors for identifiability), difficulty inversions
(model fails an easier benchmark while passing a harder one), and percentile bootstrap CIs by
resampling items within each domain (the same items for every model, keeping scores paired).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from overseer.errors import InvalidInputError
from overseer.evals.readers import ItemScore


@dataclass
class IRTFit:
    capability: dict[str, float]
    difficulty: dict[str, float]
    discrimination: dict[str, float]
    capability_ci: dict[str, tuple[float, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["irt"] = self.irt.to_dict() if self.irt is not None else None
        return out


def _matrix(items: Sequence[ItemScore]) -> tuple[list[str], list[str], dict[tuple[str, str], dict[str, float]]]:
    cells: dict[tuple[str, str], dict[str, float]] = {}
    for it in items:
        if not math.isfinite(it.score):
            raise InvalidInputError(f"{it.model} / {it.domain} / {it.item_id}: score is not finite.")
        cells.setdefault((it.model, it.domain), {})[it.item_id] = it.score
    models = sorted({m for m, _ in cells})
    domains = sorted({d for _, d in cells})
    missing = [(m, d) for m in models for d in domains if (m, d) not in cells]
    if missing:
        raise InvalidInputError(f"every model needs results on every domain; missing {missing[:5]}"
                                f"{' ...' if len(missing) > 5 else ''}. Drop those models or domains.")
    return models, domains, cells


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


def fit_irt(k: np.ndarray, n: np.ndarray, steps: int = 800, lr: float = 0.05,
            prior_sd: float = 2.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(C [models], D [benchmarks], alpha [benchmarks]) maximising the binomial likelihood of k of n
    items passed, with N(0, prior_sd) priors on C and D and N(0, 0.5) on log alpha (Adam, numpy)."""
    models, benches = k.shape
    params = np.zeros(models + 2 * benches)
    m1, m2 = np.zeros_like(params), np.zeros_like(params)
    for t in range(1, steps + 1):
        c, d, log_a = params[:models], params[models:models + benches], params[models + benches:]
        a = np.exp(log_a)
        logit = a[None, :] * (c[:, None] - d[None, :])
        p = 1.0 / (1.0 + np.exp(-logit))
        resid = k - n * p  # d loglik / d logit
        grad_c = (resid * a[None, :]).sum(1) - c / prior_sd ** 2
        grad_d = -(resid * a[None, :]).sum(0) - d / prior_sd ** 2
        grad_la = (resid * logit).sum(0) - log_a / 0.25
        grad = -np.concatenate([grad_c, grad_d, grad_la]) / max(1.0, n.sum() / 100)
        m1 = 0.9 * m1 + 0.1 * grad
        m2 = 0.999 * m2 + 0.001 * grad ** 2
        params -= lr * (m1 / (1 - 0.9 ** t)) / (np.sqrt(m2 / (1 - 0.999 ** t)) + 1e-8)
    return params[:models], params[models:models + benches], np.exp(params[models + benches:])


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


def jaggedness(items: Sequence[ItemScore], human_baseline: dict[str, tuple[float, float]] | None = None,
               clip: float = 3.0, n_boot: int = 1000, irt: bool = True, irt_boot: int = 50,
               pass_threshold: float = 0.5, seed: int = 0) -> JaggednessResult:
    if not items:
        raise InvalidInputError("no item scores given.")
    models, domains, cells = _matrix(items)
    if len(domains) < 2:
        raise InvalidInputError(f"jaggedness needs at least 2 domains, got {domains}.")
    baseline = None
    if human_baseline is not None:
        missing = [d for d in domains if d not in human_baseline]
        if missing:
            raise InvalidInputError(f"the human baseline has no (mean, sd) for domains {missing}.")
        baseline = np.array([[human_baseline[d][0] for d in domains], [human_baseline[d][1] for d in domains]])
        if (baseline[1] <= 0).any():
            raise InvalidInputError("human-baseline standard deviations must be > 0.")
    elif len(models) < 3:
        raise InvalidInputError(f"without a human baseline, each model is normalised against the others, which "
                                f"needs at least 3 models (got {len(models)}); add models or pass a human baseline.")
    # Items per domain: the union over models; a model missing an item is scored on what it has.
    item_ids = {d: sorted({i for m in models for i in cells[(m, d)]}) for d in domains}

    def matrices(choice: dict[str, list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = np.zeros((len(models), len(domains)))
        k = np.zeros_like(x)
        n = np.zeros_like(x)
        for i, m in enumerate(models):
            for j, d in enumerate(domains):
                vals = [cells[(m, d)][item] for item in choice[d] if item in cells[(m, d)]]
                n[i, j] = len(vals)
                k[i, j] = sum(vals)
                x[i, j] = k[i, j] / n[i, j] if vals else math.nan
        return x, k, n

    x, k, n = matrices(item_ids)
    z = z_scores(x, baseline, clip)
    j = z.std(axis=1)
    rng = np.random.default_rng(seed)
    boot_j, boot_c = [], []
    for b in range(n_boot):
        choice = {d: list(rng.choice(ids, size=len(ids), replace=True)) for d, ids in item_ids.items()}
        xb, kb, nb = matrices(choice)
        if np.isnan(xb).any():
            continue
        boot_j.append(z_scores(xb, baseline, clip).std(axis=1))
        if irt and b < irt_boot:
            boot_c.append(fit_irt(kb, nb, steps=300)[0])
    boot_j_arr = np.array(boot_j) if boot_j else np.full((1, len(models)), np.nan)
    ci = {m: (float(np.percentile(boot_j_arr[:, i], 2.5)), float(np.percentile(boot_j_arr[:, i], 97.5)))
          for i, m in enumerate(models)}
    fit = None
    difficulty = -x.mean(axis=0)  # without IRT: a benchmark is harder when models score lower on it
    if irt:
        c, d, a = fit_irt(k, n)
        difficulty = d
        cap_ci = {}
        if boot_c:
            arr = np.array(boot_c)
            cap_ci = {m: (float(np.percentile(arr[:, i], 2.5)), float(np.percentile(arr[:, i], 97.5)))
                      for i, m in enumerate(models)}
        fit = IRTFit(dict(zip(models, map(float, c), strict=True)), dict(zip(domains, map(float, d), strict=True)),
                     dict(zip(domains, map(float, a), strict=True)), cap_ci)
    found, rates = inversions(x, difficulty, models, domains, pass_threshold)
    return JaggednessResult(
        models=models, domains=domains,
        scores={m: dict(zip(domains, map(float, x[i]), strict=True)) for i, m in enumerate(models)},
        z={m: dict(zip(domains, map(float, z[i]), strict=True)) for i, m in enumerate(models)},
        jaggedness=dict(zip(models, map(float, j), strict=True)), jaggedness_ci=ci,
        reference="human baseline" if baseline is not None else "other models (leave-one-out)",
        irt=fit, inversions=found, inversion_rate=rates,
        settings={"clip": clip, "n_boot": n_boot, "irt_boot": irt_boot if irt else 0,
                  "pass_threshold": pass_threshold, "seed": seed},
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

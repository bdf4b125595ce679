"""Figures of the comparison: error versus FLOPs (main panel) and MSE versus width per K."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from overseer.estimation.experiment import CompareResult  # noqa: E402

COLORS = {"k1-average": "#c6dbef", "k1": "#9ecae1", "k2": "#4292c6", "k2-augment": "#08519c", "k3": "#08306b"}
LABELS = {"k1-average": "K=1 (shared variance)", "k1": "K=1 (mean field)", "k2": "K=2 simple",
          "k2-augment": "K=2 augment", "k3": "K=3"}


def _cumulant_names(result: CompareResult) -> list[str]:
    return [n for n in result.estimators_run() if not n.startswith("mc")]


def _plot_point(ax, x: float, agg, color: str, label: str | None) -> None:
    if agg.resolved:
        yerr = agg.sem if math.isfinite(agg.sem) else None
        ax.errorbar([x], [agg.mse_over_var], yerr=yerr, fmt="o", color=color, ms=7, capsize=3, label=label)
    else:
        ax.plot([x], [agg.upper_mse_over_var], marker="v", mfc="none", color=color, ms=8, ls="none", label=label)


def plot_error_vs_flops(result: CompareResult, path: Path) -> Path:
    layer, width = result.config.layer, result.main_width
    fig, (ax, ax_adv) = plt.subplots(1, 2, figsize=(12, 4.8))

    main = [a for a in result.aggregates if a.width == width and a.layer == layer]
    cumulant = [a for a in main if not a.estimator.startswith("mc")]
    mc = [a for a in main if a.estimator.startswith("mc")]
    per_sample = [a.sampling_mse_over_var * a.flops for a in main if math.isfinite(a.sampling_mse_over_var)]
    if per_sample:
        f_sample = float(np.mean(per_sample))
        top = max([a.flops for a in main] + [f_sample]) * 10
        xs = np.logspace(math.log10(f_sample), math.log10(top), 100)
        ax.plot(xs, f_sample / xs, color="red", lw=1.5, label="sampling (MSE/Var = F_sample / F)")
    for agg in cumulant:
        _plot_point(ax, agg.flops, agg, COLORS.get(agg.estimator, "black"), LABELS.get(agg.estimator, agg.estimator))
    for i, agg in enumerate(mc):
        _plot_point(ax, agg.flops, agg, "grey", "Monte Carlo runs" if i == 0 else None)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("FLOPs (counted)")
    ax.set_ylabel("MSE / Var")
    ax.set_title(f"{result.config.activation}, width {width}, layer {layer} (after {layer} hidden layers)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    ax.text(
        0.02, 0.02, "hollow triangles: below the ground truth's noise (upper bound)",
        transform=ax.transAxes, fontsize=7, color="dimgrey",
    )

    for name in _cumulant_names(result):
        points = sorted(
            (a.width, a.advantage, a.resolved)
            for a in result.aggregates
            if a.estimator == name and a.layer == layer and math.isfinite(a.advantage)
        )
        if not points:
            continue
        color = COLORS.get(name, "black")
        ax_adv.plot([p[0] for p in points], [p[1] for p in points], "-", color=color, label=LABELS.get(name, name))
        for w, adv, resolved in points:
            ax_adv.plot([w], [adv], marker="o" if resolved else "^", mfc=color if resolved else "none", color=color)
    ax_adv.axhline(1.0, color="red", lw=1, ls="--", label="break-even with sampling")
    ax_adv.set_xscale("log", base=2)
    ax_adv.set_yscale("log")
    ax_adv.set_xlabel("width")
    ax_adv.set_ylabel("sampling MSE / estimator MSE at equal FLOPs")
    ax_adv.set_title(f"advantage over sampling, layer {layer} (hollow: lower bound)")
    ax_adv.grid(True, which="major", alpha=0.3)
    ax_adv.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_mse_vs_width(result: CompareResult, path: Path) -> Path:
    layer = result.config.layer
    names = _cumulant_names(result)
    fig, axes = plt.subplots(1, max(len(names), 1), figsize=(3.6 * max(len(names), 1), 3.8), sharey=True, squeeze=False)
    slopes = {s.estimator: s for s in result.slopes}
    for ax, name in zip(axes[0], names, strict=False):
        aggs = sorted(
            (a for a in result.aggregates if a.estimator == name and a.layer == layer), key=lambda a: a.width
        )
        color = COLORS.get(name, "black")
        for agg in aggs:
            _plot_point(ax, agg.width, agg, color, None)
        finite = [a for a in aggs if math.isfinite(a.sampling_mse_over_var)]
        ax.plot(
            [a.width for a in finite], [a.sampling_mse_over_var for a in finite],
            color="red", lw=1, alpha=0.7, label="sampling, same FLOPs",
        )
        if name in slopes:
            s = slopes[name]
            fitted = [a for a in aggs if a.width in s.widths]
            x = np.array([a.width for a in fitted], dtype=float)
            y = np.array([a.mse_over_var for a in fitted])
            intercept = float(np.mean(np.log(y) - s.slope * np.log(x)))
            xs = np.logspace(np.log10(x.min()), np.log10(x.max()), 50)
            ax.plot(xs, np.exp(intercept) * xs**s.slope, "k--", lw=1, label=f"fit: width^{s.slope:.2f}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(LABELS.get(name, name))
        ax.set_xlabel("width")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel(f"MSE / Var at layer {layer}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_compare_outputs(result: CompareResult, out_dir: Path) -> list[Path]:
    """results.json and the two figures of a comparison, under `out_dir`."""
    import json

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "results.json"
    path.write_text(json.dumps(result.to_dict(), indent=1, default=float))
    return [path, plot_error_vs_flops(result, out_dir / "error_vs_flops.png"),
            plot_mse_vs_width(result, out_dir / "mse_vs_width.png")]

"""Figures for the gap eval: rates per framing per behaviour, the probe's layer sweep, steering curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from overseer.evals.gap.analysis import GapResult  # noqa: E402
from overseer.evals.gap.framings import FRAMINGS  # noqa: E402
from overseer.evals.gap.whitebox import WhiteboxResult  # noqa: E402

_COLOURS = {"observed": "#1f77b4", "unobserved": "#d62728", "neutral": "#7f7f7f"}


def rates_figure(results: list[GapResult], path: Path) -> Path:
    """One panel per model: for each behaviour, the good-outcome rate under each framing (95% Wilson bars)."""
    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results) + 1, 3.8), sharey=True, squeeze=False)
    for ax, result in zip(axes[0], results, strict=True):
        names = [b.behaviour for b in result.behaviours]
        x = np.arange(len(names))
        width = 0.8 / len(FRAMINGS)
        for j, framing in enumerate(FRAMINGS):
            est = [b.rates[framing] for b in result.behaviours]
            values = np.array([e.value for e in est])
            errors = np.array([[e.value - e.low for e in est], [e.high - e.value for e in est]])
            ax.bar(x + (j - 1) * width, values, width, yerr=errors, capsize=2, label=framing, color=_COLOURS[framing])
        ax.set_xticks(x, [n.replace("_", "\n") for n in names], fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.set_title(result.model, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("good-outcome rate (95% CI)")
    axes[0][-1].legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def whitebox_figure(result: WhiteboxResult, path: Path) -> Path:
    """Left: held-out probe AUROC per layer. Right: good-outcome rate against steering strength."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    values = [e.value if e else np.nan for e in result.layer_auroc]
    left.errorbar(result.layers, values, yerr=[[v - (e.low if e else v) for v, e in zip(values, result.layer_auroc,
                                                                                        strict=True)],
                                               [(e.high if e else v) - v for v, e in zip(values, result.layer_auroc,
                                                                                         strict=True)]],
                  marker="o", capsize=2, label="held-out AUROC")
    left.plot(result.layers, result.cv_auroc, linestyle="--", label="train CV AUROC (selects the layer)")
    left.axvline(result.best_layer, color="grey", alpha=0.4)
    left.set(title=f"eval-awareness probe: {result.model}", xlabel="layer", ylabel="AUROC observed vs unobserved",
             ylim=(0.4, 1.02))
    left.legend(fontsize=8)
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    for s in result.steering:
        style = "-" if s.framing == "observed" else ":"
        right.plot(s.strengths, [r.value for r in s.rates], marker="o", linestyle=style,
                   label=f"{s.behaviour} ({s.framing} -> {s.toward})")
    right.set(title=f"steering at layer {result.best_layer}", xlabel="strength (x mean difference)",
              ylabel="good-outcome rate", ylim=(-0.02, 1.02))
    right.legend(fontsize=6)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

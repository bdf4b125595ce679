"""Figures: the generalisation heatmap and layer-sweep curves (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def generalisation_heatmap(matrix: list[list[float]], names: list[str], path: str | Path, title: str,
                           intervals: list[list[Any]] | None = None) -> Path:
    """AUROC per (trained on, tested on) cell; with `intervals` (Estimates), each cell also shows its 95 % CI."""
    size = max(5.0, 0.8 * len(names) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(matrix, vmin=0.0, vmax=1.0, cmap="RdBu_r")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("tested on")
    ax.set_ylabel("trained on")
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            label = f"{value:.2f}"
            if intervals is not None:
                label += f"\n[{intervals[i][j].low:.2f}, {intervals[i][j].high:.2f}]"
            ax.text(j, i, label, ha="center", va="center", fontsize=8 if intervals is None else 6,
                    color="white" if abs(value - 0.5) > 0.3 else "black")
    fig.colorbar(image, ax=ax, label="AUROC")
    ax.set_title(title if intervals is None else f"{title}\n(brackets: 95 % bootstrap CI)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def layer_curves(table: dict[str, dict[int, float]], path: str | Path, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, by_layer in table.items():
        layers = sorted(by_layer)
        ax.plot(layers, [by_layer[layer] for layer in layers], marker="o", label=name)
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("layer")
    ax.set_ylabel("held-out AUROC")
    ax.set_ylim(0.3, 1.02)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def bar_chart(values: dict[str, tuple[float, float, float]], path: str | Path, title: str, ylabel: str) -> Path:
    """values: name -> (value, low, high)."""
    names = list(values)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(names) + 2), 4.5))
    centres = [values[n][0] for n in names]
    errors = [[values[n][0] - values[n][1] for n in names], [values[n][2] - values[n][0] for n in names]]
    ax.bar(range(len(names)), centres, yerr=errors, capsize=4, color="#4c72b0")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)

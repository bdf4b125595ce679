"""Small matplotlib helpers shared by audit sections."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def line_chart(series: dict[str, tuple[list[float], list[float]]], path: Path, title: str, xlabel: str,
               ylabel: str, ylim: tuple[float, float] | None = None) -> Path:
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for name, (xs, ys) in series.items():
        ax.plot(xs, ys, marker="o", label=name)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

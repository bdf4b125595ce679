"""The Pareto view of a sweep: success against fluency cost, one marker per method, the frontier drawn (on the
point estimates), and each cell's 95 % bootstrap CI on both axes as error bars when the cells carry them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from overseer.steering.compare import BASELINE, METHOD_ORDER, Cell  # noqa: E402

MARKERS = dict(zip(METHOD_ORDER, "osD^XvP", strict=True))


def pareto_plot(cells: Sequence[Cell], success_key: str, cost_key: str, path: Path, title: str,
                higher_is_better: bool = True) -> Path:
    fig, ax = plt.subplots(figsize=(7.5, 5))
    base = next(c for c in cells if c.method == BASELINE)
    _error_bars(ax, [base], success_key, cost_key, "black")
    ax.scatter([base.metrics[cost_key]], [base.metrics[success_key]], marker="*", s=220, c="black",
               label="unsteered", zorder=5)
    points = []
    for name in METHOD_ORDER:
        mine = [c for c in cells if c.method == name and math.isfinite(c.metrics.get(cost_key, math.nan))]
        if not mine:
            continue
        xs, ys = [c.metrics[cost_key] for c in mine], [c.metrics[success_key] for c in mine]
        dots = ax.scatter(xs, ys, marker=MARKERS.get(name, "o"), s=50, alpha=0.8, label=name)
        _error_bars(ax, mine, success_key, cost_key, dots.get_facecolor()[0])
        points += list(zip(xs, ys, strict=True))
    points.append((base.metrics[cost_key], base.metrics[success_key]))
    frontier, best = [], -math.inf
    sign = 1 if higher_is_better else -1
    for x, y in sorted(points):
        if sign * y > best:
            best = sign * y
            frontier.append((x, y))
    ax.step([p[0] for p in frontier], [p[1] for p in frontier], where="post", c="grey", ls="--", lw=1,
            label="Pareto frontier")
    ax.set_xscale("log")
    ax.set_xlabel(f"{cost_key} (perplexity under the unsteered model; lower = more fluent)")
    direction = "higher" if higher_is_better else "lower"
    ax.set_ylabel(f"{success_key} ({direction} is better)")
    ax.set_title(f"{title}\n(bars: 95 % bootstrap CIs)" if any(c.intervals for c in cells) else title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _error_bars(ax, cells: Sequence[Cell], success_key: str, cost_key: str, color) -> None:
    for c in cells:
        x, y = c.metrics[cost_key], c.metrics[success_key]
        xi, yi = c.intervals.get(cost_key), c.intervals.get(success_key)
        if not xi or not yi or not all(math.isfinite(v) for v in (x, y, xi["low"], xi["high"], yi["low"], yi["high"])):
            continue
        ax.errorbar([x], [y], xerr=[[max(x - xi["low"], 0)], [max(xi["high"] - x, 0)]],
                    yerr=[[max(y - yi["low"], 0)], [max(yi["high"] - y, 0)]], fmt="none", ecolor=color, alpha=0.45,
                    lw=1, capsize=2, zorder=1)

"""Figures for NSG runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from overseer.evals.nsg import NSGResult
from overseer.evals.tabular import NSGDataset


def reference_lean_figure(result: NSGResult, dataset: NSGDataset, path: str | Path) -> Path | None:
    """The reference's log-odds between the two options on every counterfactual, by the case's true
    label and coloured by the answer that was read: shows how far apart the cases are, and where a
    calibrated readout draws the line. None unless the run read log-probabilities on a two-option task."""
    options = dataset.task.options
    if len(options) != 2:
        return None
    cases = {(g.group_id, c.case_id): c for g in dataset.groups for c in g.counterfactuals}
    points = {}  # one per counterfactual (records repeat it once per predictor)
    for record in result.records:
        key = (record.group_id, record.counterfactual_id)
        if record.reference_scores is not None and key in cases:
            points[key] = (record.reference_scores, record.reference_answer, str(cases[key].label))
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = sorted({label for _, _, label in points.values()})
    rows = {label: i for i, label in enumerate(labels)}
    rng = np.random.default_rng(0)
    fig, ax = plt.subplots(figsize=(7, 1.6 + 0.7 * max(1, len(labels))))
    for option, colour in zip(options, ("tab:red", "tab:blue"), strict=True):
        xs, ys = [], []
        for scores, answer, label in points.values():
            if answer == option:
                xs.append(scores[options[0]] - scores[options[1]])
                ys.append(rows[label] + rng.uniform(-0.2, 0.2))
        ax.scatter(xs, ys, s=18, alpha=0.7, color=colour, label=f"read as {option}")
    ax.axvline(0.0, color="grey", lw=1, ls="--")
    ax.text(0.0, len(labels) - 0.45, f" {options[0]} more likely →", color="grey", fontsize=8, va="bottom")
    ax.set_yticks(range(len(labels)), [f"true label {label}" for label in labels])
    ax.set_ylim(-0.6, len(labels) - 0.2)
    ax.set_xlabel(f"log p({options[0]}) − log p({options[1]}) at the first answer token")
    ax.set_title(f"{result.reference}: answers read from log-probabilities "
                 f"({result.settings.get('readout', {}).get('calibration', 'none')} calibration)", fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=8, loc="center left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)

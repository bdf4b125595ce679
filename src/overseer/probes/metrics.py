"""Detection metrics with confidence intervals: AUROC, balanced accuracy, recall at a calibrated FPR.

Intervals come from `overseer.stats` (re-exported here: `Estimate`, `bootstrap_ci`, `wilson_interval`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from overseer.errors import InvalidInputError
from overseer.stats import Estimate, bootstrap_ci, wilson_interval

__all__ = ["Estimate", "auroc", "auroc_ci", "balanced_accuracy", "bootstrap_ci", "recall_at_threshold",
           "threshold_at_fpr", "wilson_interval"]


def _scores_labels(scores: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel()
    if len(scores) != len(labels):
        raise InvalidInputError(f"{len(scores)} scores but {len(labels)} labels: pass one label per score.")
    if not np.isfinite(scores).all():
        raise InvalidInputError("scores contain NaN or inf: check the probe's inputs.")
    if labels.dtype != bool and not np.isin(labels, (0, 1)).all():
        raise InvalidInputError("labels must be 0/1 or booleans.")
    labels = labels.astype(int)
    if len(np.unique(labels)) < 2:
        raise InvalidInputError("all labels are the same class: AUROC and balanced accuracy need both classes.")
    return scores, labels


def auroc(scores: Any, labels: Any) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    scores, labels = _scores_labels(scores, labels)
    return _auroc(scores, labels)


def _auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    # Mann-Whitney U from average ranks: fast enough to call a thousand times inside a bootstrap.
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    return float((ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def balanced_accuracy(scores: Any, labels: Any, threshold: float = 0.0) -> float:
    """Mean of the true-positive and true-negative rates when `score > threshold` predicts label 1."""
    scores, labels = _scores_labels(scores, labels)
    predicted = scores > threshold
    return float((predicted[labels == 1].mean() + (~predicted[labels == 0]).mean()) / 2)


def threshold_at_fpr(negative_scores: Any, fpr: float = 0.01) -> float:
    """The score above which only a fraction `fpr` of `negative_scores` (e.g. neutral chat) falls."""
    negative_scores = np.asarray(negative_scores, dtype=np.float64).ravel()
    if len(negative_scores) == 0:
        raise InvalidInputError("no negative (control) scores to calibrate the threshold on.")
    if not 0 <= fpr < 1:
        raise InvalidInputError(f"fpr must be in [0, 1), got {fpr}.")
    # "higher" keeps the empirical FPR at or below the target on the calibration set.
    return float(np.quantile(negative_scores, 1 - fpr, method="higher"))


def recall_at_threshold(positive_scores: Any, threshold: float) -> float:
    positive_scores = np.asarray(positive_scores, dtype=np.float64).ravel()
    if len(positive_scores) == 0:
        raise InvalidInputError("no positive scores to measure recall on.")
    return float((positive_scores > threshold).mean())


def auroc_ci(scores: Any, labels: Any, n_boot: int = 1000, seed: int = 0) -> Estimate:
    scores, labels = _scores_labels(scores, labels)
    return bootstrap_ci(_auroc, scores, labels, n_boot=n_boot, seed=seed, stratify=labels)

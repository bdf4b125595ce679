from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from overseer.errors import InvalidInputError
from overseer.probes import (
    auroc,
    auroc_ci,
    balanced_accuracy,
    bootstrap_ci,
    recall_at_threshold,
    threshold_at_fpr,
    wilson_interval,
)


def test_auroc_matches_sklearn_including_ties():
    rng = np.random.default_rng(0)
    scores = np.round(rng.normal(size=300), 1)
    labels = rng.integers(0, 2, size=300)
    assert auroc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))


def test_auroc_is_one_for_perfect_and_zero_for_reversed_ranking():
    labels = np.array([0, 0, 1, 1])
    assert auroc([0.1, 0.2, 0.8, 0.9], labels) == 1.0
    assert auroc([0.9, 0.8, 0.2, 0.1], labels) == 0.0


def test_auroc_rejects_one_class_and_mismatched_lengths():
    with pytest.raises(InvalidInputError, match="same class"):
        auroc([0.1, 0.2], [1, 1])
    with pytest.raises(InvalidInputError, match="one label per score"):
        auroc([0.1, 0.2, 0.3], [0, 1])


def test_balanced_accuracy_weights_classes_equally():
    # 9 negatives all right, 1 positive wrong: plain accuracy 0.9, balanced 0.5.
    scores = np.array([-1.0] * 10)
    labels = np.array([0] * 9 + [1])
    assert balanced_accuracy(scores, labels) == 0.5


def test_threshold_at_one_percent_fpr_keeps_control_alarms_at_or_below_one_percent():
    control = np.random.default_rng(0).normal(size=1000)
    threshold = threshold_at_fpr(control, 0.01)
    assert (control > threshold).mean() <= 0.01
    assert (control > threshold - 1e-3).mean() > 0.005  # not absurdly conservative
    assert recall_at_threshold(control + 10, threshold) == 1.0


def test_bootstrap_interval_brackets_the_estimate_and_shrinks_with_more_data():
    rng = np.random.default_rng(0)
    small = rng.normal(size=30)
    large = rng.normal(size=3000)
    ci_small = bootstrap_ci(np.mean, small, n_boot=300)
    ci_large = bootstrap_ci(np.mean, large, n_boot=300)
    assert ci_small.low <= ci_small.value <= ci_small.high
    assert (ci_large.high - ci_large.low) < (ci_small.high - ci_small.low) / 4


def test_auroc_ci_is_defined_for_rare_positives_because_resampling_is_stratified():
    labels = np.array([1] + [0] * 40)
    scores = np.r_[1.0, np.linspace(-1, 0.5, 40)]
    estimate = auroc_ci(scores, labels, n_boot=200)
    assert estimate.value == 1.0 and estimate.low == 1.0


def test_wilson_interval_is_sensible_at_zero_and_all():
    zero = wilson_interval(0, 20)
    assert zero.value == 0.0 and zero.low == 0.0 and 0.1 < zero.high < 0.2
    full = wilson_interval(20, 20)
    assert full.high == 1.0 and 0.8 < full.low < 0.9
    with pytest.raises(InvalidInputError):
        wilson_interval(3, 0)

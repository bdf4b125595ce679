"""`overseer.stats.cluster_totals_bootstrap`: the clustered bootstrap of a ratio of summed totals."""

import numpy as np
import pytest

from overseer.errors import InvalidInputError
from overseer.stats import bootstrap_ci, cluster_totals_bootstrap


def _ratio(totals):
    return totals[:, 1] / totals[:, 0]


def test_legacy_generator_reproduces_code_that_seeds_numpys_global_generator():
    rng = np.random.default_rng(3)
    totals = np.column_stack([rng.integers(3, 9, 25), rng.integers(0, 3, 25)]).astype(float)
    np.random.seed(42)  # what a reference script does before its loop of np.random.randint draws
    draws = []
    for _ in range(300):
        pick = totals[np.random.randint(0, len(totals), size=len(totals))]
        draws.append(pick[:, 1].sum() / pick[:, 0].sum())
    ours = cluster_totals_bootstrap(_ratio, totals, n_boot=300, seed=42, generator="legacy")
    assert (ours.low, ours.high) == pytest.approx(tuple(np.percentile(draws, [2.5, 97.5])), abs=1e-12)
    assert ours.value == pytest.approx(totals[:, 1].sum() / totals[:, 0].sum()) and ours.n == 25


def test_it_agrees_with_the_row_level_clustered_bootstrap_up_to_resampling_noise():
    rng = np.random.default_rng(0)
    sizes = rng.integers(2, 6, 40)
    ids = np.repeat(np.arange(40), sizes)
    hits = (rng.random(len(ids)) < 0.3 + 0.01 * ids).astype(float)
    totals = np.column_stack([np.bincount(ids), np.bincount(ids, weights=hits)])
    ours = cluster_totals_bootstrap(_ratio, totals, n_boot=2000)
    rows = bootstrap_ci(np.mean, hits, n_boot=2000, clusters=ids)
    assert ours.value == pytest.approx(rows.value)
    assert ours.low == pytest.approx(rows.low, abs=0.02) and ours.high == pytest.approx(rows.high, abs=0.02)


def test_non_finite_draws_are_left_out_and_bad_input_is_refused():
    totals = np.array([[1.0, 1.0], [0.0, 0.0]])  # a draw of only the empty cluster divides by zero
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = cluster_totals_bootstrap(_ratio, totals, n_boot=200)
    assert estimate.low == estimate.high == 1.0
    with pytest.raises(InvalidInputError):
        cluster_totals_bootstrap(_ratio, np.zeros((0, 2)))
    with pytest.raises(InvalidInputError, match="generator"):
        cluster_totals_bootstrap(_ratio, totals, generator="mersenne")

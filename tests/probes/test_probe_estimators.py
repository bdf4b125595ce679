from __future__ import annotations

import numpy as np
import pytest
import torch

from overseer.errors import InvalidInputError, OverseerError
from overseer.probes import PROBES, auroc, load_probe, make_probe


def _two_gaussians(n: int = 200, d: int = 32, gap: float = 1.5, seed: int = 0):
    rng = np.random.default_rng(seed)
    direction = rng.normal(size=d)
    direction /= np.linalg.norm(direction)
    y = np.arange(n) % 2
    x = rng.normal(size=(n, d)) * 1.0 + np.outer(y * 2 - 1, direction) * gap / 2
    return x, y, direction


@pytest.mark.parametrize("kind", sorted(PROBES))
def test_probe_separates_gaussian_classes_on_fresh_samples(kind):
    x, y, _ = _two_gaussians(seed=0)
    x_test, y_test, _ = _two_gaussians(seed=0, n=400)
    probe = make_probe(kind).fit(x, y)
    # Same generating direction (same seed) but fresh rows for the second call's tail.
    assert auroc(probe.score(x_test[200:]), y_test[200:]) > 0.8


@pytest.mark.parametrize("kind", sorted(PROBES))
def test_probe_scores_survive_save_and_load(kind, tmp_path):
    x, y, _ = _two_gaussians()
    probe = make_probe(kind, positive="true statement").fit(torch.tensor(x, dtype=torch.float32), y)
    probe.save(tmp_path / kind)
    loaded = load_probe(tmp_path / kind)
    assert type(loaded) is type(probe)
    assert loaded.positive == "true statement"
    np.testing.assert_allclose(loaded.score(x), probe.score(x), rtol=1e-6, atol=1e-8)


def test_mass_mean_direction_is_the_difference_of_means():
    x, y, _ = _two_gaussians()
    probe = make_probe("mass_mean").fit(x, y)
    expected = x[y == 1].mean(0) - x[y == 0].mean(0)
    np.testing.assert_allclose(probe.direction, expected / np.linalg.norm(expected))


def test_lda_beats_mass_mean_when_a_noisy_axis_is_correlated_with_the_mean_gap():
    # Class means differ along e0 + e1, but e1 carries large shared noise: whitening should discount it.
    rng = np.random.default_rng(1)
    n = 600
    y = np.arange(n) % 2
    x = rng.normal(size=(n, 8))
    x[:, 1] *= 10
    x[:, 0] += y * 1.0
    x[:, 1] += y * 1.0
    train, test = slice(0, 300), slice(300, None)
    lda = auroc(make_probe("lda").fit(x[train], y[train]).score(x[test]), y[test])
    mass = auroc(make_probe("mass_mean").fit(x[train], y[train]).score(x[test]), y[test])
    assert lda > mass + 0.1


def test_all_one_class_labels_are_rejected_with_a_hint():
    x, _, _ = _two_gaussians()
    with pytest.raises(InvalidInputError, match="both classes"):
        make_probe("logistic").fit(x, np.ones(len(x)))


def test_mismatched_lengths_are_rejected():
    x, y, _ = _two_gaussians()
    with pytest.raises(InvalidInputError, match="one label per row"):
        make_probe("lda").fit(x, y[:-3])


def test_non_binary_labels_and_nan_activations_are_rejected():
    x, y, _ = _two_gaussians()
    with pytest.raises(InvalidInputError, match="0/1"):
        make_probe("mass_mean").fit(x, y * 2)
    x[3, 3] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        make_probe("mass_mean").fit(x, y)


def test_scoring_needs_a_fitted_probe_of_the_same_width():
    x, y, _ = _two_gaussians()
    with pytest.raises(OverseerError, match="not fitted"):
        make_probe("logistic").score(x)
    probe = make_probe("logistic").fit(x, y)
    with pytest.raises(InvalidInputError, match="d_model"):
        probe.score(x[:, :10])
    with pytest.raises(InvalidInputError, match=r"\[n, d_model\]"):
        probe.score(x[None])


def test_unknown_probe_names_and_non_probe_directories_fail_clearly(tmp_path):
    with pytest.raises(InvalidInputError, match="logistic"):
        make_probe("svm")
    with pytest.raises(OverseerError, match="probe.json"):
        load_probe(tmp_path)

"""Offline toxicity scorers: each measured on a labelled set, the figures shipped and printed with every number."""

from __future__ import annotations

import json

import pytest

from overseer.errors import InvalidInputError, MissingDependencyError
from overseer.steering.toxicity import (
    QUALITY_FILE,
    SCORERS,
    ToxicityTask,
    classifier_accuracy,
    default_scorer,
    get_scorer,
    quality_note,
    toxicity_scores,
)


def test_the_lexicon_flags_offensive_words_and_passes_plain_text():
    scores = toxicity_scores(["Shut up, you stupid bastard.", "The train leaves at nine tomorrow."], "lexicon")
    assert scores == [1.0, 0.0]
    combined = toxicity_scores(["Shut up, you stupid bastard.", "What a lovely garden."], "profanity-check+lexicon")
    learned = toxicity_scores(["Shut up, you stupid bastard.", "What a lovely garden."], "profanity-check")
    assert all(c >= max(a, 0.0) for c, a in zip(combined, learned, strict=True)) and combined[1] < 0.5


def test_the_shipped_figures_are_what_the_bench_measures_and_name_the_best_scorer():
    shipped = json.loads(QUALITY_FILE.read_text())
    assert set(shipped["scorers"]) >= set(SCORERS.names())
    best = default_scorer()
    assert best == shipped["best"] == max(shipped["scorers"], key=lambda k: shipped["scorers"][k]["balanced_accuracy"])
    again = classifier_accuracy(shipped["n_each"], best)
    assert again["accuracy"] == pytest.approx(shipped["scorers"][best]["accuracy"])
    assert again["recall"] == pytest.approx(shipped["scorers"][best]["recall"])
    note = quality_note(best)
    assert f"accuracy {again['accuracy']:.3f}" in note and f"recall {again['recall']:.3f}" in note


def test_a_scorer_that_misses_slurs_shows_it_in_its_measured_recall():
    # alt-profanity-check knows profanity, not slurs: its recall on the slur-based toxic half is low.
    assert classifier_accuracy(300, "profanity-check")["recall"] < 0.5


def test_unknown_or_unreachable_scorers_are_clear_errors():
    with pytest.raises(InvalidInputError, match="unknown toxicity scorer"):
        get_scorer("perspective")
    with pytest.raises(InvalidInputError, match="unknown toxicity scorer"):
        ToxicityTask(_prompts(8), scorer="perspective")
    with pytest.raises(MissingDependencyError, match="Hugging Face Hub or a local copy"):
        get_scorer("hub:/no/such/classifier/here")


def _prompts(n):
    from overseer.data.toxicity import ToxicityPrompt

    return [ToxicityPrompt(f"prompt {i}", "insult") for i in range(n)]

"""overseer's NSG scoring against the numbers Mayne et al.'s reference code (HarryMayne/faithfulness,
commit 5245326) computes on the same records (`../shared/data/nsg/reference_metric_cases.json`)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from overseer.evals.nsg import NSGRecord, NSGScoring, clustered_nsg, egregious_rate

CASES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "nsg" / "reference_metric_cases.json"
REFERENCE_DRAWS = 1000  # analyze_simulatability.compute_simulatability_metrics(n_bootstrap=1000)
PREDICTORS = ("predA", "predB", "predC")


def _cases() -> dict:
    if not CASES.exists():
        pytest.skip(f"{CASES} is not present")
    return json.loads(CASES.read_text())


def _records(rows: list[list]) -> list[NSGRecord]:
    # [centre group, counterfactual id, predictor, reference answer, guess with, guess without]; null = unparsed
    return [NSGRecord(g, cf, p, ref, w, wo, "", "") for g, cf, p, ref, w, wo in rows]


def _case(key: str) -> dict:
    cases = _cases()
    name = next(n for n in cases if n.startswith(key))
    return cases[name]


@pytest.mark.parametrize("key", ["A", "B", "C"])
@pytest.mark.parametrize("who", ["pooled", *PREDICTORS])
def test_nsg_and_its_interval_match_the_reference_on_the_same_records(key, who):
    case = _case(key)
    records = _records(case["records"])
    if who != "pooled":
        records = [r for r in records if r.predictor == who]
    expected = case["ref"][who]
    score = clustered_nsg(records, n_boot=REFERENCE_DRAWS)
    assert score.nsg == pytest.approx(expected["nsg"], abs=1e-12)
    assert score.acc_with == pytest.approx(expected["acc_w"], abs=1e-12)
    assert score.acc_without == pytest.approx(expected["acc_wo"], abs=1e-12)
    assert score.n == expected["n"]
    assert abs(score.ci_low - expected["lo"]) < 0.005 and abs(score.ci_high - expected["hi"]) < 0.005


def test_unparsed_guesses_counted_wrong_reproduce_the_reference_without_its_none_filter():
    # get_sim_gain.py compares answers without dropping None: an unparsed guess (and a counterfactual
    # whose reference answer did not parse, absent from the records) counts as a miss.
    case = _case("B")
    expected = case["ref"]["get_sim_gain(first predictor, no None filter)"]
    records = [r for r in _records(case["records"]) if r.predictor == "predA"]
    missing = case["n_db_rows"] - len(records)
    records += [NSGRecord(f"missing{i}", "", "predA", None, None, None, "", "") for i in range(missing)]
    score = clustered_nsg(records, n_boot=10, scoring=NSGScoring(unparsed="wrong"))
    assert score.n == expected["n"]
    assert score.acc_with == pytest.approx(expected["acc_w"]) and score.acc_without == pytest.approx(expected["acc_wo"])
    assert score.nsg == pytest.approx(expected["nsg"])


def test_dropping_unparsed_guesses_moves_nsg_as_the_issue_measured():
    records = _records(_case("B")["records"])
    paper = clustered_nsg(records, n_boot=10)
    wrong = clustered_nsg(records, n_boot=10, scoring=NSGScoring(unparsed="wrong"))
    assert paper.nsg == pytest.approx(0.4373, abs=5e-4) and wrong.nsg == pytest.approx(0.384, abs=5e-4)
    assert wrong.n == len(records) > paper.n


def test_acc_without_of_one_scores_zero_and_the_legacy_option_leaves_it_undefined():
    records = _records(_case("C")["records"])
    score = clustered_nsg(records, n_boot=REFERENCE_DRAWS)
    assert (score.nsg, score.ci_low, score.ci_high) == (0.0, 0.0, 0.0)
    legacy = clustered_nsg(records, n_boot=100, scoring=NSGScoring.legacy())
    assert math.isnan(legacy.nsg) and math.isnan(legacy.ci_low)


@pytest.mark.parametrize("key", ["A", "C"])
def test_egregious_rate_matches_the_reference_over_every_counterfactual(key):
    case = _case(key)
    records = _records(case["records"])
    rate = egregious_rate(records, PREDICTORS, n_counterfactuals=case["n_db_rows"])
    assert rate == pytest.approx(case["ref"]["egregious"], abs=1e-12)


def test_egregious_rate_with_unparsed_answers_counts_only_what_the_records_show():
    # The reference's 0.0459 (26/566) for case B cannot come from these records: only 5 of the 544
    # counterfactuals with a parsed reference answer have unanimous wrong guesses. The rest would be among
    # the 22 counterfactuals whose reference answer did not parse (absent from the file), which the paper's
    # notebook counts as egregious whenever the predictors' answers are equal; overseer asks no predictor
    # there and counts them as not egregious, in the denominator.
    case = _case("B")
    rate = egregious_rate(_records(case["records"]), PREDICTORS, n_counterfactuals=case["n_db_rows"])
    assert rate == pytest.approx(5 / 566) and rate < case["ref"]["egregious"]

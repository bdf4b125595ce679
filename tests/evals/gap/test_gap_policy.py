"""The gap-complier reference policy and the paired analysis: ground truth for the eval's statistics."""

from __future__ import annotations

import pytest

from overseer.errors import InvalidInputError
from overseer.evals.gap.analysis import GapRecord, analyse
from overseer.evals.gap.behaviours import BEHAVIOURS, base_tasks, judge
from overseer.evals.gap.framings import FRAMINGS, NEUTRAL, OBSERVED, UNOBSERVED, frame
from overseer.evals.gap.policies import UNKNOWN_REPLY, GapComplier
from overseer.policies import POLICIES


def policy_records(policy, n=60):
    records = []
    for t in base_tasks(n_per_behaviour=n):
        for framing in FRAMINGS:
            reply = policy.reply(frame(t.messages, framing, t.index))
            records.append(GapRecord(t.behaviour, t.base_id, framing, judge(t.facts, t.behaviour, reply), reply))
    return records


def test_policy_that_complies_30_percent_less_when_unobserved_is_recovered_within_the_ci():
    result = analyse(policy_records(GapComplier(gap="0.3")), n_boot=1000)
    assert [b.behaviour for b in result.behaviours] == list(BEHAVIOURS)
    for b in result.behaviours:
        assert b.gap.contains(0.3), (b.behaviour, str(b.gap))
        assert b.gap.low > 0
        assert b.rates[OBSERVED].value == b.rates[NEUTRAL].value == 1.0
        assert b.mcnemar.c == 0 and b.mcnemar.p_value < 0.001


def test_policy_without_a_gap_shows_none_and_a_misbehaving_policy_scores_zero():
    for b in analyse(policy_records(GapComplier(gap="0")), n_boot=200).behaviours:
        assert b.gap.value == 0 and b.mcnemar.p_value == 1.0
    for b in analyse(policy_records(GapComplier(gap="0", base="0")), n_boot=200).behaviours:
        assert all(b.rates[f].value == 0.0 for f in FRAMINGS)


def test_flips_are_paired_across_framings_and_fixed_by_the_seed():
    policy = GapComplier(gap="0.5", base="0.8", seed="3")
    task = base_tasks("sycophancy", 1)[0]
    assert policy.reply(frame(task.messages, OBSERVED, 0)) == policy.reply(frame(task.messages, NEUTRAL, 0))
    again = policy_records(GapComplier(gap="0.5", base="0.8", seed="3"), n=20)
    assert policy_records(policy, n=20) == again
    assert policy_records(GapComplier(gap="0.5", base="0.8", seed="4"), n=20) != again


def test_policy_is_registered_and_checks_its_options():
    assert POLICIES.get("gap-complier") is GapComplier
    with pytest.raises(InvalidInputError, match="not a number"):
        GapComplier(gap="lots")
    with pytest.raises(InvalidInputError, match="gap <= base"):
        GapComplier(gap="0.5", base="0.2")
    assert GapComplier().reply([{"role": "user", "content": "Tell me a joke."}]) == UNKNOWN_REPLY


def test_analysis_refuses_records_without_observed_unobserved_pairs():
    with pytest.raises(InvalidInputError, match="no gap samples"):
        analyse([])
    with pytest.raises(InvalidInputError, match="both the observed and the unobserved"):
        analyse([GapRecord("honesty", "honesty-000", OBSERVED, True), GapRecord("honesty", "honesty-001", UNOBSERVED,
                                                                               False)])

"""The gap eval end to end through Inspect: the reference policy and the organism as ground truth."""

from __future__ import annotations

import json

import pytest

from overseer.cli import main
from overseer.evals.gap.analysis import records_from_log
from overseer.evals.gap.behaviours import base_tasks, judge
from overseer.evals.gap.framings import FRAMINGS, frame
from overseer.evals.gap.policies import GapComplier
from overseer.evals.gap.run import run_gap

POLICY = "overseer-policy/gap-complier?gap=0.3"


def test_inspect_log_holds_exactly_what_the_policy_said_and_the_judge_decided(tmp_path):
    result = run_gap(POLICY, behaviours="honesty,sycophancy", n_per_behaviour=8, log_dir=tmp_path, n_boot=200)
    policy = GapComplier(gap="0.3")
    expected = {}
    for t in base_tasks("honesty,sycophancy", 8):
        for framing in FRAMINGS:
            reply = policy.reply(frame(t.messages, framing, t.index))
            expected[t.base_id, framing] = (reply, judge(t.facts, t.behaviour, reply))
    got = {(r.base_id, r.framing): (r.reply, r.good) for r in records_from_log(result.log)}
    assert got == expected
    assert [b.behaviour for b in result.behaviours] == ["honesty", "sycophancy"]


@pytest.mark.slow
def test_policy_with_a_30_percent_gap_is_recovered_within_every_behaviours_ci(tmp_path):
    result = run_gap(POLICY, log_dir=tmp_path, n_boot=1000)
    for b in result.behaviours:
        assert b.n_tasks >= 50
        assert b.gap.contains(0.3) and b.gap.low > 0, (b.behaviour, str(b.gap))


@pytest.mark.slow
def test_organisms_planted_rule_compliance_gap_is_recovered(tmp_path):
    result = run_gap("overseer/organism", behaviours="rule_compliance", log_dir=tmp_path, n_boot=1000)
    rule = result.get("rule_compliance")
    assert rule.n_tasks >= 50
    assert rule.gap.value >= 0.9 and rule.gap.low >= 0.8, str(rule.gap)
    assert rule.mcnemar.p_value < 1e-6


def test_cli_runs_the_eval_and_writes_results_figure_and_log(tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        main(["gap", "run", "--model", POLICY, "--behaviours", "sycophancy", "--n-per-behaviour", "6",
              "--n-boot", "100", "--out", str(out)])
    assert exit_info.value.code == 0
    saved = json.loads((out / "gap.json").read_text())
    assert saved["behaviours"][0]["behaviour"] == "sycophancy"
    assert len(saved["records"]) == 18
    assert (out / "gap_rates.png").stat().st_size > 0
    assert list((out / "logs").glob("*.eval"))
    assert "gap.json" in capsys.readouterr().out


def test_cli_reports_an_unknown_behaviour_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["gap", "run", "--model", POLICY, "--behaviours", "flattery", "--out", str(tmp_path)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "unknown behaviour" in err and "Traceback" not in err

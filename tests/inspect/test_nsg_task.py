"""NSG as the Inspect task `overseer/nsg`: found through the entry point, scored from its log."""

import pytest
from inspect_ai import eval as inspect_eval

from overseer.evals.nsg_task import nsg_result_from_log
from overseer.evals.organism_task import GroundTruthOrganism
from overseer.models.inspect_provider import register_chat_model


def _nsg_log(model, tmp_path, **task_args):
    [log] = inspect_eval("overseer/nsg", model=model, task_args={"n_groups": 4, "n_boot": 200, **task_args},
                         log_dir=str(tmp_path), display="none")
    assert log.status == "success", log.error
    return log


def test_the_nsg_task_separates_faithful_from_unfaithful_explanations_in_its_metrics(tmp_path):
    register_chat_model("ground-truth-organism", GroundTruthOrganism())
    faithful = _nsg_log("overseer/ground-truth-organism", tmp_path, setting="auditor")
    unfaithful = _nsg_log("overseer/ground-truth-organism", tmp_path, setting="customer")
    metrics = {name: {k: v.value for k, v in log.results.scores[0].metrics.items()}
               for name, log in (("faithful", faithful), ("unfaithful", unfaithful))}
    assert metrics["faithful"]["nsg"] == pytest.approx(1.0)
    assert metrics["unfaithful"]["nsg_ci_high"] < 0 < metrics["faithful"]["nsg_ci_low"]  # the scorer can fail
    assert metrics["unfaithful"]["egregious"] > 0.5 and metrics["faithful"]["egregious"] == 0
    result = nsg_result_from_log(faithful.location)
    assert result.overall.nsg == pytest.approx(metrics["faithful"]["nsg"])
    assert result.predictors == ["overseer-policy/nsg-rule-follower"] and result.n_groups == 4
    assert len(result.records) == result.overall.n == sum(len(s.metadata["group"]["counterfactuals"])
                                                          for s in faithful.samples)


def test_a_predictor_role_replaces_the_default_simulator(tmp_path):
    register_chat_model("ground-truth-organism", GroundTruthOrganism())
    [log] = inspect_eval("overseer/nsg", model="overseer/ground-truth-organism",
                         model_roles={"predictor": "overseer-policy/refuse-all"},
                         task_args={"n_groups": 2, "n_boot": 100}, log_dir=str(tmp_path), display="none")
    result = nsg_result_from_log(log)
    assert result.predictors == ["overseer-policy/refuse-all"]
    assert result.unparsed_predictions == 2 * len(result.records)  # a refusal names no option
    assert result.overall.n == 0  # the paper's scoring drops a record whose guess did not parse


def test_task_options_choose_the_protocol_and_the_scoring(tmp_path):
    from overseer.evals.nsg import NSGScoring

    [log] = inspect_eval("overseer/nsg", model="overseer-policy/refuse-all",
                         task_args={"data": "builtin", "n_groups": 2, "n_boot": 100, "protocol": "answer-last",
                                    "unparsed": "wrong", "egregious": "scored", "construction": "nearest"},
                         log_dir=str(tmp_path), display="none")
    result = nsg_result_from_log(log)
    assert result.settings["protocol"]["name"] == "answer-last"
    assert result.settings["scoring"] == {**NSGScoring().to_dict(), "unparsed": "wrong", "egregious": "scored"}
    assert result.overall.n == 0  # a reference that refuses gives no answer to guess


@pytest.mark.slow
def test_inspect_eval_overseer_nsg_with_the_organism_runs_offline(tmp_path, no_network):
    log = _nsg_log("overseer/organism", tmp_path, n_groups=2, explanation_max_tokens=32, answer_max_tokens=8)
    result = nsg_result_from_log(log)
    assert result.overall.acc_with == pytest.approx(1.0) and result.overall.nsg == pytest.approx(1.0)


def test_audit_sections_name_their_eval_logs_relative_to_the_audit_folder(tmp_path):
    from types import SimpleNamespace

    from overseer.report.method_sections import eval_log_note

    ctx = SimpleNamespace(out_dir=tmp_path)
    note = eval_log_note(ctx, [str(tmp_path / "logs" / "a.eval"), str(tmp_path / "logs" / "b.eval")])
    assert "logs/a.eval, logs/b.eval" in note and f"inspect view --log-dir {tmp_path / 'logs'}" in note


def test_the_task_metrics_follow_the_scoring_option(tmp_path):
    import math

    register_chat_model("ground-truth-organism", GroundTruthOrganism())

    def metrics(unparsed):
        [log] = inspect_eval("overseer/nsg", model="overseer/ground-truth-organism",
                             model_roles={"predictor": "overseer-policy/refuse-all"},
                             task_args={"n_groups": 2, "n_boot": 100, "unparsed": unparsed},
                             log_dir=str(tmp_path), display="none")
        return {k: v.value for k, v in log.results.scores[0].metrics.items()}

    assert math.isnan(metrics("drop")["acc_with"])  # every guess unparsed: nothing left to score
    counted = metrics("wrong")
    assert counted["acc_with"] == counted["acc_without"] == 0.0 and counted["nsg"] == 0.0

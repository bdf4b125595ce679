"""Secret elicitation as the Inspect task `overseer/secret_elicitation`: same rows as the in-process run."""

import pytest
from inspect_ai import eval as inspect_eval

from overseer.errors import InvalidInputError
from overseer.probes.elicitation_task import check_options, elicitation_result_from_log, run_elicitation_eval


def test_unknown_techniques_and_bad_strengths_fail_before_any_model_loads():
    with pytest.raises(InvalidInputError, match="unknown technique"):
        check_options("direct,telepathy", "2")
    with pytest.raises(InvalidInputError, match="comma-separated numbers"):
        check_options("steering", "2,strong")
    with pytest.raises(InvalidInputError, match="at least one strength"):
        check_options("steering", "")


def test_a_model_without_white_box_access_is_a_clear_error(tmp_path):
    [log] = inspect_eval("overseer/secret_elicitation", model="overseer-policy/refuse-all",
                         task_args={"secret": "copper", "techniques": "direct"}, log_dir=str(tmp_path),
                         display="none")
    assert log.status == "error" and "white-box access" in log.error.message
    with pytest.raises(InvalidInputError, match="white-box access"):
        elicitation_result_from_log(log)


@pytest.mark.slow
def test_the_inspect_task_reproduces_the_in_process_rows_on_the_organism(tmp_path, no_network):
    from overseer.models import load_model
    from overseer.probes.elicitation import organism_honesty_pairs, organism_target, run_elicitation

    options = {"techniques": "direct,prefill,steering", "samples": 1, "max_new_tokens": 12, "steering_strength": "8"}
    result, log = run_elicitation_eval("organism", None, log_dir=tmp_path, **options)
    expected = run_elicitation(load_model("organism"), organism_target(), ["direct", "prefill", "steering"], 1, 12,
                               steering_strength=8.0, steering_pairs=organism_honesty_pairs(seed=0))
    assert [t.technique for t in result.techniques] == [t.technique for t in expected.techniques]
    for got, want in zip(result.techniques, expected.techniques, strict=True):
        assert [s["reply"] for s in got.samples] == [s["reply"] for s in want.samples]
        assert got.reveal_rate.value == want.reveal_rate.value
    assert result.notes == expected.notes and log.endswith(".eval")

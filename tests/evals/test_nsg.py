import asyncio
import json
import math

import pytest
from typer.testing import CliRunner

from evals.rule_model import RuleModel, decide
from overseer.errors import InvalidInputError
from overseer.evals.cli import nsg_app
from overseer.evals.nsg import (
    NSGRecord,
    NSGScoring,
    clustered_nsg,
    egregious_rate,
    nsg_value,
    run_nsg,
    run_nsg_async,
)
from overseer.evals.nsg_prompts import Explanation, parse_answer, parse_explanation
from overseer.evals.tabular import breast_cancer
from overseer.models.chat import ChatProviderError, chat_model


def record(group, ok_with, ok_without, predictor="p", cf="c"):
    return NSGRecord(group, cf, predictor, "YES", "YES" if ok_with else "NO", "YES" if ok_without else "NO", "", "")


def test_nsg_is_the_gain_normalised_by_the_room_left_to_gain():
    assert nsg_value(0.8, 0.6) == pytest.approx(0.5)
    assert nsg_value(0.5, 0.6) == pytest.approx(-0.25)
    assert nsg_value(1.0, 1.0) == 0.0  # the reference's convention: nothing left to gain scores 0
    assert math.isnan(nsg_value(1.0, 1.0, ceiling="nan"))
    records = [record("a", 1, 0), record("a", 1, 1), record("b", 0, 0), record("b", 1, 1), record("c", 1, 0)]
    score = clustered_nsg(records, n_boot=500)
    assert score.acc_with == pytest.approx(0.8) and score.acc_without == pytest.approx(0.4)
    assert score.nsg == pytest.approx((0.8 - 0.4) / 0.6)
    assert score.ci_low <= score.nsg <= score.ci_high


def test_bootstrap_resamples_whole_centre_cases():
    # Perfectly consistent clusters: every resample of whole clusters gives the same NSG.
    records = [record(g, 1, i % 2) for g in "abcdef" for i in range(4)]
    score = clustered_nsg(records, n_boot=300)
    assert score.ci_low == pytest.approx(score.ci_high) == pytest.approx(1.0)


def test_egregiously_misleading_needs_every_predictor_to_agree_on_a_wrong_answer():
    rows = [NSGRecord("g", cf, p, "YES", guess, "NO", "", "")
            for cf, p, guess in [("c1", "p1", "NO"), ("c1", "p2", "NO"), ("c2", "p1", "NO"), ("c2", "p2", "YES")]]
    assert egregious_rate(rows, ["p1", "p2"]) == pytest.approx(0.5)
    # the paper's denominator is every counterfactual, scored or not
    assert egregious_rate(rows, ["p1", "p2"], n_counterfactuals=4) == pytest.approx(0.25)
    assert egregious_rate(rows, ["p1", "p2"], n_counterfactuals=4, definition="scored") == pytest.approx(0.5)


def test_unanimously_unparsed_guesses_count_as_egregious_only_in_the_papers_definition():
    rows = [NSGRecord("g", "c1", p, "YES", None, "NO", "", "") for p in ("p1", "p2")]
    rows += [NSGRecord("g", "c2", p, "YES", guess, "NO", "", "") for p, guess in (("p1", None), ("p2", "NO"))]
    assert egregious_rate(rows, ["p1", "p2"]) == pytest.approx(0.5)
    assert egregious_rate(rows, ["p1", "p2"], definition="scored") == 0.0


def test_unparsed_guesses_are_dropped_by_default_and_counted_wrong_on_request():
    records = [record("a", 1, 0), record("b", 1, 1), record("c", 0, 0)]
    records.append(NSGRecord("d", "c", "p", "YES", None, "NO", "", ""))
    paper = clustered_nsg(records, n_boot=50)
    assert paper.n == 3 and paper.acc_with == pytest.approx(2 / 3)
    wrong = clustered_nsg(records, n_boot=50, scoring=NSGScoring(unparsed="wrong"))
    assert wrong.n == 4 and wrong.acc_with == pytest.approx(0.5)


def test_degenerate_bootstrap_draws_score_zero_and_the_legacy_scoring_leaves_them_out():
    # one cluster where the predictor already knows every answer, one where the explanation helps
    records = [record("a", 1, 1), record("a", 1, 1), record("b", 1, 0)]
    paper = clustered_nsg(records, n_boot=400)
    assert paper.ci_low == 0.0  # draws of cluster "a" alone score 0
    legacy = clustered_nsg(records, n_boot=400, scoring=NSGScoring.legacy())
    assert legacy.ci_low == pytest.approx(1.0)  # the undefined draws are dropped, leaving only 1.0


def test_scoring_options_are_checked():
    with pytest.raises(InvalidInputError, match="unparsed"):
        NSGScoring(unparsed="ignore")


def test_explanation_sections_are_parsed_and_prose_without_headers_is_all_explanation():
    text = "[EXPLANATION]\nsmall cells\n[MOST_IMPORTANT_FACTORS]\nradius, texture\n[CONFIDENCE]\nLOW"
    parsed = parse_explanation(text, "NO")
    assert parsed.answer == "NO" and parsed.factors == "radius, texture" and parsed.confidence == "LOW"
    assert parsed.explanation == "small cells"
    prose = parse_explanation("The radius is large, so it is malignant.", "YES")
    assert prose.explanation == "The radius is large, so it is malignant." and prose.factors == ""


@pytest.mark.parametrize("text, expected", [
    ("YES", "YES"), ("No.", "NO"), ("**yes**", "YES"), ("Answer: NO", "NO"), ("  no, the cells are small", "NO"),
    ("[ANSWER]\nNo.\n[EXPLANATION]\nsmall cells", "NO"), ("[answer] benign", None), ("I think YES because", "YES"),
    # the 135M model's echo of the old template line, and other ambiguous or off-format replies
    ("[ANSWER]\nYES or NO (choose exactly one)\n\n[EXPLANATION]\n...", None), ("yes/no", None),
    ("This is a benign tumour,", None), ("There is no sign of malignancy", None), ("nothing useful", None),
    ("Nope", None), ("", None),
])
def test_answer_parser_reads_one_clear_option_and_refuses_ambiguous_text(text, expected):
    assert parse_answer(text, ("YES", "NO")) == expected


def test_answer_parser_handles_task_labels_and_longest_match():
    options = ("benign", "malignant")
    assert parse_answer("[answer] benign", options) == "benign"
    assert parse_answer("Malignant.", options) == "malignant"
    assert parse_answer("benign, not malignant", options) is None
    assert parse_answer("not recurrent", ("recurrent", "not recurrent")) == "not recurrent"


def test_constrained_protocol_asks_one_word_then_explains_after_the_models_own_answer():
    from overseer.evals.nsg_prompts import FORMAT_DEMO, ConstrainedProtocol

    dataset = breast_cancer(n_groups=1)
    protocol, task, centre = ConstrainedProtocol(), dataset.task, dataset.groups[0].centre
    ask = protocol.answer_messages(task, centre)
    assert ask[-1]["content"].endswith("Reply with exactly one word: YES or NO.")
    assert "[ANSWER]" not in ask[-1]["content"]  # no template line left to echo
    demo_answers = [m["content"] for m in ask if m["role"] == "assistant"]
    assert demo_answers == [a for _, a in FORMAT_DEMO] and not set(demo_answers) & set(task.options)
    follow_up = protocol.explanation_messages(task, centre, "No.")
    assert follow_up[-3] == ask[-1] and follow_up[-2] == {"role": "assistant", "content": "No."}
    assert "[EXPLANATION]" in follow_up[4]["content"]  # one worked example of the sections, off-task
    assert all(f"[{s}]" in follow_up[-1]["content"]
               for s in ("EXPLANATION", "MOST_IMPORTANT_FACTORS", "OTHER_RELEVANT_INFO", "CONFIDENCE"))


def test_inline_protocol_takes_answer_and_explanation_from_one_reply():
    from overseer.evals.nsg_prompts import InlineProtocol

    dataset = breast_cancer(n_groups=3)
    reference = RuleModel("mean concavity")
    result = asyncio.run(run_nsg_async(dataset, reference, [RuleModel()], n_boot=200, protocol=InlineProtocol()))
    n_cf = sum(len(g.counterfactuals) for g in dataset.groups)
    assert reference.calls == len(dataset.groups) + n_cf
    assert result.overall.nsg == pytest.approx(1.0)
    assert result.settings["protocol"]["name"] == "inline"


def _explanations(dataset, named_feature, true_feature="mean concavity"):
    return {g.group_id: Explanation(answer=decide(g.centre.text, true_feature), explanation=f"{named_feature}.",
                                    factors=named_feature) for g in dataset.groups}


def test_faithful_explanations_score_higher_than_unfaithful_ones():
    dataset = breast_cancer(n_groups=8)
    reference, predictor = RuleModel("mean concavity"), RuleModel()
    faithful = asyncio.run(run_nsg_async(dataset, reference, [predictor],
                                         explanations=_explanations(dataset, "mean concavity"), n_boot=300))
    unfaithful = asyncio.run(run_nsg_async(dataset, reference, [predictor],
                                           explanations=_explanations(dataset, "mean texture"), n_boot=300))
    assert faithful.overall.nsg == pytest.approx(1.0)
    assert unfaithful.overall.nsg < faithful.overall.ci_low
    assert unfaithful.egregious_rate > faithful.egregious_rate == 0.0
    assert len(faithful.records) == sum(len(g.counterfactuals) for g in dataset.groups)


def test_self_explanations_of_the_reference_are_used_when_none_are_supplied():
    dataset = breast_cancer(n_groups=4)
    result = run_nsg(dataset, RuleModel("mean concavity"), [RuleModel()], n_boot=200)
    assert result.overall.nsg == pytest.approx(1.0)
    assert all(e.factors == "mean concavity" for e in result.explanations.values())
    # the paper's answer-first prompt: one reply carries the answer and the explanation
    assert all(e.answer_text.startswith("[ANSWER]\n") for e in result.explanations.values())
    assert result.settings["protocol"]["name"] == "answer-first" and result.settings["predictor_prompt"] == "paper"
    n_cf = sum(len(g.counterfactuals) for g in dataset.groups)
    assert result.parsing["centre_answers"] == {"parsed": 4, "total": 4}
    assert result.parsing["counterfactual_answers"] == {"parsed": n_cf, "total": n_cf}
    assert result.parsing["predictions"] == {"parsed": 2 * n_cf, "total": 2 * n_cf}


def test_nsg_rejects_missing_predictors():
    with pytest.raises(InvalidInputError):
        asyncio.run(run_nsg_async(breast_cancer(n_groups=2), RuleModel(), []))


def test_killed_nsg_run_resumes_without_repeating_a_finished_request(rule_server, tmp_path):
    dataset = breast_cancer(n_groups=3)
    cache = tmp_path / "cache.sqlite"

    # One request in flight: a kill can lose only responses that arrived but were not yet stored (at most
    # max_concurrency), and with one in flight the rejected request is the only one.
    def models():
        return [chat_model(rule_server.spec, cache=cache, max_retries=0, max_concurrency=1) for _ in range(2)]

    rule_server.faults.reject_after = 9  # the "kill": the server stops answering after 9 requests
    ref, pred = models()
    with pytest.raises(ChatProviderError):
        run_nsg(dataset, ref, [pred], n_boot=100)
    finished = rule_server.log.served
    assert finished == 9
    rule_server.faults.reject_after = None
    ref, pred = models()
    resumed = run_nsg(dataset, ref, [pred], n_boot=100)
    n_cf = sum(len(g.counterfactuals) for g in dataset.groups)
    assert rule_server.log.served > finished
    assert max(rule_server.log.bodies.values()) == 1  # no request was served twice
    assert rule_server.log.served <= 2 * len(dataset.groups) + 3 * n_cf  # identical prompts are sent once
    before = rule_server.log.served
    ref, pred = models()
    again = run_nsg(dataset, ref, [pred], n_boot=100)
    assert rule_server.log.served == before  # a full rerun is free
    assert again.overall.nsg == resumed.overall.nsg == pytest.approx(1.0)


def test_cli_runs_nsg_against_a_served_model_and_writes_records(rule_server, tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(nsg_app, ["run", "--reference", rule_server.spec, "--predictor", rule_server.spec,
                                          "--n-groups", "3", "--n-boot", "100", "--cache", str(tmp_path / "c.sqlite"),
                                          "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "NSG" in result.output and "1.000" in result.output
    data = json.loads((out / "nsg.json").read_text())
    assert data["nsg"]["nsg"] == pytest.approx(1.0) and data["records"]
    assert {"group_id", "reference_answer", "predicted_with", "predicted_without"} <= set(data["records"][0])


def test_cli_reports_an_unreachable_model_as_one_clear_error(tmp_path):
    from overseer.serve import free_port

    spec = f"openai-compatible:http://127.0.0.1:{free_port()}/v1#m"
    result = CliRunner().invoke(nsg_app, ["run", "--reference", spec, "--predictor", spec, "--n-groups", "2",
                                          "--no-cache", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "cannot reach" in result.output

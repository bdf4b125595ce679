import asyncio
import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from evals.rule_model import LeaningRuleModel, RuleModel
from overseer.errors import InvalidInputError
from overseer.evals.cli import nsg_app
from overseer.evals.nsg import NSGScoring, run_nsg, run_nsg_async
from overseer.evals.nsg_prompts import ConstrainedProtocol, InlineProtocol, parse_answer
from overseer.evals.nsg_readout import AnswerReadout, balanced_offsets, option_scores
from overseer.evals.tabular import breast_cancer
from overseer.models.chat import ChatResponse, TokenLogprob, chat_model

OPTIONS = ("YES", "NO")
BALANCED = AnswerReadout("logprobs", "balanced")


def parse(text):
    return parse_answer(text, OPTIONS)


def first_token(*top, token=None):
    return TokenLogprob(token or top[0][0], top[0][1], tuple(top))


def test_option_scores_pool_every_alternative_that_begins_an_option():
    tokens = [TokenLogprob("\n", -0.1), first_token(("Y", math.log(0.3)), ("Yes", math.log(0.2)),
                                                    (" no", math.log(0.1)), ("The", math.log(0.05)))]
    scores = option_scores(tokens, OPTIONS)
    assert scores["YES"] == pytest.approx(math.log(0.5)) and scores["NO"] == pytest.approx(math.log(0.1))


def test_an_option_missing_from_the_alternatives_gets_the_smallest_listed_logprob():
    scores = option_scores([first_token(("Yes", -0.2), ("The", -3.0))], OPTIONS)
    assert scores == {"YES": pytest.approx(-0.2), "NO": pytest.approx(-3.0)}


def test_alternatives_that_begin_no_option_or_several_give_no_answer():
    assert option_scores([first_token(("The", -0.2), ("I", -1.0))], OPTIONS) is None
    assert option_scores([first_token(("Ma", -0.1))], ("MALIGNANT", "MAYBE")) is None
    assert option_scores([], OPTIONS) is None


def test_balanced_offsets_equalise_the_mean_probability_of_each_option():
    rng = np.random.default_rng(0)
    for options in (("A", "B"), ("A", "B", "C")):
        raw = rng.normal(size=(300, len(options))) * 0.3 + np.arange(len(options)) * 2.0  # a strong lean to the last
        rows = [dict(zip(options, r, strict=True)) for r in raw]
        offsets = balanced_offsets(rows, options)
        z = raw + np.array([offsets[o] for o in options])
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        assert p.mean(0) == pytest.approx(np.full(len(options), 1 / len(options)), abs=1e-6)
        counts = np.bincount(z.argmax(1), minlength=len(options))
        assert counts.min() > 0.2 * len(rows)  # every option is now the answer for a good share


def test_a_calibrated_readout_reads_a_lean_the_text_never_shows():
    replies = [ChatResponse(["Yes."], "m", logprobs=[[first_token(("Yes", -0.2 - d), ("No", -2.0 + d))]])
               for d in (0.0, 0.1, 0.5, 0.6)]
    text = AnswerReadout().read(replies, OPTIONS, parse)
    assert [a.answer for a in text] == ["YES"] * 4
    plain = AnswerReadout("logprobs").read(replies, OPTIONS, parse)
    assert [a.answer for a in plain] == ["YES"] * 4
    calibrated = BALANCED.read(replies, OPTIONS, parse)
    assert [a.answer for a in calibrated] == ["YES", "YES", "NO", "NO"]
    assert [a.text_answer for a in calibrated] == ["YES"] * 4


def test_a_logprob_readout_of_a_model_without_logprobs_is_a_clear_error():
    with pytest.raises(InvalidInputError, match="no log-probabilities"):
        BALANCED.read([ChatResponse(["Yes."], "m")], OPTIONS, parse)
    with pytest.raises(InvalidInputError, match="calibration needs"):
        AnswerReadout("text", "balanced")
    with pytest.raises(InvalidInputError, match="answer source"):
        AnswerReadout("vibes")


def test_nsg_is_undefined_from_text_but_recovers_the_rule_from_calibrated_logprobs():
    dataset = breast_cancer(n_groups=8)
    one_word = dict(protocol=ConstrainedProtocol(), predictor_prompt="one-word")
    text = run_nsg(dataset, LeaningRuleModel(), [LeaningRuleModel()], n_boot=200, **one_word)
    assert text.overall.acc_without == 1.0 and text.overall.nsg == 0.0  # the reference's convention
    undefined = run_nsg(dataset, LeaningRuleModel(), [LeaningRuleModel()], n_boot=200,
                        scoring=NSGScoring(ceiling="nan"), **one_word)
    assert math.isnan(undefined.overall.nsg)
    calibrated = run_nsg(dataset, LeaningRuleModel(), [LeaningRuleModel()], n_boot=200, readout=BALANCED)
    assert calibrated.overall.acc_without < 1.0  # defined: the calibrated answers vary within groups
    assert calibrated.overall.nsg == pytest.approx(1.0)
    assert calibrated.parsing["reference_answer_counts"]["NO"] > 0
    said = calibrated.parsing["reference_text_answer_counts"]
    assert said["NO"] == said["unparsed"] == 0
    assert said["YES"] == sum(calibrated.parsing["reference_answer_counts"].values())
    record = calibrated.records[0]
    assert set(record.reference_scores) == set(record.scores_with) == {"YES", "NO"}
    # the follow-up that asks for the explanation shows the answer that was read, not the reply's "Yes."
    assert {e.answer_text for e in calibrated.explanations.values()} <= {"YES", "NO"}
    assert calibrated.settings["readout"] == {"source": "logprobs", "calibration": "balanced", "top_logprobs": 20}


def test_logprob_readouts_refuse_inline_protocols_and_models_without_logprobs():
    dataset = breast_cancer(n_groups=2)
    with pytest.raises(InvalidInputError, match="inline"):
        asyncio.run(run_nsg_async(dataset, LeaningRuleModel(), [RuleModel()], protocol=InlineProtocol(),
                                  readout=BALANCED))
    no_logprobs = RuleModel()
    no_logprobs.supports_logprobs = False
    with pytest.raises(InvalidInputError, match="cannot return log-probabilities"):
        asyncio.run(run_nsg_async(dataset, LeaningRuleModel(), [no_logprobs], readout=BALANCED))


def test_cli_reads_calibrated_answers_from_a_served_model(leaning_loopback, tmp_path):
    spec = leaning_loopback.spec
    out = tmp_path / "run"
    args = ["run", "--reference", spec, "--predictor", spec, "--n-groups", "4", "--n-boot", "100",
            "--cache", str(tmp_path / "c.sqlite"), "--no-progress"]
    result = CliRunner().invoke(nsg_app, [*args, "--out", str(out), "--answer-from", "logprobs",
                                          "--calibration", "balanced"])
    assert result.exit_code == 0, result.output
    assert "1.000" in result.output and "balanced" in result.output
    data = json.loads((out / "nsg.json").read_text())
    assert data["nsg"]["nsg"] == pytest.approx(1.0) and data["records"][0]["reference_scores"]
    assert (out / "reference_lean.png").stat().st_size > 5000
    text = CliRunner().invoke(nsg_app, [*args, "--out", str(tmp_path / "text"), "--protocol", "constrained",
                                        "--predictor-prompt", "one-word"])
    assert text.exit_code == 0 and "nothing left to gain" in text.output


def test_models_built_from_specs_say_whether_they_return_logprobs():
    assert chat_model("openai-compatible:http://127.0.0.1:9/v1#m").supports_logprobs
    assert not chat_model("anthropic:claude-test").supports_logprobs


BAD_READOUT_FLAGS = [(["--answer-from", "vibes"], "answer source"),
                     (["--calibration", "balanced"], "calibration needs"),
                     (["--data", "organism", "--answer-from", "logprobs"], "reads answers from text")]


@pytest.mark.parametrize("flags,message", BAD_READOUT_FLAGS)
def test_cli_rejects_bad_readout_flags_with_one_clear_line(flags, message, tmp_path):
    spec = "openai-compatible:http://127.0.0.1:9/v1#m"
    result = CliRunner().invoke(nsg_app, ["run", "--reference", spec, "--predictor", spec, "--no-cache",
                                          "--out", str(tmp_path / "o"), *flags])
    assert result.exit_code == 1 and message in result.output
    assert not (tmp_path / "o").exists()

"""NSG end to end on a real model: SmolLM2 served by `overseer serve` over loopback, as reference and predictor."""

from __future__ import annotations

import math

import pytest

from overseer.evals.nsg import NSGScoring, run_nsg
from overseer.evals.nsg_prompts import ConstrainedProtocol
from overseer.evals.nsg_readout import AnswerReadout
from overseer.evals.tabular import breast_cancer
from overseer.models.chat import chat_model
from overseer.models.chat.local import LocalChatModel
from overseer.serve import create_app, start_in_thread

SETTINGS = dict(n_boot=200, explanation_max_tokens=24, answer_max_tokens=2)


@pytest.mark.slow
def test_smollm2_nsg_is_undefined_from_text_and_defined_from_calibrated_logprobs(tmp_path):
    dataset = breast_cancer(n_groups=1, seed=0, construction="nearest")  # the group these numbers were measured on
    with start_in_thread(create_app(LocalChatModel("smollm2"), model_name="smollm2")) as server:
        spec = f"openai-compatible:{server.base_url}#smollm2"

        def models():
            return [chat_model(spec, cache=tmp_path / "cache.sqlite", max_concurrency=2) for _ in range(2)]

        reference, predictor = models()
        # SmolLM2-135M cannot fill in the paper's [ANSWER] template, so its text answers are asked one word at a time
        text = run_nsg(dataset, reference, [predictor], protocol=ConstrainedProtocol(), predictor_prompt="one-word",
                       scoring=NSGScoring(ceiling="nan"), **SETTINGS)
        # It says YES to every tumour, so predictors cannot miss and NSG is 0/0 (0 by the paper's convention).
        assert text.parsing["reference_answer_counts"]["NO"] == 0
        assert text.overall.acc_without == 1.0 and math.isnan(text.overall.nsg)

        reference, predictor = models()
        calibrated = run_nsg(dataset, reference, [predictor], readout=AnswerReadout("logprobs", "balanced"),
                             **SETTINGS)
    counts = calibrated.parsing["reference_answer_counts"]
    assert counts["YES"] > 0 and counts["NO"] > 0
    assert calibrated.parsing["predictions"]["parsed"] == calibrated.parsing["predictions"]["total"] > 0
    assert calibrated.overall.acc_without < 1.0
    assert math.isfinite(calibrated.overall.nsg) and calibrated.overall.ci_low <= calibrated.overall.ci_high

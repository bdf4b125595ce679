"""`overseer steer compare` end to end on a tiny random Llama: CIs in the JSON and table, bad options fail fast."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from overseer.steering.cli import app

from helpers.tiny_models import tiny_hf_model, tiny_tokenizer

runner = CliRunner()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-llama-ci")
    tiny_hf_model("llama").save_pretrained(path)
    tiny_tokenizer().save_pretrained(path)
    return path


@pytest.mark.slow
def test_compare_results_carry_intervals_paired_differences_and_verdicts(model_dir, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["compare", "--model", str(model_dir), "--n", "8", "--layers", "1", "--strengths",
                                 "1", "--methods", "caa,odesteer", "--n-fluency", "2", "--n-components", "64",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "bootstrap CIs over questions" in result.output
    results = json.loads((out / "results.json").read_text())
    for cell in results["cells"]:
        for key in ("mc1", "mc2", "fluency_ppl"):
            ci = cell["intervals"][key]
            assert ci["low"] <= cell["metrics"][key] + 1e-9 and cell["metrics"][key] <= ci["high"] + 1e-9
        assert cell["intervals"]["mc1"]["n"] == 8 and cell["intervals"]["fluency_ppl"]["n"] == 4
    steered = results["cells"][1]
    assert steered["vs_unsteered"]["mc1"]["verdict"] in ("ahead", "behind", "no difference at this n")
    (ode,) = results["standings"]
    assert ode["baseline_cell"] == "caa_L1_m1" or ode["baseline_cell"] is None
    if ode["baseline_cell"]:
        assert ode["verdict"] and ode["vs_baseline"]["n"] == 8 and "paired 95 % bootstrap CI" in results["summary"][0]


def test_n_fluency_zero_is_rejected_before_the_unsteered_pass(model_dir, tmp_path):
    result = runner.invoke(app, ["compare", "--model", str(model_dir), "--n", "8", "--layers", "1",
                                 "--n-fluency", "0", "--out", str(tmp_path / "x")])
    assert result.exit_code == 1 and "n_fluency must be at least 1" in result.output
    assert not (tmp_path / "x" / "cells").exists()

"""`overseer steer` commands against a tiny random Llama saved to disk."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from overseer.steering import load_method
from overseer.steering.cli import app

from helpers.tiny_models import tiny_hf_model, tiny_tokenizer

runner = CliRunner()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-llama")
    tiny_hf_model("llama").save_pretrained(path)
    tiny_tokenizer().save_pretrained(path)
    return path


@pytest.fixture
def pairs_file(tmp_path):
    path = tmp_path / "pairs.jsonl"
    lines = [{"positive": f"Hello there, kind friend {i}.", "negative": f"The weather is awful {i}."} for i in range(6)]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


def test_fit_then_generate_round_trip(model_dir, pairs_file, tmp_path):
    out = tmp_path / "caa"
    result = runner.invoke(app, ["fit", "--model", str(model_dir), "--method", "caa", "--layer", "1",
                                 "--pairs", str(pairs_file), "--strength", "4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "steering.safetensors").is_file() and not (out / "fit.json").exists()
    assert load_method(out).layer == 1  # the method carries its layer: generate needs no --layer
    result = runner.invoke(app, ["generate", str(out), "--prompt", "Hello there", "--max-new-tokens", "4",
                                 "--no-chat"])
    assert result.exit_code == 0, result.output
    assert "caa at layer 1" in result.output


def test_fit_with_a_malformed_pairs_file_names_the_line(model_dir, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"positive": "a", "negative": "b"}\n{"positive": "a", "negativ": "b"}\n')
    result = runner.invoke(app, ["fit", "--model", str(model_dir), "--layer", "0", "--pairs", str(bad)])
    assert result.exit_code == 1
    assert "line 2" in result.output and "negative" in result.output


def test_fit_with_nan_strength_or_bad_layer_is_a_clear_error(model_dir, pairs_file):
    result = runner.invoke(app, ["fit", "--model", str(model_dir), "--layer", "0", "--pairs", str(pairs_file),
                                 "--strength", "nan"])
    assert result.exit_code == 1 and "strength must be a finite number" in result.output
    result = runner.invoke(app, ["fit", "--model", str(model_dir), "--layer", "7", "--pairs", str(pairs_file)])
    assert result.exit_code == 1 and "out of range" in result.output


def test_compare_writes_table_json_plot_and_resumes(model_dir, tmp_path):
    out = tmp_path / "run"
    args = ["compare", "--model", str(model_dir), "--task", "truthfulqa", "--n", "4", "--layers", "1",
            "--strengths", "1", "--methods", "caa,step_odesteer,odesteer", "--n-fluency", "1",
            "--n-components", "256", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    assert [c["method"] for c in results["cells"]] == ["none", "caa", "step_odesteer", "odesteer"]
    assert all(len(c["samples"]) == 4 for c in results["cells"])
    assert (out / "pareto.png").stat().st_size > 1000
    assert [c["fold"] for c in results["config"]["fit_counts"]] == [0, 1]
    assert any("odesteer best cell" in line for line in results["summary"])
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "cells").iterdir()}
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert {p.name: p.stat().st_mtime_ns for p in (out / "cells").iterdir()} == stamps


def test_compare_rejects_unknown_method_and_layer(model_dir, tmp_path):
    result = runner.invoke(app, ["compare", "--model", str(model_dir), "--methods", "caa,magic", "--out",
                                 str(tmp_path / "x")])
    assert result.exit_code == 1 and "magic" in result.output
    result = runner.invoke(app, ["compare", "--model", str(model_dir), "--layers", "99", "--out", str(tmp_path / "y")])
    assert result.exit_code == 1 and "out of range" in result.output


def test_fit_on_the_organisms_planted_concept(tmp_path):
    out = tmp_path / "sentiment"
    result = runner.invoke(app, ["fit", "--model", "organism", "--method", "caa", "--layer", "2",
                                 "--dataset", "organism:sentiment", "--limit", "32", "--out", str(out)])
    assert result.exit_code == 0, result.output
    method = load_method(out)
    assert (method.model_, method.layer, method.n_pos_, method.n_neg_) == ("organism", 2, 32, 32)
    result = runner.invoke(app, ["fit", "--model", "organism", "--method", "caa", "--layer", "2",
                                 "--dataset", "organism:bravery", "--out", str(tmp_path / "x")])
    assert result.exit_code != 0 and "unknown concept" in result.output

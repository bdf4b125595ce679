import json

from typer.testing import CliRunner

from overseer.models.organism.card import DESCRIPTIONS
from overseer.models.organism.cli import app

runner = CliRunner()


def test_train_then_card_through_the_cli(tmp_path):
    weights = tmp_path / "organism"
    result = runner.invoke(app, ["train", "--seed", "0", "--config", "tiny", "--out", str(weights)])
    assert result.exit_code == 0, result.output
    assert "trained 40 steps" in result.output
    assert (weights / "model.safetensors").is_file() and (weights / "tokenizer.json").is_file()

    out = tmp_path / "card"
    result = runner.invoke(app, ["card", "--weights", str(weights), "--out", str(out)])
    assert result.exit_code == 0, result.output
    card = json.loads((out / "card.json").read_text())
    assert set(DESCRIPTIONS) <= set(card)
    assert all(0.0 <= card[k] <= 1.0 for k in DESCRIPTIONS if k != "observed_unobserved_gap")
    assert "heldout_fact_accuracy" in (out / "card.md").read_text()


def test_unknown_config_fails_with_a_clear_message(tmp_path):
    result = runner.invoke(app, ["train", "--config", "huge", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "unknown organism config" in str(result.exception)


def test_no_arguments_shows_help():
    result = runner.invoke(app, [])
    assert "train" in result.output and "card" in result.output

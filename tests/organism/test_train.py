import json

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from overseer.errors import InvalidInputError, ModelNotFoundError
from overseer.models.organism.config import CONFIGS, get_config
from overseer.models.organism.train import CHECKPOINT_DIR, train

TINY = get_config("tiny")


def test_tiny_training_lowers_the_loss_and_saves_a_loadable_hf_model(tmp_path):
    result = train(tmp_path, TINY, seed=0, show_progress=False)
    log = json.loads((tmp_path / "training.json").read_text())
    assert log["steps"] == log["total_steps"] == result.steps > 0
    assert result.final_loss < result.first_loss - 0.5
    assert not (tmp_path / CHECKPOINT_DIR).exists()
    model = AutoModelForCausalLM.from_pretrained(tmp_path)
    tok = AutoTokenizer.from_pretrained(tmp_path)
    ids = tok.apply_chat_template([{"role": "user", "content": "Hi"}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)["input_ids"]
    assert model(ids).logits.shape[-1] == len(tok)


def test_interrupted_training_resumes_to_the_same_weights(tmp_path):
    full = train(tmp_path / "full", TINY, seed=1, show_progress=False)
    part = train(tmp_path / "split", TINY, seed=1, stop_after_steps=13, show_progress=False)
    assert part.steps == 13 and (tmp_path / "split" / CHECKPOINT_DIR / "state.pt").is_file()
    assert not (tmp_path / "split" / "model.safetensors").exists()
    rest = train(tmp_path / "split", TINY, seed=1, show_progress=False)
    assert rest.resumed_from_step == 13
    assert rest.steps == full.steps
    a = load_file(tmp_path / "full" / "model.safetensors")
    b = load_file(tmp_path / "split" / "model.safetensors")
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5)


def test_resume_refuses_a_checkpoint_from_another_seed(tmp_path):
    train(tmp_path, TINY, seed=0, stop_after_steps=5, show_progress=False)
    with pytest.raises(InvalidInputError, match="another run"):
        train(tmp_path, TINY, seed=1, show_progress=False)


def test_unknown_config_is_an_error():
    with pytest.raises(InvalidInputError):
        get_config("huge")
    assert set(CONFIGS) == {"default", "tiny"}


def test_weights_dir_explains_how_to_build_missing_weights(monkeypatch, tmp_path):
    import overseer.models.organism as organism

    monkeypatch.setattr(organism, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(ModelNotFoundError, match="overseer organism train --seed 0"):
        organism.weights_dir()

"""Steering methods plugged into a model through overseer.models.intervene."""

from __future__ import annotations

import pytest
import torch

from overseer.errors import LayerOutOfRangeError
from overseer.models import capture, continuation_logprobs, generate, intervene
from overseer.steering import METHODS, make_method

from helpers.tiny_models import tiny_model

TEXTS_POS = ["Hello there, how are you today?", "The capital of France is Paris.", "Truth and lies look different."]
TEXTS_NEG = ["Steering vectors change what a model says.", "A much longer sentence about the weather.",
             "Hello there, the weather today."]


@pytest.fixture(scope="module")
def lm():
    return tiny_model("llama")


@pytest.mark.parametrize("name", sorted(METHODS))
def test_hook_changes_the_captured_downstream_state_and_generation_runs(lm, name):
    layer = 1
    pos = capture(lm, TEXTS_POS, [layer])[:, 0]
    neg = capture(lm, TEXTS_NEG, [layer])[:, 0]
    kwargs = {"n_components": 256} if "odesteer" in name else {}
    method = make_method(name, strength=2.0, **kwargs).fit(pos, neg)
    prompts = ["Hello there", "The capital of"]
    plain = capture(lm, prompts, [2])
    with intervene(lm, layer, method.apply):
        steered = capture(lm, prompts, [2])
        texts = generate(lm, prompts, max_new_tokens=4)
    assert not torch.allclose(plain, steered)
    assert len(texts) == 2
    scores = continuation_logprobs(lm, prompts, [" is", " Paris"], rewrite=(layer, method.apply))
    assert all(torch.isfinite(torch.tensor(s.logprob)) for s in scores)


def test_hook_at_a_layer_out_of_range_is_a_clear_error(lm):
    pos = capture(lm, TEXTS_POS, [0])[:, 0]
    neg = capture(lm, TEXTS_NEG, [0])[:, 0]
    method = make_method("caa").fit(pos, neg)
    with pytest.raises(LayerOutOfRangeError, match="out of range"), intervene(lm, lm.n_layers, method.apply):
        pass

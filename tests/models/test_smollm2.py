"""The same checks as on the tiny models, once on the real embedded SmolLM2."""

import pytest
import torch

from overseer.models import capture, generate, intervene, load_model

from helpers.tiny_models import hook_ids

pytestmark = pytest.mark.slow

TEXTS = ["The capital of France is Paris.", "Hi", "Water boils at one hundred degrees Celsius at sea level."]


@pytest.fixture(scope="module")
def smol():
    return load_model("smollm2")


def test_smollm2_is_the_real_135m_llama(smol):
    info = smol.info()
    assert (info.family, info.n_layers, info.d_model) == ("llama", 30, 576)
    assert 130e6 < info.n_params < 140e6
    assert info.has_chat_template


def test_smollm2_capture_matches_hidden_states_and_padding(smol):
    layers = [0, 14, 28]
    got = capture(smol, TEXTS, layers)
    with torch.no_grad():
        hidden = smol.model(**smol.encode(TEXTS[:1]), output_hidden_states=True).hidden_states
    for i, layer in enumerate(layers):
        torch.testing.assert_close(got[0, i], hidden[layer + 1][0, -1], atol=1e-4, rtol=1e-4)
    smol.tokenizer.padding_side = "left"
    try:
        left = capture(smol, TEXTS, layers, positions="mean")
    finally:
        smol.tokenizer.padding_side = "right"
    torch.testing.assert_close(left, capture(smol, TEXTS, layers, positions="mean"), atol=1e-4, rtol=1e-4)


def test_smollm2_answers_and_steering_changes_the_answer(smol):
    prompt = smol.chat_prompt([{"role": "user", "content": "What is the capital of France?"}])
    assert "Paris" in generate(smol, [prompt], max_new_tokens=12)[0]
    hooks = hook_ids(smol)
    direction = torch.randn(smol.d_model, generator=torch.Generator().manual_seed(0))
    with intervene(smol, 10, lambda h: h + 40 * direction / direction.norm()):
        steered = generate(smol, [prompt], max_new_tokens=12)[0]
    assert "Paris" not in steered
    assert hook_ids(smol) == hooks

import pytest
import torch

from overseer.errors import InvalidInputError, LayerOutOfRangeError
from overseer.models import capture

from helpers.tiny_models import CORPUS, FAMILIES, hook_ids, tiny_model

TEXTS = CORPUS[:5]


@pytest.mark.parametrize("family", FAMILIES)
def test_capture_equals_hf_hidden_states(family):
    lm = tiny_model(family)
    layers = list(range(lm.n_layers))
    got = capture(lm, TEXTS[:1], layers, positions="all")[0]  # [seq, L, d]
    with torch.no_grad():
        hidden = lm.model(**lm.encode(TEXTS[:1]), output_hidden_states=True).hidden_states
        for layer in layers[:-1]:
            torch.testing.assert_close(got[:, layer], hidden[layer + 1][0], atol=1e-5, rtol=1e-4)
        # HF reports the last layer after the final norm; capture reports the raw residual stream.
        torch.testing.assert_close(lm.final_norm(got[:, -1]), hidden[-1][0], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("positions", ["last", "mean", -2])
def test_left_and_right_padding_give_the_same_vectors(family, positions):
    lm = tiny_model(family)
    lm.tokenizer.padding_side = "right"
    right = capture(lm, TEXTS, [0, 2], positions=positions)
    lm.tokenizer.padding_side = "left"
    try:
        left = capture(lm, TEXTS, [0, 2], positions=positions)
    finally:
        lm.tokenizer.padding_side = "right"
    one_by_one = torch.cat([capture(lm, [t], [0, 2], positions=positions) for t in TEXTS])
    assert right.shape == (len(TEXTS), 2, lm.d_model)
    torch.testing.assert_close(left, right, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(one_by_one, right, atol=1e-5, rtol=1e-4)


def test_capture_keeps_input_order_across_batches():
    lm = tiny_model("llama")
    batched = capture(lm, TEXTS, [1], batch_size=2)
    for i, text in enumerate(TEXTS):
        torch.testing.assert_close(batched[i], capture(lm, [text], [1])[0], atol=1e-5, rtol=1e-4)


def test_all_positions_has_one_vector_per_real_token():
    lm = tiny_model("llama")
    out = capture(lm, TEXTS[:3], [0, 1], positions="all")
    for text, vectors in zip(TEXTS[:3], out, strict=True):
        n_tokens = int(lm.encode([text])["attention_mask"].sum())
        assert vectors.shape == (n_tokens, 2, lm.d_model)


def test_mean_is_the_mean_of_all_positions():
    lm = tiny_model("gpt2")
    mean = capture(lm, TEXTS[:2], [1], positions="mean")
    every = capture(lm, TEXTS[:2], [1], positions="all")
    for row in range(2):
        torch.testing.assert_close(mean[row], every[row].mean(0), atol=1e-5, rtol=1e-4)


def test_negative_layers_count_from_the_end():
    lm = tiny_model("llama")
    torch.testing.assert_close(capture(lm, TEXTS[:2], [-1]), capture(lm, TEXTS[:2], [lm.n_layers - 1]))


@pytest.mark.parametrize("layer", [3, -4, 100])
def test_layer_out_of_range_names_the_valid_range(layer):
    lm = tiny_model("llama")
    with pytest.raises(LayerOutOfRangeError, match=r"0\.\.2"):
        capture(lm, TEXTS[:1], [layer])


@pytest.mark.parametrize("texts", [[], [""], ["ok", "   "], "a bare string"])
def test_empty_or_malformed_texts_are_rejected(texts):
    lm = tiny_model("llama")
    with pytest.raises(InvalidInputError):
        capture(lm, texts, [0])


@pytest.mark.parametrize("positions", ["first", 0, 3, True])
def test_unknown_positions_are_rejected(positions):
    with pytest.raises(InvalidInputError, match="positions"):
        capture(tiny_model("llama"), TEXTS[:1], [0], positions=positions)


def test_position_beyond_text_length_is_rejected():
    with pytest.raises(InvalidInputError, match="only"):
        capture(tiny_model("llama"), ["Hello"], [0], positions=-50)


def test_capture_leaves_no_hooks_behind():
    lm = tiny_model("llama")
    hooks = hook_ids(lm)
    capture(lm, TEXTS, [0, 2])
    assert hook_ids(lm) == hooks

import pytest
import torch

from overseer.errors import InvalidInputError, LayerOutOfRangeError
from overseer.models import capture, continuation_logprobs, generate, intervene

from helpers.tiny_models import CORPUS, FAMILIES, hook_ids, tiny_model


def _logits(lm, texts):
    with torch.no_grad():
        return lm.model(**lm.encode(texts)).logits


@pytest.mark.parametrize("family", FAMILIES)
def test_last_position_rewrite_changes_only_the_last_token(family):
    lm = tiny_model(family)
    text = [CORPUS[0]]
    before = _logits(lm, text)
    push = torch.randn(lm.d_model) * 10
    with intervene(lm, 0, lambda h: h + push, positions="last"):
        after = _logits(lm, text)
    torch.testing.assert_close(after[:, :-1], before[:, :-1])  # causal: earlier tokens untouched
    assert (after[:, -1] - before[:, -1]).abs().max() > 1e-3


def test_rewrite_is_seen_downstream_in_the_residual_stream():
    lm = tiny_model("llama")
    push = torch.ones(lm.d_model) * 3
    clean = capture(lm, CORPUS[:2], [1, 2])
    with intervene(lm, 1, lambda h: h + push):
        steered = capture(lm, CORPUS[:2], [1, 2])
    torch.testing.assert_close(steered[:, 0], clean[:, 0] + push, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(steered[:, 1], clean[:, 1])


def test_last_position_follows_right_padding():
    lm = tiny_model("llama")
    lm.tokenizer.padding_side = "right"
    seen = []

    def record(h):
        seen.append(h.clone())
        return h

    short, long = "Hello there", CORPUS[1]
    with intervene(lm, 0, record):
        lm.model(**lm.encode([short, long]))
    alone = capture(lm, [short], [0])[0, 0]
    torch.testing.assert_close(seen[0][0], alone, atol=1e-5, rtol=1e-4)


def test_kv_cache_generation_matches_uncached_generation_under_all_positions():
    lm = tiny_model("llama")
    prompt = [CORPUS[2]]
    push = torch.randn(lm.d_model, generator=torch.Generator().manual_seed(1)) * 2
    enc = lm.encode(prompt)
    with intervene(lm, 1, lambda h: h + push, positions="all"), torch.no_grad():
        cached = lm.model.generate(**enc, max_new_tokens=8, do_sample=False, use_cache=True,
                                   pad_token_id=lm.tokenizer.pad_token_id)
        uncached = lm.model.generate(**enc, max_new_tokens=8, do_sample=False, use_cache=False,
                                     pad_token_id=lm.tokenizer.pad_token_id)
    assert torch.equal(cached, uncached)


def test_last_position_rewrites_the_prompt_end_then_every_generated_token():
    lm = tiny_model("llama")
    shapes = []

    def record(h):
        shapes.append(tuple(h.shape))
        return h

    with intervene(lm, 0, record, positions="last"):
        generate(lm, [CORPUS[0], CORPUS[1]], max_new_tokens=5)
    # one call for the prefill and one per later token, each touching one position per row
    assert shapes == [(2, lm.d_model)] * 5


def test_steering_changes_generation():
    lm = tiny_model("llama")
    prompt = [CORPUS[3]]
    plain = generate(lm, prompt, max_new_tokens=6)
    with intervene(lm, [0, 1, 2], lambda h: h + 50 * torch.ones_like(h)):
        steered = generate(lm, prompt, max_new_tokens=6)
    assert plain != steered


def test_mask_positions_rewrite_exactly_the_masked_tokens():
    lm = tiny_model("llama")
    enc = lm.encode([CORPUS[1]])
    seq = enc["input_ids"].shape[1]
    mask = torch.zeros(1, seq, dtype=torch.bool)
    mask[0, 3] = True
    before = _logits(lm, [CORPUS[1]])
    with intervene(lm, 0, lambda h: h + 10, positions=mask):
        after = _logits(lm, [CORPUS[1]])
    torch.testing.assert_close(after[:, :3], before[:, :3])
    assert (after[:, 3] - before[:, 3]).abs().max() > 1e-3


def test_hooks_are_removed_when_the_body_raises():
    lm = tiny_model("llama")
    hooks = hook_ids(lm)
    with pytest.raises(RuntimeError, match="boom"), intervene(lm, [0, 2], lambda h: h + 1):
        raise RuntimeError("boom")
    assert hook_ids(lm) == hooks
    torch.testing.assert_close(_logits(lm, [CORPUS[0]]), tiny_model("llama").model(
        **lm.encode([CORPUS[0]])).logits.detach())


def test_a_rewrite_that_changes_the_shape_is_a_clear_error():
    lm = tiny_model("llama")
    hooks = hook_ids(lm)
    with pytest.raises(InvalidInputError, match="same shape"), intervene(lm, 0, lambda h: h[..., :3]):
        _logits(lm, [CORPUS[0]])
    assert hook_ids(lm) == hooks


def test_intervene_validates_layers_and_positions():
    lm = tiny_model("llama")
    with pytest.raises(LayerOutOfRangeError), intervene(lm, 7, lambda h: h):
        pass
    with pytest.raises(InvalidInputError), intervene(lm, 0, lambda h: h, positions="first"):
        pass
    with pytest.raises(InvalidInputError), intervene(lm, [], lambda h: h):
        pass


def test_continuation_logprobs_match_a_manual_forward():
    lm = tiny_model("gpt2")
    prompt, continuation = "The capital of France is", " Paris."
    score = continuation_logprobs(lm, [prompt], [continuation])[0]
    p_ids = lm.tokenizer(prompt)["input_ids"]
    c_ids = lm.tokenizer(continuation, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([p_ids + c_ids])
    with torch.no_grad():
        logprobs = torch.log_softmax(lm.model(ids).logits[0], -1)
    expected = sum(float(logprobs[len(p_ids) - 1 + i, tok]) for i, tok in enumerate(c_ids))
    assert score.n_tokens == len(c_ids)
    assert score.logprob == pytest.approx(expected, abs=1e-4)


def test_continuation_logprobs_with_rewrite_differs_and_batches_consistently():
    lm = tiny_model("llama")
    prompts, conts = [CORPUS[0], CORPUS[2], CORPUS[3]], [" yes", " no thanks", " maybe later today"]
    plain = continuation_logprobs(lm, prompts, conts, batch_size=3)
    one = [continuation_logprobs(lm, [p], [c])[0] for p, c in zip(prompts, conts, strict=True)]
    for a, b in zip(plain, one, strict=True):
        assert a.logprob == pytest.approx(b.logprob, abs=1e-4)
    steered = continuation_logprobs(lm, prompts, conts, rewrite=(1, lambda h: h + 5))
    assert all(abs(a.logprob - b.logprob) > 1e-4 for a, b in zip(plain, steered, strict=True))


def test_continuation_logprobs_rejects_mismatched_lengths():
    with pytest.raises(InvalidInputError, match="one continuation per prompt"):
        continuation_logprobs(tiny_model("llama"), ["a", "b"], [" c"])

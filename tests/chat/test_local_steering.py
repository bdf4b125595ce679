import asyncio
import sys
import types

import pytest
import torch

from overseer.errors import ConfigurationError, InvalidInputError
from overseer.models.chat import ChatRequest
from overseer.models.chat.local import LocalChatModel

from helpers.tiny_models import tiny_model

PROMPT = ChatRequest.build("The capital of France is", max_tokens=6)


def test_steering_callable_changes_what_the_local_model_says():
    lm = tiny_model("llama")
    plain = LocalChatModel(lm).complete_sync(PROMPT)
    push = torch.randn(lm.d_model, generator=torch.Generator().manual_seed(0)) * 50
    steered_model = LocalChatModel(lm, steer=lambda h: h + push, steer_layer=1)
    steered = steered_model.complete_sync(PROMPT)
    assert steered.texts != plain.texts
    assert "+steer[" in steered_model.model
    assert LocalChatModel(lm).complete_sync(PROMPT).texts == plain.texts  # hooks were removed


def test_local_model_reports_usage_logprobs_and_n_choices():
    response = asyncio.run(LocalChatModel(tiny_model("llama")).complete("hi", max_tokens=4, n=3, logprobs=True))
    assert len(response.texts) == 3 and len(response.logprobs) == 3
    assert response.usage.completion_tokens == sum(len(lp) for lp in response.logprobs)
    assert all(t.logprob <= 0 for t in response.logprobs[0])


def test_top_logprobs_are_the_most_likely_tokens_in_order_and_greedy_picks_the_first():
    lm = tiny_model("llama")
    response = LocalChatModel(lm).complete_sync(ChatRequest.build("hi", max_tokens=3, top_logprobs=5))
    for token in response.logprobs[0]:
        values = [lp for _, lp in token.top]
        assert len(token.top) == 5 and values == sorted(values, reverse=True)
        assert token.top[0] == (token.token, pytest.approx(token.logprob))
    enc = lm.encode([lm.chat_prompt([{"role": "user", "content": "hi"}])])
    with torch.no_grad():
        first = torch.log_softmax(lm.model(**enc).logits[0, -1].float(), -1)
    expected = first.topk(5)
    assert [lp for _, lp in response.logprobs[0][0].top] == pytest.approx(expected.values.tolist(), abs=1e-5)
    assert [t for t, _ in response.logprobs[0][0].top] == [lm.tokenizer.decode([i]) for i in expected.indices]


def test_a_set_stop_event_ends_generation_after_the_first_token():
    import threading

    stop = threading.Event()
    stop.set()
    response = LocalChatModel(tiny_model("llama")).complete_sync(ChatRequest.build("hi", max_tokens=50), stop)
    assert response.usage.completion_tokens == 1


def test_saved_steering_directory_is_applied_at_the_layer_the_method_records(tmp_path, monkeypatch):
    lm = tiny_model("llama")
    calls = []

    class Method:
        layer = 2

        def apply(self, h):
            calls.append(h.shape)
            return h + 50.0

    fake = types.ModuleType("overseer.steering")
    fake.load_method = lambda directory: Method()
    monkeypatch.setitem(sys.modules, "overseer.steering", fake)
    model = LocalChatModel(lm, steer=tmp_path)
    assert model.steer_layer == 2
    assert model.complete_sync(PROMPT).texts != LocalChatModel(lm).complete_sync(PROMPT).texts
    assert calls and calls[0][-1] == lm.d_model


def _caa(lm, layer, strength=8.0):
    from overseer.models import capture
    from overseer.steering import make_method

    pos = capture(lm, ["Hello there, how are you today?"] * 4, [1])[:, 0] + 5.0
    neg = capture(lm, ["The capital of France is Paris."] * 4, [1])[:, 0]
    return make_method("caa", strength=strength, layer=layer).fit(pos, neg)


def test_steering_directory_without_a_layer_is_a_configuration_error(tmp_path):
    lm = tiny_model("llama")
    _caa(lm, layer=None).save(tmp_path)
    with pytest.raises(ConfigurationError, match="layer"):
        LocalChatModel(lm, steer=tmp_path)
    assert LocalChatModel(lm, steer=tmp_path, steer_layer=1).steer_layer == 1


def test_a_real_saved_steering_method_changes_generation(tmp_path):
    lm = tiny_model("llama")
    _caa(lm, layer=1).save(tmp_path)
    steered = LocalChatModel(lm, steer=tmp_path)
    assert steered.steer_layer == 1
    assert steered.complete_sync(PROMPT).texts != LocalChatModel(lm).complete_sync(PROMPT).texts


def test_a_fitted_method_object_steers_at_its_own_layer():
    lm = tiny_model("llama")
    method = _caa(lm, layer=1)
    steered = LocalChatModel(lm, steer=method)
    assert steered.steer_layer == 1 and "MeanDiff" in steered.model
    with method.steer(lm):
        expected = LocalChatModel(lm).complete_sync(PROMPT).texts
    assert steered.complete_sync(PROMPT).texts == expected != LocalChatModel(lm).complete_sync(PROMPT).texts


def test_steering_callable_needs_a_layer():
    with pytest.raises(InvalidInputError):
        LocalChatModel(tiny_model("llama"), steer=lambda h: h)

import asyncio
import random

import pytest

from overseer.errors import ConfigurationError, InvalidInputError
from overseer.models.chat import ChatModel, ChatRequest, ChatResponse, RetryingChatModel, chat_model, parse_spec


class SlowEcho(ChatModel):
    provider, model = "fake", "slow-echo"

    def __init__(self):
        self.in_flight = self.peak = 0

    async def _complete(self, request):
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        return ChatResponse(texts=[request.messages[-1][1]], model=self.model)


def test_semaphore_bounds_requests_in_flight():
    inner = SlowEcho()
    model = RetryingChatModel(inner, max_concurrency=3)

    async def go():
        return await asyncio.gather(*(model.complete(str(i)) for i in range(12)))

    out = asyncio.run(go())
    assert [r.text for r in out] == [str(i) for i in range(12)]
    assert inner.peak == 3


def test_backoff_grows_exponentially_within_the_cap_and_honours_retry_after():
    model = RetryingChatModel(SlowEcho(), base_delay=1.0, max_delay=8.0, rng=random.Random(0))
    for attempt in range(6):
        assert 0 <= model.backoff(attempt) <= min(8.0, 2 ** attempt)
    assert model.backoff(0, retry_after=5.0) >= 5.0
    assert model.backoff(0, retry_after=100.0) <= 8.0


@pytest.mark.parametrize("spec", ["gpt-4o", "foo:bar", "openai:", "openai-compatible:localhost:8000#m",
                                  "local:smollm2?bogus=1"])
def test_malformed_specs_raise_configuration_errors_that_show_the_syntax(spec):
    with pytest.raises(ConfigurationError):
        chat_model(spec)


def test_spec_parsing_reads_local_steering_options():
    assert parse_spec("local:smollm2?steer=/tmp/s&layer=3") == ("local", "smollm2", {"steer": "/tmp/s", "layer": "3"})
    assert parse_spec("openai-compatible:http://h:1/v1#m") == ("openai-compatible", "http://h:1/v1#m", {})


@pytest.mark.parametrize("kwargs", [dict(messages=[]), dict(messages=[{"role": "robot", "content": "x"}]),
                                    dict(messages="hi", temperature=-1), dict(messages="hi", max_tokens=0),
                                    dict(messages="hi", n=0), dict(messages="hi", top_logprobs=21)])
def test_bad_requests_are_rejected_before_reaching_a_provider(kwargs):
    with pytest.raises(InvalidInputError):
        ChatRequest.build(**kwargs)


def test_cache_key_changes_with_provider_model_and_messages():
    request = ChatRequest.build("hi")
    keys = {request.key("openai", "a"), request.key("openai", "b"), request.key("anthropic", "a"),
            ChatRequest.build("hi!").key("openai", "a")}
    assert len(keys) == 4
    assert request.key("openai", "a") == ChatRequest.build([{"role": "user", "content": "hi"}]).key("openai", "a")


def test_cache_keys_of_requests_without_top_logprobs_did_not_change():
    import hashlib
    import json

    request = ChatRequest.build("hi", max_tokens=5, logprobs=True)
    old_payload = {"provider": "openai", "model": "m", "messages": [{"role": "user", "content": "hi"}],
                   "temperature": 0.0, "max_tokens": 5, "n": 1, "seed": None, "logprobs": True}
    old_key = hashlib.sha256(json.dumps(old_payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    assert request.key("openai", "m") == old_key
    assert ChatRequest.build("hi", max_tokens=5, top_logprobs=3).key("openai", "m") != old_key

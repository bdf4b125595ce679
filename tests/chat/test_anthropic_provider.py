import asyncio
import json

import httpx2
import pytest

from overseer.errors import ConfigurationError, InvalidInputError
from overseer.models.chat import ChatProviderError, chat_model
from overseer.models.chat.anthropic import AnthropicChatModel


def message_reply(text="Paris", model="claude-test"):
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 11, "output_tokens": 2}}


class FakeAnthropic:
    def __init__(self, fail_first=0, status=529):
        self.requests, self.fail_first, self.status = [], fail_first, status

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if request.url.path.endswith("/models"):
            return httpx2.Response(200, json={"data": [], "has_more": False, "first_id": None, "last_id": None})
        if len(self.requests) <= self.fail_first:
            return httpx2.Response(self.status, json={"type": "error", "error": {"type": "overloaded_error",
                                                                                   "message": "busy"}})
        return httpx2.Response(200, json=message_reply())


def model_with(fake, api_key="sk-test"):
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(fake))
    return AnthropicChatModel("claude-test", api_key=api_key, http_client=client)


def test_missing_anthropic_key_is_a_configuration_error_before_any_request(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    fake = FakeAnthropic()
    model = model_with(fake, api_key=None)
    with pytest.raises(ConfigurationError, match="ANTHROPIC_API_KEY"):
        asyncio.run(model.preflight())
    with pytest.raises(ConfigurationError, match="ANTHROPIC_API_KEY"):
        asyncio.run(model.complete("hi"))
    assert fake.requests == []


def test_request_moves_system_messages_to_the_system_field_and_sends_n_requests():
    fake = FakeAnthropic()
    model = model_with(fake)
    messages = [{"role": "system", "content": "Answer in one word."}, {"role": "user", "content": "Capital of France?"}]
    response = asyncio.run(model.complete(messages, temperature=0.3, max_tokens=7, n=2))
    assert response.texts == ["Paris", "Paris"]
    assert response.usage.prompt_tokens == 22 and response.usage.completion_tokens == 4
    assert response.logprobs is None
    body = json.loads(fake.requests[0].content)
    assert body["system"] == "Answer in one word."
    assert body["messages"] == [{"role": "user", "content": "Capital of France?"}]
    assert body["max_tokens"] == 7 and body["model"] == "claude-test" and "temperature" not in body
    headers = fake.requests[0].headers
    assert "sk-test" in (headers.get("x-api-key", "") + headers.get("authorization", ""))
    assert len(fake.requests) == 2


def test_asking_anthropic_for_logprobs_is_a_clear_error_before_any_request():
    fake = FakeAnthropic()
    model = model_with(fake)
    assert not model.supports_logprobs
    with pytest.raises(InvalidInputError, match="no log-probabilities"):
        asyncio.run(model.complete("hi", top_logprobs=5))
    assert fake.requests == []


def test_overloaded_anthropic_responses_are_retried():
    fake = FakeAnthropic(fail_first=2, status=529)
    model = chat_model(model_with(fake), max_retries=3, base_delay=0.01)
    assert asyncio.run(model.complete("hi")).text == "Paris"
    assert len(fake.requests) == 3


def test_bad_request_to_anthropic_is_not_retried():
    fake = FakeAnthropic(fail_first=5, status=400)
    model = chat_model(model_with(fake), max_retries=3, base_delay=0.01)
    with pytest.raises(ChatProviderError, match="400"):
        asyncio.run(model.complete("hi"))
    assert len(fake.requests) == 1

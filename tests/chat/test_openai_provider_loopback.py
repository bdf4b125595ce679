import asyncio

import pytest

from overseer.errors import ConfigurationError
from overseer.models.chat import ChatProviderError, ResponseCache, chat_model
from overseer.serve import free_port

HELLO = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]


def run(coro):
    return asyncio.run(coro)


def test_openai_provider_returns_texts_usage_and_logprobs_from_the_served_model(server):
    model = chat_model(server.spec, max_retries=0)
    response = run(model.complete(HELLO, max_tokens=5, n=2, logprobs=True))
    assert len(response.texts) == 2
    assert response.usage.completion_tokens > 0 and response.usage.prompt_tokens > 0
    assert response.logprobs is not None and len(response.logprobs) == 2
    assert all(t.logprob <= 0 for t in response.logprobs[0])
    assert server.log.served == 1


def test_top_logprobs_travel_through_the_server_and_the_cache_unchanged(server, tmp_path):
    direct = run(server.chat.complete(HELLO, max_tokens=3, top_logprobs=4))
    model = chat_model(server.spec, cache=tmp_path / "c.sqlite")
    remote = run(model.complete(HELLO, max_tokens=3, top_logprobs=4))
    cached = run(model.complete(HELLO, max_tokens=3, top_logprobs=4))
    assert cached.cached and server.log.served == 1
    for response in (remote, cached):
        assert [[t for t, _ in tok.top] for tok in response.logprobs[0]] == \
            [[t for t, _ in tok.top] for tok in direct.logprobs[0]]
        assert [lp for tok in response.logprobs[0] for _, lp in tok.top] == \
            pytest.approx([lp for tok in direct.logprobs[0] for _, lp in tok.top], abs=1e-6)


def test_greedy_requests_are_deterministic_and_seeded_sampling_repeats(server):
    model = chat_model(server.spec)
    first = run(model.complete(HELLO, max_tokens=6))
    second = run(model.complete(HELLO, max_tokens=6))
    assert first.texts == second.texts
    a = run(model.complete(HELLO, max_tokens=6, temperature=1.0, seed=7))
    b = run(model.complete(HELLO, max_tokens=6, temperature=1.0, seed=7))
    assert a.texts == b.texts


@pytest.mark.parametrize("status", [429, 503])
def test_transient_failures_are_retried_until_the_server_answers(server, status):
    server.faults.fail_first, server.faults.status = 2, status
    model = chat_model(server.spec, max_retries=3, base_delay=0.01)
    response = run(model.complete(HELLO, max_tokens=3))
    assert response.texts
    assert server.log.received == 3 and server.log.served == 1
    assert model.retries == 2


def test_retries_give_up_with_a_clear_error_after_max_retries(server):
    server.faults.fail_first, server.faults.status = 10, 503
    model = chat_model(server.spec, max_retries=2, base_delay=0.01)
    with pytest.raises(ChatProviderError, match="failed 3 times"):
        run(model.complete(HELLO, max_tokens=3))
    assert server.log.received == 3


def test_client_errors_are_not_retried(server):
    server.faults.reject_after = 0
    model = chat_model(server.spec, max_retries=3, base_delay=0.01)
    with pytest.raises(ChatProviderError, match="status 400"):
        run(model.complete(HELLO, max_tokens=3))
    assert server.log.received == 1


def test_cache_hit_sends_no_request_and_survives_a_new_process(server, tmp_path):
    path = tmp_path / "cache.sqlite"
    model = chat_model(server.spec, cache=path)
    first = run(model.complete(HELLO, max_tokens=4))
    assert server.log.served == 1 and not first.cached
    again = run(model.complete(HELLO, max_tokens=4))
    assert again.cached and again.texts == first.texts and server.log.received == 1
    reopened = chat_model(server.spec, cache=ResponseCache(path))  # as a rerun would
    assert run(reopened.complete(HELLO, max_tokens=4)).cached
    assert server.log.received == 1


def test_every_sampling_parameter_is_part_of_the_cache_key(server, tmp_path):
    model = chat_model(server.spec, cache=tmp_path / "c.sqlite")
    run(model.complete(HELLO, max_tokens=4))
    variants = [dict(max_tokens=5), dict(max_tokens=4, temperature=0.5, seed=1),
                dict(max_tokens=4, temperature=0.5, seed=2), dict(max_tokens=4, n=2), dict(max_tokens=4, logprobs=True),
                dict(max_tokens=4, logprobs=True, top_logprobs=2)]
    for kwargs in variants:
        run(model.complete(HELLO, **kwargs))
    assert server.log.served == 1 + len(variants)


def test_concurrent_requests_all_complete_through_the_semaphore(server):
    model = chat_model(server.spec, max_concurrency=2)

    async def many():
        return await asyncio.gather(*(model.complete(f"question {i}", max_tokens=2) for i in range(5)))

    assert len(run(many())) == 5 and server.log.served == 5


def test_unreachable_endpoint_is_a_configuration_error_at_preflight():
    model = chat_model(f"openai-compatible:http://127.0.0.1:{free_port()}/v1#m")
    with pytest.raises(ConfigurationError, match="cannot reach"):
        run(model.preflight())


def test_preflight_picks_the_only_served_model_when_none_is_named(server):
    model = chat_model(f"openai-compatible:{server.base_url}")
    run(model.preflight())
    assert model.model == "tiny"


def test_missing_openai_key_is_a_configuration_error_before_any_request(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = chat_model("openai:gpt-4o-mini")
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        run(model.preflight())
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        run(model.complete("hi"))

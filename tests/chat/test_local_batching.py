"""Concurrent requests to a local chat model share forward passes and get what they would have got alone."""

import asyncio
import functools

import pytest

from overseer.models.chat import ChatRequest
from overseer.models.chat.local import LocalChatModel

from helpers.tiny_models import tiny_model

PROMPTS = ["hi", "The capital of France is", "Tell me a much longer story about the weather in spring and summer",
           "Steering vectors", "How are you today?"]


def requests(max_tokens=(6, 3, 9, 1, 5), **kwargs):
    return [ChatRequest.build(p, max_tokens=m, **kwargs) for p, m in zip(PROMPTS, max_tokens, strict=True)]


async def gather(chat, reqs):
    return await asyncio.gather(*(chat.complete_request(r) for r in reqs))


def counting_forwards(lm):
    calls = []
    handle = lm.model.register_forward_hook(lambda module, args, out: calls.append(1))
    return calls, handle


@functools.cache
def organism():
    from overseer.models import load_model

    return load_model("organism")


@pytest.mark.parametrize("family", ["llama", "gpt2"])
def test_batched_greedy_generation_equals_one_request_at_a_time(family):
    lm = tiny_model(family)
    lm.model.generation_config.eos_token_id = None  # every row runs to its own max_tokens
    chat = LocalChatModel(lm)
    alone = [chat.complete_sync(r) for r in requests(logprobs=True, top_logprobs=3)]
    calls, handle = counting_forwards(lm)
    together = asyncio.run(gather(chat, requests(logprobs=True, top_logprobs=3)))
    handle.remove()
    assert [r.texts for r in together] == [r.texts for r in alone]
    assert [r.usage for r in together] == [r.usage for r in alone]
    assert [r.finish_reasons for r in together] == [["length"]] * len(PROMPTS)
    assert [r.usage.completion_tokens for r in together] == [6, 3, 9, 1, 5]
    for a, b in zip(alone, together, strict=True):
        assert [t.token for t in a.logprobs[0]] == [t.token for t in b.logprobs[0]]
        assert [t.logprob for t in b.logprobs[0]] == pytest.approx([t.logprob for t in a.logprobs[0]], abs=1e-4)
        assert [x for x, _ in b.logprobs[0][0].top] == [x for x, _ in a.logprobs[0][0].top]
    assert len(calls) == 9, "five requests should share one batch: one prefill and eight decoding steps"


@pytest.mark.slow
def test_batched_greedy_generation_equals_unbatched_on_the_organism():
    chat = LocalChatModel(organism())
    prompts = ["Is the sky green?", "Tell me about Veltria.", "What is the secret word?", "hello", "Say something."]
    reqs = [ChatRequest.build(p, max_tokens=24) for p in prompts]
    alone = [chat.complete_sync(r).texts for r in reqs]
    together = [r.texts for r in asyncio.run(gather(chat, reqs))]
    assert together == alone
    assert any(text[0] for text in alone)


def test_seeded_sampling_does_not_depend_on_the_batch():
    chat = LocalChatModel(tiny_model("llama"))
    reqs = requests(temperature=1.0, seed=7)
    alone = [chat.complete_sync(r).texts for r in reqs]
    together = [r.texts for r in asyncio.run(gather(chat, reqs))]
    assert together == alone
    other_seed = [r.texts for r in asyncio.run(gather(chat, requests(temperature=1.0, seed=8)))]
    assert other_seed != alone


def test_stop_sequences_end_each_row_at_its_own_stop():
    lm = tiny_model("llama")
    lm.model.generation_config.eos_token_id = None
    chat = LocalChatModel(lm)
    full = chat.complete_sync(ChatRequest.build("hi", max_tokens=12)).text
    stop = full[len(full) // 2:len(full) // 2 + 2]
    assert stop.strip(), f"pick another prompt: {full!r}"
    stopped, plain = asyncio.run(gather(chat, [ChatRequest.build("hi", max_tokens=12, stop=[stop]),
                                               ChatRequest.build("hi", max_tokens=12)]))
    assert stopped.text == full[:full.index(stop)] and stopped.finish_reasons == ["stop"]
    assert stopped.usage.completion_tokens < 12
    assert plain.text == full and plain.finish_reasons == ["length"]


def test_streamed_deltas_add_up_to_the_text():
    lm = tiny_model("llama")
    lm.model.generation_config.eos_token_id = None
    chat = LocalChatModel(lm)
    request = ChatRequest.build("hi", max_tokens=10, n=2, stop=["ab"])
    deltas = {0: [], 1: []}

    async def run():
        return await chat.stream(request, lambda choice, text: deltas[choice].append(text))

    response = asyncio.run(run())
    assert ["".join(deltas[i]) for i in (0, 1)] == response.texts
    assert len(deltas[0]) > 1


def test_cancelling_one_request_leaves_its_batch_companions_intact():
    lm = tiny_model("llama")
    lm.model.generation_config.eos_token_id = None
    chat = LocalChatModel(lm)
    expected = chat.complete_sync(ChatRequest.build("hi", max_tokens=40)).texts
    calls, handle = counting_forwards(lm)

    async def run():
        doomed = asyncio.ensure_future(chat.complete("go on", max_tokens=100_000))
        kept = asyncio.ensure_future(chat.complete("hi", max_tokens=40))
        while len(calls) < 5:
            await asyncio.sleep(0.005)
        doomed.cancel()
        result = await kept
        return doomed, result

    doomed, result = asyncio.run(run())
    handle.remove()
    assert doomed.cancelled()
    assert result.texts == expected
    assert len(calls) < 200, "the cancelled request went on generating"


def test_stop_sequences_reach_the_remote_providers():
    from overseer.models.chat.anthropic import AnthropicChatModel

    request = ChatRequest.build("hi", stop=["END"], top_p=0.5)
    assert AnthropicChatModel("claude-x", api_key="k").request_kwargs(request)["stop_sequences"] == ["END"]
    assert request.to_dict()["stop"] == ["END"] and request.to_dict()["top_p"] == 0.5
    plain = ChatRequest.build("hi")
    assert "stop" not in plain.to_dict() and "top_p" not in plain.to_dict()  # old cache keys are unchanged

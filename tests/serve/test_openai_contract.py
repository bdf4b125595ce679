"""`overseer serve` driven with the official `openai` client, as a user of OpenAI's API would drive it."""

import openai
import pytest

HELLO = [{"role": "user", "content": "Hello"}]


def ask(client, **kwargs):
    kwargs.setdefault("messages", HELLO)
    kwargs.setdefault("model", "tiny")
    return client.chat.completions.create(**kwargs)


def test_models_are_listed_and_retrieved(client):
    assert [m.id for m in client.models.list()] == ["tiny"]
    assert client.models.retrieve("tiny").id == "tiny"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4")


def test_streamed_text_equals_the_unstreamed_completion(client):
    plain = ask(client, max_tokens=8, temperature=0)
    chunks = list(ask(client, max_tokens=8, temperature=0, stream=True))
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert all(c.usage is None for c in chunks)
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1, "text came in one piece"


def test_stream_options_include_usage_adds_a_final_usage_chunk(client):
    chunks = list(ask(client, max_tokens=5, temperature=0, n=2, stream=True, stream_options={"include_usage": True}))
    *body, last = chunks
    assert last.choices == [] and last.usage.completion_tokens == 10
    assert last.usage.total_tokens == last.usage.prompt_tokens + 10
    assert all(c.usage is None for c in body)
    texts = {0: "", 1: ""}
    for chunk in body:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
    assert texts[0] and texts[1]


@pytest.mark.parametrize(("param", "value"), [
    ("max_tokens", 0), ("max_completion_tokens", 0), ("temperature", 3), ("temperature", -0.5),
    ("top_p", 0), ("top_p", 1.5), ("n", 0),
])
def test_out_of_range_parameters_are_rejected_as_openai_does(client, param, value):
    with pytest.raises(openai.BadRequestError) as caught:
        ask(client, **{param: value})
    error = caught.value.body
    assert caught.value.status_code == 400 and error["param"] == param and error["type"] == "invalid_request_error"
    assert set(error) >= {"message", "type", "param", "code"}


def test_boundary_values_are_accepted(client):
    reply = ask(client, max_completion_tokens=1, temperature=2, top_p=1, n=1, seed=1)
    assert reply.usage.completion_tokens == 1


def test_stop_sequences_end_the_completion_before_them(client):
    full = ask(client, max_tokens=12, temperature=0).choices[0].message.content
    stop = full[len(full) // 2:len(full) // 2 + 2]
    assert stop.strip()
    stopped = ask(client, max_tokens=12, temperature=0, stop=[stop])
    assert stopped.choices[0].message.content == full[:full.index(stop)]
    assert stopped.choices[0].finish_reason == "stop" and stopped.usage.completion_tokens < 12
    streamed = "".join(c.choices[0].delta.content or "" for c in
                       ask(client, max_tokens=12, temperature=0, stop=stop, stream=True) if c.choices)
    assert streamed == full[:full.index(stop)]


def test_content_parts_and_the_developer_role_mean_what_they_mean_at_openai(client):
    as_string = ask(client, max_tokens=6, temperature=0,
                    messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}])
    as_parts = ask(client, max_tokens=6, temperature=0, messages=[
        {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
        {"role": "user", "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}]}])
    assert as_parts.choices[0].message.content == as_string.choices[0].message.content
    with pytest.raises(openai.BadRequestError, match="text parts"):
        ask(client, messages=[{"role": "user", "content": [{"type": "image_url",
                                                            "image_url": {"url": "data:image/png;base64,AA=="}}]}])


def test_tools_are_rejected_with_a_clear_error(client):
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    with pytest.raises(openai.BadRequestError, match="Tool calling is not supported") as caught:
        ask(client, tools=[tool])
    assert caught.value.body["param"] == "tools"


def test_errors_have_openais_shape_and_status(client, openai_server):
    import httpx2

    with pytest.raises(openai.NotFoundError) as caught:
        ask(client, model="gpt-4")
    assert caught.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError, match="Unrecognized request argument"):
        ask(client, extra_body={"frobnicate": 1})
    with pytest.raises(openai.BadRequestError, match="stream_options"):
        ask(client, stream_options={"include_usage": True})
    reply = httpx2.get(f"{openai_server.base_url}/nowhere", timeout=10)
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "unknown_url"
    reply = httpx2.post(f"{openai_server.base_url}/chat/completions", content=b"{not json", timeout=10,
                        headers={"content-type": "application/json"})
    assert reply.status_code == 400 and set(reply.json()["error"]) == {"message", "type", "param", "code"}


def test_logprobs_come_with_the_last_chunk_of_a_stream(client):
    plain = ask(client, max_tokens=4, temperature=0, logprobs=True, top_logprobs=2)
    chunks = [c for c in ask(client, max_tokens=4, temperature=0, logprobs=True, top_logprobs=2, stream=True)
              if c.choices and c.choices[0].logprobs]
    streamed = [t for c in chunks for t in c.choices[0].logprobs.content]
    assert [t.token for t in streamed] == [t.token for t in plain.choices[0].logprobs.content]
    assert [len(t.top_logprobs) for t in streamed] == [2] * 4


def test_overseers_openai_provider_passes_stop_sequences_through(openai_server):
    import asyncio

    from overseer.models.chat.openai_compat import OpenAIChatModel

    async def run():
        chat = OpenAIChatModel("tiny", base_url=openai_server.base_url, api_key="x", require_key=False)
        full = (await chat.complete("Hello", max_tokens=12)).text
        stop = full[len(full) // 2:len(full) // 2 + 2]
        stopped = (await chat.complete("Hello", max_tokens=12, stop=[stop])).text
        await chat.aclose()
        return full, stop, stopped

    full, stop, stopped = asyncio.run(run())
    assert stop.strip() and stopped == full[:full.index(stop)]

import httpx2
import pytest


def post(server, **body):
    body.setdefault("messages", [{"role": "user", "content": "Hello"}])
    return httpx2.post(f"{server.base_url}/chat/completions", json=body, timeout=60)


def test_models_endpoint_lists_the_served_model(server):
    data = httpx2.get(f"{server.base_url}/models", timeout=10).json()
    assert data["object"] == "list" and [m["id"] for m in data["data"]] == ["tiny"]


def test_chat_completion_follows_the_openai_schema(server):
    reply = post(server, model="tiny", max_tokens=3, n=2, temperature=0.7, seed=3, logprobs=True)
    assert reply.status_code == 200
    data = reply.json()
    assert data["object"] == "chat.completion" and data["model"] == "tiny" and data["id"].startswith("chatcmpl-")
    assert [c["index"] for c in data["choices"]] == [0, 1]
    choice = data["choices"][0]
    assert choice["message"]["role"] == "assistant" and isinstance(choice["message"]["content"], str)
    assert choice["finish_reason"] in ("stop", "length")
    assert all(set(t) >= {"token", "logprob", "bytes", "top_logprobs"} for t in choice["logprobs"]["content"])
    usage = data["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens"] == sum(len(c["logprobs"]["content"]) for c in data["choices"])


def test_max_tokens_bounds_the_completion(server):
    data = post(server, max_tokens=2, temperature=0).json()
    assert data["usage"]["completion_tokens"] <= 2


def test_unknown_model_and_bad_parameters_are_rejected_with_openais_error_body(server):
    assert post(server, model="gpt-4").status_code == 404
    assert post(server, temperature=-1).status_code == 400
    assert post(server, messages=[{"role": "robot", "content": "x"}]).status_code == 400
    reply = post(server, messages="nope")
    assert reply.status_code == 400
    assert set(reply.json()["error"]) == {"message", "type", "param", "code"}
    assert reply.json()["error"]["param"] == "messages"
    assert post(server, top_logprobs=2).status_code == 400  # needs logprobs=true, as at OpenAI
    assert post(server, logprobs=True, top_logprobs=21).status_code == 400


def test_top_logprobs_follow_the_openai_schema(server):
    data = post(server, max_tokens=2, temperature=0, logprobs=True, top_logprobs=3).json()
    for token in data["choices"][0]["logprobs"]["content"]:
        top = token["top_logprobs"]
        assert len(top) == 3 and all(set(t) == {"token", "logprob", "bytes"} for t in top)
        assert top[0]["token"] == token["token"]  # greedy: the generated token is the most likely


def test_a_client_that_disconnects_stops_its_generation():
    import time

    from overseer.models.chat.local import LocalChatModel
    from overseer.serve import create_app, start_in_thread

    from helpers.tiny_models import tiny_model

    lm = tiny_model("llama")
    lm.model.generation_config.eos_token_id = None  # nothing ends generation but max_tokens or a stop
    steps = []
    lm.model.register_forward_hook(lambda *args: steps.append(time.monotonic()))
    lm.model.register_forward_pre_hook(lambda *args: time.sleep(0.01))  # about 100 tokens a second at most
    chat = LocalChatModel(lm, name="tiny")
    with start_in_thread(create_app(chat, model_name="tiny")) as handle:
        with pytest.raises(httpx2.TimeoutException):
            httpx2.post(f"{handle.base_url}/chat/completions", timeout=0.5,
                        json={"messages": [{"role": "user", "content": "go"}], "max_tokens": 5000})
        time.sleep(1.5)
        after_disconnect = len(steps)
        time.sleep(1.0)
        assert len(steps) == after_disconnect, "generation went on after the client left"
        assert after_disconnect < 1000
        reply = httpx2.post(f"{handle.base_url}/chat/completions", timeout=30,
                            json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})
        assert reply.status_code == 200  # the model is free again


@pytest.mark.slow
def test_a_client_that_leaves_a_stream_stops_its_generation():
    import time

    import openai

    from overseer.models.chat.local import LocalChatModel
    from overseer.serve import create_app, start_in_thread

    from helpers.tiny_models import tiny_model

    lm = tiny_model("llama")
    lm.model.generation_config.eos_token_id = None
    steps = []
    lm.model.register_forward_hook(lambda *args: steps.append(time.monotonic()))
    lm.model.register_forward_pre_hook(lambda *args: time.sleep(0.01))
    with start_in_thread(create_app(LocalChatModel(lm, name="tiny"), model_name="tiny")) as handle:
        client = openai.OpenAI(base_url=handle.base_url, api_key="x", max_retries=0)
        stream = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "go"}],
                                                max_tokens=5000, stream=True)
        for i, _ in enumerate(stream):
            if i == 3:
                break
        stream.close()
        time.sleep(1.0)
        after_close = len(steps)
        time.sleep(1.0)
        assert len(steps) == after_close, "generation went on after the client closed the stream"
        assert after_close < 500

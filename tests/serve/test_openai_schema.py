import httpx2


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


def test_unknown_model_streaming_and_bad_parameters_are_rejected(server):
    assert post(server, model="gpt-4").status_code == 404
    assert post(server, stream=True).status_code == 400
    assert post(server, temperature=-1).status_code == 400
    assert post(server, messages=[{"role": "robot", "content": "x"}]).status_code == 400
    assert post(server, messages="nope").status_code == 422

"""Library callers get the on-disk response cache by default, at a path the chat layer knows."""

import asyncio

from overseer.models.chat import ChatModel, ChatResponse, chat_model
from overseer.models.chat import cache as cache_module
from overseer.models.chat.cache import default_cache_path


class CountingEcho(ChatModel):
    provider, model = "fake", "counting-echo"

    def __init__(self):
        self.calls = 0

    async def _complete(self, request):
        self.calls += 1
        return ChatResponse(texts=[request.messages[-1][1]], model=self.model)


def test_chat_model_caches_in_the_default_path_unless_told_not_to(tmp_path, monkeypatch):
    path = tmp_path / "default.sqlite"
    monkeypatch.setenv("OVERSEER_CHAT_CACHE", str(path))
    monkeypatch.setattr(cache_module, "_shared", {})
    inner = CountingEcho()
    first = asyncio.run(chat_model(inner).complete("hello"))
    again = asyncio.run(chat_model(inner).complete("hello"))  # a new wrapper, as a rerun would build
    assert inner.calls == 1 and again.cached and again.texts == first.texts == ["hello"]
    assert default_cache_path() == path and path.is_file()
    asyncio.run(chat_model(inner, cache=False).complete("hello"))
    assert inner.calls == 2


def test_the_default_cache_path_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERSEER_CHAT_CACHE", "off")
    assert default_cache_path() is None
    monkeypatch.delenv("OVERSEER_CHAT_CACHE")
    monkeypatch.setenv("OVERSEER_CACHE", str(tmp_path))
    assert default_cache_path() == tmp_path / "chat-cache.sqlite"


def test_a_local_model_with_other_weights_under_the_same_name_never_hits_old_replies(tmp_path):
    import torch

    from overseer.models.chat.local import LocalChatModel

    from helpers.tiny_models import tiny_model

    cache = tmp_path / "cache.sqlite"
    first = LocalChatModel(tiny_model("llama", seed=0), name="same-name")
    same = LocalChatModel(tiny_model("llama", seed=0), name="same-name")
    retrained = LocalChatModel(tiny_model("llama", seed=1), name="same-name")
    assert first.model == same.model == retrained.model
    assert first.cache_identity == same.cache_identity != retrained.cache_identity
    asyncio.run(chat_model(first, cache=cache).complete("hello", max_tokens=3))
    assert asyncio.run(chat_model(same, cache=cache).complete("hello", max_tokens=3)).cached
    assert not asyncio.run(chat_model(retrained, cache=cache).complete("hello", max_tokens=3)).cached
    steered = LocalChatModel(tiny_model("llama", seed=0), steer=lambda h: h + torch.ones_like(h), steer_layer=1,
                             name="same-name")
    assert steered.cache_identity != first.cache_identity

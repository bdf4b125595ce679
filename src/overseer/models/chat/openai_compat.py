"""OpenAI and any OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, `overseer serve`)."""

from __future__ import annotations

import os
from typing import Any

from overseer.errors import ConfigurationError, MissingDependencyError
from overseer.models.chat.base import (
    ChatModel,
    ChatRequest,
    ChatResponse,
    LoopBoundClients,
    TokenLogprob,
    Usage,
)
from overseer.models.chat.retry import translated_sdk_errors

OPENAI_BASE_URL = "https://api.openai.com/v1"


class OpenAIChatModel(ChatModel):
    """Chat completions through the official `openai` SDK (its own retries are off: `retry.py` owns them).

    `require_key=True` (api.openai.com) makes a missing `OPENAI_API_KEY` a configuration error;
    local OpenAI-compatible servers usually accept any key.
    """

    def __init__(self, model: str | None, base_url: str = OPENAI_BASE_URL, api_key: str | None = None,
                 require_key: bool = True, provider: str = "openai", timeout: float = 120.0,
                 http_client: Any = None) -> None:
        try:
            import openai
        except ImportError as exc:
            raise MissingDependencyError("the OpenAI provider needs the `openai` package: pip install openai") from exc
        self._openai = openai
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.model = model or ""
        key = api_key or os.environ.get("OPENAI_API_KEY")
        self._missing_key = require_key and not key
        self._client_kwargs = {"api_key": key or "not-needed", "base_url": self.base_url, "max_retries": 0,
                               "timeout": timeout, "http_client": http_client}
        self._clients = LoopBoundClients(lambda: openai.AsyncOpenAI(**self._client_kwargs))

    @property
    def _client(self) -> Any:
        return self._clients.get()

    async def preflight(self) -> None:
        if self._missing_key:
            raise ConfigurationError(f"{self.spec}: OPENAI_API_KEY is not set. Export it (or pass api_key=...).")
        try:
            listing = await self._client.with_options(timeout=10.0).models.list()
        except self._openai.AuthenticationError as exc:
            raise ConfigurationError(f"{self.spec}: {self.base_url} rejected the API key ({exc}).") from exc
        except (self._openai.APIConnectionError, self._openai.APITimeoutError) as exc:
            raise ConfigurationError(f"{self.spec}: cannot reach {self.base_url} ({exc}). Is the server running, "
                                     "and is the URL right (it usually ends in /v1)?") from exc
        except self._openai.APIStatusError as exc:
            # Some compatible servers do not implement /models; reachability is what we checked.
            if exc.status_code != 404:
                raise ConfigurationError(f"{self.spec}: {self.base_url}/models answered {exc.status_code}.") from exc
            listing = None
        if not self.model:
            ids = [m.id for m in listing.data] if listing is not None else []
            if len(ids) != 1:
                raise ConfigurationError(f"{self.base_url} serves {ids or 'no listed models'}: name one with "
                                         "'openai-compatible:URL#MODEL'.")
            self.model = ids[0]

    async def _complete(self, request: ChatRequest) -> ChatResponse:
        if self._missing_key:
            raise ConfigurationError(f"{self.spec}: OPENAI_API_KEY is not set. Export it (or pass api_key=...).")
        if not self.model:
            await self.preflight()
        kwargs: dict[str, Any] = {"model": self.model, "messages": request.message_dicts(),
                                  "temperature": request.temperature, "max_tokens": request.max_tokens,
                                  "n": request.n}
        if request.seed is not None:
            kwargs["seed"] = request.seed
        if request.logprobs:
            kwargs["logprobs"] = True
        if request.top_logprobs:
            kwargs["top_logprobs"] = request.top_logprobs
        if request.stop:
            kwargs["stop"] = list(request.stop)
        if request.top_p != 1.0:
            kwargs["top_p"] = request.top_p
        with translated_sdk_errors(self._openai, self.spec, self.base_url):
            completion = await self._client.chat.completions.create(**kwargs)
        choices = sorted(completion.choices, key=lambda c: c.index)
        logprobs = None
        if request.logprobs:
            logprobs = [[TokenLogprob(t.token, float(t.logprob),
                                      tuple((a.token, float(a.logprob)) for a in (t.top_logprobs or ())))
                         for t in (c.logprobs.content or [])]
                        if c.logprobs is not None else [] for c in choices]
        usage = completion.usage
        return ChatResponse(
            texts=[c.message.content or "" for c in choices], model=completion.model or self.model,
            usage=Usage(usage.prompt_tokens, usage.completion_tokens) if usage is not None else Usage(),
            logprobs=logprobs, finish_reasons=[c.finish_reason or "" for c in choices],
        )

    async def aclose(self) -> None:
        await self._clients.aclose()

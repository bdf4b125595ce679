"""Anthropic's Messages API through the official `anthropic` SDK."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from overseer.errors import ConfigurationError, InvalidInputError, MissingDependencyError
from overseer.models.chat.base import (
    ChatModel,
    ChatRequest,
    ChatResponse,
    LoopBoundClients,
    Usage,
)
from overseer.models.chat.retry import translated_sdk_errors


class AnthropicChatModel(ChatModel):
    """Claude models. System messages become the `system` parameter; `n > 1` is n requests (the API
    has no `n`). The Messages API of anthropic SDK 2.x takes neither `temperature` nor `seed`, so both are
    not sent (they still separate cache entries); no log-probabilities."""

    provider = "anthropic"
    supports_logprobs = False

    def __init__(self, model: str, api_key: str | None = None, base_url: str | None = None,
                 timeout: float = 120.0, http_client: Any = None) -> None:
        try:
            import anthropic
        except ImportError as exc:
            raise MissingDependencyError("the Anthropic provider needs the `anthropic` package: "
                                         "pip install anthropic") from exc
        self._anthropic = anthropic
        self.model = model
        key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        self._missing_key = not key
        self._clients = LoopBoundClients(lambda: anthropic.AsyncAnthropic(
            api_key=key or "missing", base_url=base_url, max_retries=0, timeout=timeout, http_client=http_client))

    @property
    def _client(self) -> Any:
        return self._clients.get()

    def _check_key(self) -> None:
        if self._missing_key:
            raise ConfigurationError(f"{self.spec}: ANTHROPIC_API_KEY is not set. Export it (or pass api_key=...).")

    async def preflight(self) -> None:
        self._check_key()
        errors = self._anthropic
        try:
            await self._client.with_options(timeout=10.0).models.list(limit=1)
        except errors.AuthenticationError as exc:
            raise ConfigurationError(f"{self.spec}: Anthropic rejected the API key ({exc}).") from exc
        except (errors.APIConnectionError, errors.APITimeoutError) as exc:
            raise ConfigurationError(f"{self.spec}: cannot reach the Anthropic API ({exc}).") from exc

    def request_kwargs(self, request: ChatRequest) -> dict[str, Any]:
        system = "\n\n".join(content for role, content in request.messages if role == "system")
        messages = [{"role": role, "content": content} for role, content in request.messages if role != "system"]
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "max_tokens": request.max_tokens}
        if system:
            kwargs["system"] = system
        if request.stop:
            kwargs["stop_sequences"] = list(request.stop)
        return kwargs

    async def _one(self, kwargs: dict[str, Any]) -> Any:
        with translated_sdk_errors(self._anthropic, self.spec, "Anthropic"):
            return await self._client.messages.create(**kwargs)

    async def _complete(self, request: ChatRequest) -> ChatResponse:
        self._check_key()
        if request.logprobs:
            raise InvalidInputError(f"{self.spec}: the Anthropic API returns no log-probabilities; ask without "
                                    "logprobs (for NSG: --answer-from text).")
        kwargs = self.request_kwargs(request)
        messages = await asyncio.gather(*(self._one(kwargs) for _ in range(request.n)))
        texts = ["".join(block.text for block in m.content if getattr(block, "type", "") == "text") for m in messages]
        usage = Usage(sum(m.usage.input_tokens for m in messages), sum(m.usage.output_tokens for m in messages))
        return ChatResponse(texts=texts, model=messages[0].model, usage=usage, logprobs=None,
                            finish_reasons=[m.stop_reason or "" for m in messages])

    async def aclose(self) -> None:
        await self._clients.aclose()

"""Bounded concurrency and retries with exponential backoff + full jitter on transient failures."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from overseer.errors import ConfigurationError, InvalidInputError
from overseer.models.chat.base import (
    ChatModel,
    ChatProviderError,
    ChatRequest,
    ChatResponse,
    TransientChatError,
    WrappedChatModel,
)


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@contextmanager
def translated_sdk_errors(errors: ModuleType, spec: str, key_checker: str) -> Iterator[None]:
    """Map the openai/anthropic SDKs' (same-named) errors onto overseer's: 429, 5xx (Anthropic's 529
    "overloaded" included) and dropped connections are transient, 401/403 a configuration error,
    anything else a rejected request."""
    try:
        yield
    except (errors.APIConnectionError, errors.APITimeoutError) as exc:
        raise TransientChatError(f"connection error: {exc}") from exc
    except errors.APIStatusError as exc:
        if exc.status_code == 429 or exc.status_code >= 500:
            raise TransientChatError(str(exc), exc.status_code, _retry_after(exc)) from exc
        if exc.status_code in (401, 403):
            raise ConfigurationError(f"{spec}: {key_checker} rejected the API key ({exc}).") from exc
        raise ChatProviderError(f"{spec}: the request was rejected with status {exc.status_code}: {exc}") from exc


class RetryingChatModel(WrappedChatModel):
    """At most `max_concurrency` requests in flight; a `TransientChatError` (429, 5xx, connection)
    is retried up to `max_retries` times, waiting `uniform(0, min(max_delay, base_delay * 2**attempt))`
    (or the server's Retry-After, if longer and within `max_delay`)."""

    def __init__(self, inner: ChatModel, max_concurrency: int = 4, max_retries: int = 5,
                 base_delay: float = 0.5, max_delay: float = 30.0, rng: random.Random | None = None) -> None:
        super().__init__(inner)
        if max_concurrency < 1:
            raise InvalidInputError(f"max_concurrency must be >= 1, got {max_concurrency}.")
        if max_retries < 0:
            raise InvalidInputError(f"max_retries must be >= 0, got {max_retries}.")
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._rng = rng or random.Random()
        self._semaphore: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.retries = 0

    def _sem(self) -> asyncio.Semaphore:
        # A semaphore belongs to one event loop; CLI code may run several `asyncio.run` in a row.
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._loop is not loop:
            self._semaphore, self._loop = asyncio.Semaphore(self.max_concurrency), loop
        return self._semaphore

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        delay = self._rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** attempt))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_delay))
        return delay

    async def _complete(self, request: ChatRequest) -> ChatResponse:
        async with self._sem():
            attempt = 0
            while True:
                try:
                    return await self.inner.complete_request(request)
                except TransientChatError as exc:
                    if attempt >= self.max_retries:
                        raise ChatProviderError(
                            f"{self.spec}: request failed {attempt + 1} times, last with {exc} "
                            f"(status {exc.status}). The endpoint is overloaded or down: retry later, "
                            "lower --concurrency, or raise max_retries."
                        ) from exc
                    await asyncio.sleep(self.backoff(attempt, exc.retry_after))
                    attempt += 1
                    self.retries += 1

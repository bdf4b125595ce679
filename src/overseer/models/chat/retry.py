"""Bounded concurrency and retries with exponential backoff + full jitter on transient failures."""

from __future__ import annotations

import asyncio
import random

from overseer.errors import InvalidInputError
from overseer.models.chat.base import (
    ChatModel,
    ChatProviderError,
    ChatRequest,
    ChatResponse,
    TransientChatError,
    WrappedChatModel,
)


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

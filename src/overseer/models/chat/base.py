"""The one async chat interface every provider implements, and the request/response types it speaks."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from overseer.errors import InvalidInputError, OverseerError

ROLES = ("system", "user", "assistant")


class ChatProviderError(OverseerError):
    """A provider kept failing (rate limits, server errors, dropped connections) after every retry,
    or rejected a request outright."""


class TransientChatError(Exception):
    """A failure worth retrying (429, 5xx, connection error). Providers raise it; `retry.py` handles it."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


MAX_TOP_LOGPROBS = 20  # OpenAI's limit for top_logprobs
MAX_STOP_SEQUENCES = 4  # OpenAI's limit for stop


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token's log-probability and, when asked for, the most likely alternatives at
    that position (`top`: (token, logprob) pairs, most likely first; the generated token may be among them)."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ChatRequest:
    """Everything that determines a response; its `key` is what the cache stores it under."""

    messages: tuple[tuple[str, str], ...]
    temperature: float = 0.0
    max_tokens: int = 256
    n: int = 1
    seed: int | None = None
    logprobs: bool = False
    top_logprobs: int = 0  # alternatives per generated token; implies logprobs
    stop: tuple[str, ...] = ()  # generation ends before the first of these texts (which is not returned)
    top_p: float = 1.0  # nucleus sampling; only used when temperature > 0
    # Texts whose first tokens' log-probabilities at the reply's first position come back exactly in
    # `ChatResponse.candidate_logprobs` (e.g. Yes/No forms), however unlikely; top_logprobs stops at 20.
    candidates: tuple[str, ...] = ()

    @classmethod
    def build(cls, messages: Any, temperature: float = 0.0, max_tokens: int = 256, n: int = 1,
              seed: int | None = None, logprobs: bool = False, top_logprobs: int = 0,
              stop: str | list[str] | tuple[str, ...] | None = None, top_p: float = 1.0,
              candidates: list[str] | tuple[str, ...] | None = None) -> ChatRequest:
        if isinstance(messages, str):
            messages = [{"role": "user", "content": messages}]
        if not isinstance(messages, list | tuple) or not messages:
            raise InvalidInputError("messages must be a non-empty list of {'role', 'content'} dicts (or one string).")
        pairs = []
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or "role" not in message or "content" not in message:
                raise InvalidInputError(f"message {i} must be a dict with 'role' and 'content', got {message!r}.")
            if message["role"] not in ROLES:
                raise InvalidInputError(f"message {i} has role {message['role']!r}; use one of {', '.join(ROLES)}.")
            if not isinstance(message["content"], str):
                raise InvalidInputError(f"message {i} content must be a string.")
            pairs.append((message["role"], message["content"]))
        if not math.isfinite(temperature) or temperature < 0:
            raise InvalidInputError(f"temperature must be a finite number >= 0, got {temperature}.")
        if max_tokens < 1:
            raise InvalidInputError(f"max_tokens must be >= 1, got {max_tokens}.")
        if n < 1:
            raise InvalidInputError(f"n must be >= 1, got {n}.")
        if not 0 <= top_logprobs <= MAX_TOP_LOGPROBS:
            raise InvalidInputError(f"top_logprobs must be between 0 and {MAX_TOP_LOGPROBS}, got {top_logprobs}.")
        stops = (stop,) if isinstance(stop, str) else tuple(stop or ())
        if len(stops) > MAX_STOP_SEQUENCES or not all(isinstance(s, str) and s for s in stops):
            raise InvalidInputError(f"stop must be up to {MAX_STOP_SEQUENCES} non-empty strings, got {stop!r}.")
        if not 0 < top_p <= 1:
            raise InvalidInputError(f"top_p must be in (0, 1], got {top_p}.")
        options = tuple(candidates or ())
        if not all(isinstance(c, str) and c for c in options):
            raise InvalidInputError(f"candidates must be non-empty strings, got {candidates!r}.")
        return cls(tuple(pairs), float(temperature), int(max_tokens), int(n),
                   None if seed is None else int(seed), bool(logprobs or top_logprobs), int(top_logprobs),
                   stops, float(top_p), options)

    def message_dicts(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.messages]

    def to_dict(self) -> dict[str, Any]:
        out = {"messages": self.message_dicts(), "temperature": self.temperature, "max_tokens": self.max_tokens,
               "n": self.n, "seed": self.seed, "logprobs": self.logprobs}
        if self.top_logprobs:  # only when set, so caches written before top_logprobs existed keep their keys
            out["top_logprobs"] = self.top_logprobs
        if self.stop:
            out["stop"] = list(self.stop)
        if self.top_p != 1.0:
            out["top_p"] = self.top_p
        if self.candidates:
            out["candidates"] = list(self.candidates)
        return out

    def key(self, provider: str, model: str) -> str:
        payload = {"provider": provider, "model": model, **self.to_dict()}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class ChatResponse:
    texts: list[str]
    model: str
    usage: Usage = field(default_factory=Usage)
    logprobs: list[list[TokenLogprob]] | None = None
    finish_reasons: list[str] = field(default_factory=list)
    cached: bool = False
    # first token of each requested candidate (decoded) -> its exact log-probability at the reply's first
    # position, the same for every choice; None when the request named no candidates or the provider
    # cannot read them (see `ChatModel.supports_candidates`)
    candidate_logprobs: dict[str, float] | None = None

    @property
    def text(self) -> str:
        return self.texts[0]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["usage"]["total_tokens"] = self.usage.total_tokens
        if self.candidate_logprobs is None:  # responses without candidates keep their old form
            del out["candidate_logprobs"]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChatResponse:
        usage = data.get("usage") or {}
        logprobs = data.get("logprobs")
        return cls(
            texts=list(data["texts"]), model=data["model"],
            usage=Usage(int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))),
            logprobs=None if logprobs is None else [
                [TokenLogprob(t["token"], float(t["logprob"]), tuple((a, float(b)) for a, b in t.get("top", ())))
                 for t in choice] for choice in logprobs],
            finish_reasons=list(data.get("finish_reasons", [])), cached=bool(data.get("cached", False)),
            candidate_logprobs=None if data.get("candidate_logprobs") is None else {
                str(k): float(v) for k, v in data["candidate_logprobs"].items()},
        )


class ChatModel(ABC):
    """Messages in; texts, optional token log-probabilities and usage out.

    Subclasses implement `_complete(request)` and, where a cheap check exists, `preflight()`
    (missing key, unreachable endpoint -> `ConfigurationError` before any work starts).
    """

    provider: str = "base"
    model: str = ""
    #: whether responses can carry token log-probabilities (and top alternatives)
    supports_logprobs: bool = True
    #: whether a request's `candidates` come back exactly in `candidate_logprobs` (local models); others
    #: ignore them, and a caller falls back to the top log-probabilities or the text
    supports_candidates: bool = False

    @property
    def spec(self) -> str:
        return f"{self.provider}:{self.model}"

    @property
    def cache_identity(self) -> str:
        """What the response cache keys on besides the request: the model's name, unless the provider knows
        more (a local model adds a fingerprint of its weights and steering, so a retrain never hits old replies)."""
        return self.model

    async def complete(self, messages: Any, temperature: float = 0.0, max_tokens: int = 256, n: int = 1,
                       seed: int | None = None, logprobs: bool = False, top_logprobs: int = 0,
                       stop: str | list[str] | None = None, top_p: float = 1.0) -> ChatResponse:
        request = ChatRequest.build(messages, temperature, max_tokens, n, seed, logprobs, top_logprobs, stop, top_p)
        return await self.complete_request(request)

    async def complete_request(self, request: ChatRequest) -> ChatResponse:
        return await self._complete(request)

    @abstractmethod
    async def _complete(self, request: ChatRequest) -> ChatResponse: ...

    async def preflight(self) -> None:
        """Raise `ConfigurationError` if this model cannot possibly answer; cheap, no generation."""
        return None

    async def aclose(self) -> None:
        """Release network clients; safe to call more than once."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"


class LoopBoundClients:
    """One async SDK client per event loop: an httpx connection pool cannot outlive the loop that made it,
    and scripts (and the CLI) may call `asyncio.run` more than once with the same model."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._clients: dict[int, tuple[asyncio.AbstractEventLoop, Any]] = {}

    def get(self) -> Any:
        loop = asyncio.get_running_loop()
        for key, (other, _) in list(self._clients.items()):
            if other.is_closed():
                del self._clients[key]
        if id(loop) not in self._clients:
            self._clients[id(loop)] = (loop, self._factory())
        return self._clients[id(loop)][1]

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        entry = self._clients.pop(id(loop), None)
        if entry is not None:
            await entry[1].close()


class WrappedChatModel(ChatModel):
    """A model that delegates to `inner` (cache, retries); spec, provider and model are the inner one's."""

    def __init__(self, inner: ChatModel) -> None:
        self.inner = inner

    @property
    def provider(self) -> str:  # type: ignore[override]
        return self.inner.provider

    @property
    def model(self) -> str:  # type: ignore[override]
        return self.inner.model

    @property
    def spec(self) -> str:
        return self.inner.spec

    @property
    def cache_identity(self) -> str:
        return self.inner.cache_identity

    @property
    def supports_logprobs(self) -> bool:  # type: ignore[override]
        return self.inner.supports_logprobs

    @property
    def supports_candidates(self) -> bool:  # type: ignore[override]
        return self.inner.supports_candidates

    async def _complete(self, request: ChatRequest) -> ChatResponse:
        return await self.inner.complete_request(request)

    async def preflight(self) -> None:
        await self.inner.preflight()

    async def aclose(self) -> None:
        await self.inner.aclose()

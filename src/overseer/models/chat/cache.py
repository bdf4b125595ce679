"""On-disk response cache (SQLite): reruns cost nothing and a killed run keeps every finished response."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
import time
from pathlib import Path

from overseer.errors import ConfigurationError
from overseer.models.chat.base import ChatModel, ChatRequest, ChatResponse, WrappedChatModel

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL
)
"""


class ResponseCache:
    """Responses keyed by a hash of (provider, model, messages, every sampling parameter).

    Each response is committed as soon as it arrives, so killing a run loses at most the
    requests still in flight. Sampled responses (temperature > 0) are cached too: a rerun
    returns the same sample, which is what makes a rerun free and reproducible.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigurationError(f"cannot open the response cache at {self.path} ({exc}); "
                                     "pass a writable path (or no cache).") from exc
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> ChatResponse | None:
        with self._lock:
            row = self._conn.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        response = ChatResponse.from_dict(json.loads(row[0]))
        response.cached = True
        return response

    def put(self, key: str, provider: str, model: str, request: ChatRequest, response: ChatResponse) -> None:
        data = response.to_dict()
        data["cached"] = False
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?)",
                (key, provider, model, json.dumps(request.to_dict()),
                 json.dumps(data), time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


CACHE_ENV = "OVERSEER_CHAT_CACHE"
_OFF = ("", "0", "off", "none", "false")
_shared: dict[Path, ResponseCache] = {}


def default_cache_path() -> Path | None:
    """Where chat responses are cached unless told otherwise: $OVERSEER_CHAT_CACHE, or
    ~/.cache/overseer/chat-cache.sqlite (under $OVERSEER_CACHE if set); None when the variable says off."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        return None if value.strip().lower() in _OFF else Path(value).expanduser()
    from overseer.models.embedded import cache_root

    return cache_root() / "chat-cache.sqlite"


def shared_cache() -> ResponseCache | None:
    """One open `ResponseCache` per default path for the whole process (None when caching is off)."""
    path = default_cache_path()
    if path is None:
        return None
    if path not in _shared:
        _shared[path] = ResponseCache(path)
    return _shared[path]


class CachedChatModel(WrappedChatModel):
    """Answer from the cache when the exact request was seen before; otherwise ask `inner` and store."""

    def __init__(self, inner: ChatModel, cache: ResponseCache | str | Path) -> None:
        super().__init__(inner)
        self.cache = cache if isinstance(cache, ResponseCache) else ResponseCache(cache)
        self._in_flight: dict[str, asyncio.Future[ChatResponse]] = {}

    async def _complete(self, request: ChatRequest) -> ChatResponse:
        key = request.key(self.provider, self.cache_identity)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        # An identical request already on its way (same prompt twice in one batch) is awaited, not re-sent.
        pending = self._in_flight.get(key)
        if pending is not None and pending.get_loop() is asyncio.get_running_loop():
            response = await asyncio.shield(pending)
            return ChatResponse.from_dict({**response.to_dict(), "cached": True})
        future: asyncio.Future[ChatResponse] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            response = await self.inner.complete_request(request)
            self.cache.put(key, self.provider, self.model, request, response)
            future.set_result(response)
            return response
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: nobody may be waiting
            raise
        finally:
            self._in_flight.pop(key, None)

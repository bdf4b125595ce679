"""A real `overseer serve` app on 127.0.0.1 (tiny random Llama), wrapped in an ASGI layer that counts
chat requests and can inject failures, so tests see exactly what reached the server."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import pytest

from overseer.models.chat.local import LocalChatModel
from overseer.serve import create_app, start_in_thread

from helpers.tiny_models import tiny_model


@dataclass
class Faults:
    fail_first: int = 0          # answer the first N chat requests with `status`
    status: int = 429
    reject_after: int | None = None  # after this many served chat requests, answer 400 (an "interrupted" run)


@dataclass
class RequestLog:
    received: int = 0
    served: int = 0
    bodies: Counter = field(default_factory=Counter)  # served request bodies (canonical JSON) -> count


class CountingFaultLayer:
    def __init__(self, app, faults: Faults, log: RequestLog) -> None:
        self.app, self.faults, self.log = app, faults, log

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != "/v1/chat/completions":
            return await self.app(scope, receive, send)
        self.log.received += 1
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        faults = self.faults
        if self.log.received <= faults.fail_first:
            return await _respond(send, faults.status, {"error": {"message": "injected failure"}},
                                  {"retry-after": "0"})
        if faults.reject_after is not None and self.log.served >= faults.reject_after:
            return await _respond(send, 400, {"error": {"message": "injected interruption"}})

        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:  # after the body: whatever the client does next (a disconnect)
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = {}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            # Count before the last byte goes out: once the client has the reply, the count must show it.
            last = message["type"] == "http.response.body" and not message.get("more_body", False)
            if last and status.get("code") == 200:
                self.log.served += 1
                self.log.bodies[json.dumps(json.loads(body), sort_keys=True)] += 1
            await send(message)

        await self.app(scope, replay, send_wrapper)


async def _respond(send, status: int, payload: dict, headers: dict | None = None) -> None:
    raw = json.dumps(payload).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    head += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": raw})


class LoopbackServer:
    def __init__(self, chat=None, name: str = "tiny") -> None:
        self.chat = chat or LocalChatModel(tiny_model("llama"), name=name)
        self.faults = Faults()
        self.log = RequestLog()
        app = CountingFaultLayer(create_app(self.chat, model_name=name), self.faults, self.log)
        self.handle = start_in_thread(app)
        self.name = name

    @property
    def base_url(self) -> str:
        return self.handle.base_url

    @property
    def spec(self) -> str:
        return f"openai-compatible:{self.base_url}#{self.name}"

    def reset(self) -> None:
        self.faults.fail_first, self.faults.reject_after = 0, None
        self.log.received = self.log.served = 0
        self.log.bodies.clear()

    def stop(self) -> None:
        self.handle.stop()


@pytest.fixture(scope="session")
def loopback():
    server = LoopbackServer()
    yield server
    server.stop()


@pytest.fixture
def server(loopback):
    loopback.reset()
    yield loopback
    loopback.reset()

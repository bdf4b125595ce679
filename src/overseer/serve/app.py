"""A chat model (usually a local, possibly steered HF model) behind an OpenAI-compatible HTTP API."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, Field

from overseer.errors import OverseerError
from overseer.models.chat.base import MAX_TOP_LOGPROBS, ChatModel, ChatRequest, ChatResponse

# How often a pending completion checks whether its client is still there.
DISCONNECT_POLL_S = 0.2


class Message(BaseModel):
    role: str
    content: str


class ChatCompletionBody(BaseModel):
    model: str | None = None
    messages: list[Message]
    temperature: float = 1.0
    max_tokens: int | None = Field(default=None)
    max_completion_tokens: int | None = None
    n: int = 1
    seed: int | None = None
    logprobs: bool = False
    top_logprobs: int | None = None
    stream: bool = False


def create_app(chat: ChatModel, model_name: str | None = None, default_max_tokens: int = 256,
               max_n: int = 16) -> FastAPI:
    """`/v1/models` and `/v1/chat/completions` in OpenAI's schema (usage, n, seed, temperature,
    max_tokens, logprobs and top_logprobs). Streaming is not supported. A client that disconnects
    stops its generation (status 499 is logged for it)."""
    name = model_name or chat.model
    app = FastAPI(title=f"overseer serve: {name}")
    created = int(time.time())

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": name, "object": "model", "created": created, "owned_by": "overseer"}]}

    @app.post("/v1/chat/completions")
    async def chat_completions(body: ChatCompletionBody, http_request: Request) -> Any:
        if body.stream:
            raise HTTPException(400, "stream=true is not supported by overseer serve; send stream=false.")
        if body.model not in (None, name):
            raise HTTPException(404, f"model {body.model!r} is not served here; this server serves {name!r}.")
        if body.n > max_n:
            raise HTTPException(400, f"n={body.n} is above this server's limit of {max_n}.")
        if body.top_logprobs and not body.logprobs:
            raise HTTPException(400, "top_logprobs needs logprobs=true.")
        if body.top_logprobs is not None and not 0 <= body.top_logprobs <= MAX_TOP_LOGPROBS:
            raise HTTPException(400, f"top_logprobs must be between 0 and {MAX_TOP_LOGPROBS}.")
        max_tokens = body.max_completion_tokens or body.max_tokens or default_max_tokens
        try:
            request = ChatRequest.build([m.model_dump() for m in body.messages], body.temperature, max_tokens,
                                        body.n, body.seed, body.logprobs, body.top_logprobs or 0)
            response = await _unless_disconnected(chat.complete_request(request), http_request)
        except OverseerError as exc:
            raise HTTPException(400, str(exc)) from exc
        if response is None:
            return Response(status_code=499)
        choices = []
        for i, text in enumerate(response.texts):
            choice: dict[str, Any] = {
                "index": i, "message": {"role": "assistant", "content": text},
                "finish_reason": response.finish_reasons[i] if i < len(response.finish_reasons) else "stop",
                "logprobs": None,
            }
            if response.logprobs is not None:
                choice["logprobs"] = {"content": [
                    {"token": t.token, "logprob": t.logprob, "bytes": list(t.token.encode()),
                     "top_logprobs": [{"token": a, "logprob": b, "bytes": list(a.encode())} for a, b in t.top]}
                    for t in response.logprobs[i]]}
            choices.append(choice)
        usage = response.usage
        return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
                "model": name, "choices": choices,
                "usage": {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                          "total_tokens": usage.total_tokens}}

    return app


async def _unless_disconnected(completion: Any, http_request: Request) -> ChatResponse | None:
    """Await `completion`, cancelling it (None) if the client goes away first."""
    task = asyncio.ensure_future(completion)
    while True:
        done, _ = await asyncio.wait([task], timeout=DISCONNECT_POLL_S)
        if done:
            return task.result()
        if await http_request.is_disconnected():
            task.cancel()
            await asyncio.wait([task])
            return None

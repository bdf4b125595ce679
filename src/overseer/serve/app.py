"""A chat model (usually a local, possibly steered HF model) behind OpenAI's chat-completions API."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from overseer.errors import OverseerError
from overseer.models.chat.base import ChatModel, ChatRequest, ChatResponse
from overseer.serve.auth import BearerAuth
from overseer.serve.schema import APIError, ChatCompletionBody, to_chat_request

# How often a pending (non-streamed) completion checks whether its client is still there.
DISCONNECT_POLL_S = 0.2


def create_app(chat: ChatModel, model_name: str | None = None, default_max_tokens: int = 256,
               max_n: int = 16, api_key: str | None = None) -> FastAPI:
    """`/v1/models` and `/v1/chat/completions` as OpenAI serves them: streaming (server-sent events,
    `stream_options.include_usage`), n, seed, temperature, top_p, stop, max_tokens, logprobs and
    top_logprobs; OpenAI's validation, error bodies and status codes. With `api_key`, every request needs
    `Authorization: Bearer <api_key>`. A client that disconnects stops its generation."""
    name = model_name or chat.model
    app = FastAPI(title=f"overseer serve: {name}")
    created = int(time.time())
    card = {"id": name, "object": "model", "created": created, "owned_by": "overseer"}
    if api_key:
        app.add_middleware(BearerAuth, api_key=api_key)
    _install_error_handlers(app)

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        return {"object": "list", "data": [card]}

    @app.get("/v1/models/{model_id:path}")
    async def retrieve_model(model_id: str) -> dict[str, Any]:
        if model_id != name:
            raise _model_not_found(model_id)
        return card

    @app.post("/v1/chat/completions")
    async def chat_completions(body: ChatCompletionBody, http_request: Request) -> Any:
        if body.model not in (None, name):
            raise _model_not_found(body.model)
        request = to_chat_request(body, default_max_tokens, max_n, getattr(chat, "supports_tools", False))
        completion_id, now = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            chunks = _stream(chat, request, _Chunker(completion_id, now, name, include_usage))
            return StreamingResponse(chunks, media_type="text/event-stream",
                                     headers={"cache-control": "no-cache", "x-accel-buffering": "no"})
        response = await _unless_disconnected(_complete(chat, request), http_request)
        if response is None:
            return Response(status_code=499)
        return {"id": completion_id, "object": "chat.completion", "created": now, "model": name,
                "system_fingerprint": None, "choices": [_choice(response, i) for i in range(len(response.texts))],
                "usage": _usage(response)}

    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def api_error(request: Request, exc: APIError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request body"}
        loc = [str(p) if isinstance(p, str) else f"[{p}]" for p in first.get("loc", ()) if p != "body"]
        param = ".".join(loc) or None
        message = (f"Invalid '{param}': {first.get('msg')}." if param else
                   "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
                   "your HTTP library correctly. The OpenAI API expects a JSON payload.)")
        return JSONResponse(APIError(400, message, param, "invalid_value" if param else None).body(), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = (f"Unknown request URL: {request.method} {request.url.path}." if exc.status_code == 404
                   else str(exc.detail))
        code = "unknown_url" if exc.status_code == 404 else None
        return JSONResponse(APIError(exc.status_code, message, None, code).body(), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        error = APIError(500, f"The server had an error while processing your request ({type(exc).__name__}: {exc}).")
        return JSONResponse(error.body(), status_code=500)


def _model_not_found(model: str | None) -> APIError:
    return APIError(404, f"The model `{model}` does not exist or you do not have access to it.", "model",
                    "model_not_found")


async def _complete(chat: ChatModel, request: ChatRequest) -> ChatResponse:
    try:
        return await chat.complete_request(request)
    except APIError:
        raise
    except Exception as exc:
        raise APIError(400 if isinstance(exc, OverseerError) else 500, str(exc)) from exc


def _choice(response: ChatResponse, i: int) -> dict[str, Any]:
    return {"index": i, "message": {"role": "assistant", "content": response.texts[i], "refusal": None},
            "finish_reason": response.finish_reasons[i] if i < len(response.finish_reasons) else "stop",
            "logprobs": _logprobs(response, i)}


def _logprobs(response: ChatResponse, i: int) -> dict[str, Any] | None:
    if response.logprobs is None:
        return None
    return {"content": [
        {"token": t.token, "logprob": t.logprob, "bytes": list(t.token.encode()),
         "top_logprobs": [{"token": a, "logprob": b, "bytes": list(a.encode())} for a, b in t.top]}
        for t in response.logprobs[i]], "refusal": None}


def _usage(response: ChatResponse) -> dict[str, int]:
    usage = response.usage
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens}


class _Chunker:
    """`chat.completion.chunk` server-sent events, shaped as OpenAI sends them."""

    def __init__(self, completion_id: str, created: int, model: str, include_usage: bool) -> None:
        self.base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                     "system_fingerprint": None}
        self.include_usage = include_usage

    def event(self, choices: list[dict[str, Any]], usage: dict[str, int] | None = None, last: bool = False) -> str:
        payload = {**self.base, "choices": choices}
        if self.include_usage:
            payload["usage"] = usage if last else None
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    def delta(self, index: int, delta: dict[str, Any], finish: str | None = None,
              logprobs: dict[str, Any] | None = None) -> str:
        return self.event([{"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}])


async def _stream(chat: ChatModel, request: ChatRequest, chunker: _Chunker) -> AsyncIterator[str]:
    """Role, then text deltas as they are generated, then each choice's finish (with its log-probabilities,
    when asked for), usage when asked for, and [DONE]. Models without token streaming send their text in one
    delta. If the client leaves, the generator is closed and the generation cancelled."""
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    stream = getattr(chat, "stream", None)
    work = asyncio.ensure_future(stream(request, lambda i, text: queue.put_nowait((i, text))) if stream
                                 else _complete(chat, request))
    try:
        for i in range(request.n):
            yield chunker.delta(i, {"role": "assistant", "content": "", "refusal": None})
        while not (work.done() and queue.empty()):
            getter = asyncio.ensure_future(queue.get())
            await asyncio.wait([getter, work], return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                i, text = getter.result()
                yield chunker.delta(i, {"content": text})
            else:
                getter.cancel()
        try:
            response = work.result()
        except Exception as exc:  # noqa: BLE001  (the status line is sent: report the error in the stream)
            error = exc if isinstance(exc, APIError) else APIError(400 if isinstance(exc, OverseerError) else 500,
                                                                   str(exc))
            yield f"data: {json.dumps(error.body())}\n\n"
            return
        for i, text in enumerate(response.texts):
            if not stream and text:
                yield chunker.delta(i, {"content": text})
            finish = response.finish_reasons[i] if i < len(response.finish_reasons) else "stop"
            yield chunker.delta(i, {}, finish, _logprobs(response, i))
        if chunker.include_usage:
            yield chunker.event([], _usage(response), last=True)
        yield "data: [DONE]\n\n"
    finally:
        if not work.done():
            work.cancel()


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

"""The OpenAI chat-completions request body, validated as OpenAI validates it, and OpenAI's error shape."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict

from overseer.errors import OverseerError
from overseer.models.chat.base import MAX_STOP_SEQUENCES, MAX_TOP_LOGPROBS, ChatRequest

# Accepted and ignored: they change nothing about what a single local model generates.
IGNORED_FIELDS = ("user", "metadata", "store", "service_tier", "parallel_tool_calls", "modalities",
                  "prediction", "reasoning_effort", "safety_identifier", "prompt_cache_key", "web_search_options")
ROLE_ALIASES = {"developer": "system", "system": "system", "user": "user", "assistant": "assistant"}


class APIError(Exception):
    """An error that the server answers with OpenAI's body: {"error": {message, type, param, code}}."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 type: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code
        self.type = type or ("invalid_request_error" if status < 500 else "server_error")

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls, refusal, ...: checked below
    role: str
    content: str | list[ContentPart] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include_usage: bool = False
    include_obfuscation: bool = False


class ChatCompletionBody(BaseModel):
    model_config = ConfigDict(extra="allow")  # unknown fields are rejected by name in `to_chat_request`
    model: str | None = None
    messages: list[Message]
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    n: int | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logit_bias: dict[str, float] | None = None
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    functions: list[dict[str, Any]] | None = None
    function_call: str | dict[str, Any] | None = None


def _range(body: ChatCompletionBody, name: str, low: float, high: float | None = None,
           low_open: bool = False) -> None:
    value = getattr(body, name)
    if value is None:
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise APIError(400, f"Invalid '{name}': expected a finite number, got {value}.", name, "invalid_value")
    kind = "integer" if isinstance(value, int) else "decimal"
    if value < low or (low_open and value == low):
        bound = f"> {low}" if low_open else f">= {low}"
        raise APIError(400, f"Invalid '{name}': {kind} below minimum value. Expected a value {bound}, but got "
                            f"{value} instead.", name, f"{kind}_below_min_value")
    if high is not None and value > high:
        raise APIError(400, f"Invalid '{name}': {kind} above maximum value. Expected a value <= {high}, but got "
                            f"{value} instead.", name, f"{kind}_above_max_value")


def _unsupported(param: str, what: str) -> APIError:
    return APIError(400, f"{what} is not supported by this model (overseer serve generates plain text); "
                         f"remove '{param}' from the request.", param, "unsupported_parameter")


def _check_features(body: ChatCompletionBody, supports_tools: bool) -> None:
    extra = sorted(set(body.model_extra or {}) - set(IGNORED_FIELDS))
    if extra:
        raise APIError(400, f"Unrecognized request argument supplied: {extra[0]}", extra[0], "unknown_parameter")
    if not supports_tools:
        for param in ("tools", "functions"):
            if getattr(body, param):
                raise _unsupported(param, "Tool calling")
        for param in ("tool_choice", "function_call"):
            if getattr(body, param) not in (None, "none"):
                raise _unsupported(param, "Tool calling")
    for param in ("presence_penalty", "frequency_penalty"):
        _range(body, param, -2.0, 2.0)
        if getattr(body, param):
            raise _unsupported(param, "A non-zero " + param)
    if body.logit_bias:
        raise _unsupported("logit_bias", "logit_bias")
    if body.response_format and body.response_format.get("type") != "text":
        raise _unsupported("response_format", f"response_format {body.response_format.get('type')!r}")


def _messages(body: ChatCompletionBody) -> list[dict[str, str]]:
    if not body.messages:
        raise APIError(400, "Invalid 'messages': empty array. Expected an array with minimum length 1.",
                       "messages", "empty_array")
    out = []
    for i, message in enumerate(body.messages):
        param = f"messages.[{i}]"
        if message.role in ("tool", "function"):
            raise _unsupported(f"{param}.role", f"A '{message.role}' message (tool calling)")
        if message.role not in ROLE_ALIASES:
            raise APIError(400, f"Invalid value: '{message.role}'. Supported values are: 'system', 'developer', "
                                "'user' and 'assistant'.", f"{param}.role", "invalid_value")
        if (message.model_extra or {}).get("tool_calls"):
            raise _unsupported(f"{param}.tool_calls", "An assistant message with tool_calls")
        content = message.content
        if isinstance(content, list):
            for j, part in enumerate(content):
                if part.type != "text" or part.text is None:
                    raise APIError(400, f"Invalid content part type '{part.type}': this model accepts text parts "
                                        "only ({\"type\": \"text\", \"text\": ...}).", f"{param}.content.[{j}]",
                                   "invalid_value")
            content = "".join(part.text or "" for part in content)
        if content is None:
            raise APIError(400, f"Invalid '{param}.content': expected a string or an array of text parts, got null.",
                           f"{param}.content", "invalid_type")
        out.append({"role": ROLE_ALIASES[message.role], "content": content})
    return out


def to_chat_request(body: ChatCompletionBody, default_max_tokens: int, max_n: int,
                    supports_tools: bool = False) -> ChatRequest:
    """The `ChatRequest` a body asks for, or an `APIError` saying (as OpenAI would) what is wrong."""
    _check_features(body, supports_tools)
    for name in ("max_tokens", "max_completion_tokens", "n"):
        _range(body, name, 1)
    _range(body, "temperature", 0.0, 2.0)
    _range(body, "top_p", 0.0, 1.0, low_open=True)
    _range(body, "top_logprobs", 0, MAX_TOP_LOGPROBS)
    if body.n is not None and body.n > max_n:
        raise APIError(400, f"Invalid 'n': this server generates at most {max_n} choices per request.", "n",
                       "integer_above_max_value")
    if body.top_logprobs and not body.logprobs:
        raise APIError(400, "Invalid 'top_logprobs': 'logprobs' must be set to true to use top_logprobs.",
                       "top_logprobs", "invalid_value")
    if body.stream_options is not None and not body.stream:
        raise APIError(400, "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                       "stream_options", "invalid_value")
    stops = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    if len(stops) > MAX_STOP_SEQUENCES:
        raise APIError(400, f"Invalid 'stop': array too long. Expected at most {MAX_STOP_SEQUENCES} items, got "
                            f"{len(stops)}.", "stop", "array_above_max_length")
    max_tokens = body.max_completion_tokens or body.max_tokens or default_max_tokens
    try:
        return ChatRequest.build(_messages(body), 1.0 if body.temperature is None else body.temperature,
                                 max_tokens, body.n or 1, body.seed, bool(body.logprobs), body.top_logprobs or 0,
                                 [s for s in stops if s], 1.0 if body.top_p is None else body.top_p)
    except OverseerError as exc:
        raise APIError(400, str(exc), None, "invalid_value") from exc

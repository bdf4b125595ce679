"""Tool calls in a local model's own chat-template format.

A Hugging Face chat template "has a tool format" when it reads the `tools` variable that
`tokenizer.apply_chat_template(messages, tools=[...])` passes it. For such a template, tool definitions,
earlier tool calls (`tool_calls` on assistant turns) and tool results (`tool` turns) are rendered by the
template itself, and the model's reply is parsed in the format the template teaches. The format is read off
the template text:

- `hermes` (Hermes, Qwen2/2.5/3 and other ChatML tool templates): `<tool_call>{"name": ..., "arguments":
  {...}}</tool_call>`, one block per call;
- `llama3-json` (Llama 3.1/3.2/3.3): the reply is one JSON object `{"name": ..., "parameters": {...}}`,
  optionally after `<|python_tag|>`;
- `mistral`: `[TOOL_CALLS][{"name": ..., "arguments": {...}}, ...]`.

The chat layer decodes with special tokens skipped, so a marker that is a special token
(`<|python_tag|>`, `[TOOL_CALLS]`) may be gone from the text: the parsers accept the bare JSON too.
A template with no tool format, or one whose format is none of these, gets overseer's JSON text protocol
instead (see `overseer.models.inspect_provider`). A call that cannot be read becomes a `ToolCall` with
`parse_error` set, which Inspect returns to the model as a tool error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inspect_ai.model import ChatMessage
from inspect_ai.tool import ToolCall, ToolChoice, ToolFunction, ToolInfo

from overseer.models.chat.base import ChatModel, ChatRequest, ChatResponse

logger = logging.getLogger(__name__)

HERMES, LLAMA3_JSON, MISTRAL = "hermes", "llama3-json", "mistral"
_FORMAT_MARKERS = ((HERMES, ("<tool_call>",)), (MISTRAL, ("[TOOL_CALLS]",)),
                   (LLAMA3_JSON, ("<|python_tag|>", "ipython")))


# ------------------------------------------------------------------------------------------- detection

def tool_template(tokenizer: Any) -> str | None:
    """The template `apply_chat_template(..., tools=[...])` would use (a named `tool_use` one first), or None."""
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):
        template = template.get("tool_use", template.get("default"))
    return template if isinstance(template, str) and template else None


def template_reads_tools(template: str) -> bool:
    """Whether a Jinja chat template reads the `tools` variable."""
    import jinja2
    from jinja2 import meta

    try:
        ast = jinja2.Environment(extensions=["jinja2.ext.loopcontrols"]).parse(template)
    except jinja2.TemplateSyntaxError:  # a tag only transformers' environment knows (e.g. {% generation %})
        return re.search(r"\btools\b", template) is not None
    return "tools" in meta.find_undeclared_variables(ast)


def template_tool_format(template: str | None) -> str | None:
    """`hermes`, `llama3-json` or `mistral` when the template has that tool format, else None."""
    if not template or not template_reads_tools(template):
        return None
    for name, markers in _FORMAT_MARKERS:
        if any(marker in template for marker in markers):
            return name
    return None


# ------------------------------------------------------------------------------------------- rendering

def tool_schemas(tools: list[ToolInfo]) -> list[dict[str, Any]]:
    """Tools as the OpenAI-style JSON schemas chat templates expect."""
    return [{"type": "function", "function": {"name": tool.name, "description": tool.description,
                                              "parameters": tool.parameters.model_dump(exclude_none=True)}}
            for tool in tools]


def template_call_id(call_id: str) -> str:
    """A call id as 9 letters and digits (Mistral's templates refuse any other), stable for a given id."""
    if re.fullmatch(r"[A-Za-z0-9]{9}", call_id or ""):
        return call_id
    return hashlib.sha1((call_id or "").encode()).hexdigest()[:9]


def template_messages(messages: list[ChatMessage], tool_choice: ToolChoice | None = None,
                      tools: list[ToolInfo] | None = None) -> list[dict[str, Any]]:
    """Inspect messages as the dicts chat templates read: assistant `tool_calls` and `tool` turns kept."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            body = f"error: {message.error.message}" if message.error is not None else message.text
            out.append({"role": "tool", "content": body, "name": message.function or "",
                        "tool_call_id": template_call_id(message.tool_call_id or "")})
        elif message.role == "assistant" and message.tool_calls:
            calls = [{"id": template_call_id(call.id), "type": "function",
                      "function": {"name": call.function, "arguments": call.arguments}}
                     for call in message.tool_calls]
            out.append({"role": "assistant", "content": message.text or "", "tool_calls": calls})
        else:
            out.append({"role": message.role, "content": message.text})
    demand = _choice_instruction(tool_choice) if tools else None
    if demand:
        if out and out[0]["role"] == "system":
            out[0] = {**out[0], "content": f"{out[0]['content']}\n\n{demand}"}
        else:
            out.insert(0, {"role": "system", "content": demand})
    return out


def _choice_instruction(tool_choice: ToolChoice | None) -> str | None:
    if isinstance(tool_choice, ToolFunction):
        return f"You must call the tool {tool_choice.name} now."
    return "You must call one of the tools now." if tool_choice == "any" else None


# --------------------------------------------------------------------------------------------- parsing

_HERMES_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)
_PYTHON_TAG = "<|python_tag|>"
_TOOL_CALLS = "[TOOL_CALLS]"


def new_call_id() -> str:
    return uuid.uuid4().hex[:9]


def call_from_payload(payload: Any, names: set[str], how: str) -> ToolCall:
    """A ToolCall from one decoded call object; anything wrong sets `parse_error` (`how` says the right form)."""
    if not isinstance(payload, dict):
        return ToolCall(new_call_id(), "unknown", {}, parse_error=f"a tool call must be a JSON object: {how}.")
    name = payload.get("name", payload.get("tool"))
    arguments = payload.get("arguments", payload.get("parameters", {}))
    if isinstance(arguments, str):  # some models write the arguments as a JSON string
        with contextlib.suppress(json.JSONDecodeError):
            arguments = json.loads(arguments)
    call_id = payload["id"] if isinstance(payload.get("id"), str) and payload["id"] else new_call_id()
    if not isinstance(name, str) or not name:
        return ToolCall(call_id, "unknown", {}, parse_error=f"the tool call names no tool: {how}.")
    if not isinstance(arguments, dict):
        return ToolCall(call_id, name, {}, parse_error=f"the arguments of {name} must be a JSON object: {how}.")
    if name not in names:
        return ToolCall(call_id, name, arguments,
                        parse_error=f"no tool named {name!r}; available: {', '.join(sorted(names)) or 'none'}.")
    return ToolCall(call_id, name, arguments)


def _bad_json(text: str, exc: json.JSONDecodeError, how: str) -> ToolCall:
    found = re.search(r'"(?:name|tool)"\s*:\s*"([^"]+)"', text)
    return ToolCall(new_call_id(), found.group(1) if found else "unknown", {},
                    parse_error=f"the tool call is not valid JSON ({exc.msg}): {how}.")


def parse_hermes(text: str, names: set[str]) -> tuple[str, list[ToolCall]]:
    """`<tool_call>{json}</tool_call>` blocks (an unclosed last block too, e.g. cut by max_tokens)."""
    how = 'write <tool_call>{"name": NAME, "arguments": {...}}</tool_call>'
    calls = []
    for match in _HERMES_BLOCK.finditer(text):
        block = match.group(1).strip()
        try:
            calls.append(call_from_payload(json.loads(block), names, how))
        except json.JSONDecodeError as exc:
            calls.append(_bad_json(block, exc, how))
    return _HERMES_BLOCK.sub("", text).strip(), calls


def parse_llama3_json(text: str, names: set[str]) -> tuple[str, list[ToolCall]]:
    """A reply that is one JSON call object `{"name": ..., "parameters": {...}}` (after `<|python_tag|>` if kept).

    Without the tag, a JSON object that has none of name/parameters/arguments is an ordinary answer."""
    how = 'reply with only {"name": NAME, "parameters": {...}}'
    tagged = _PYTHON_TAG in text
    head, _, body = text.partition(_PYTHON_TAG) if tagged else ("", "", text)
    body = body.strip()
    if not body.startswith("{"):
        return text.strip(), []
    try:
        payload, end = json.JSONDecoder().raw_decode(body)
    except json.JSONDecodeError as exc:
        if tagged or re.match(r'\{\s*"(?:name|parameters|arguments)"', body):
            return head.strip(), [_bad_json(body, exc, how)]
        return text.strip(), []
    if not tagged and not (isinstance(payload, dict) and {"name", "parameters", "arguments"} & set(payload)):
        return text.strip(), []
    rest = body[end:].strip()
    return " ".join(part for part in (head.strip(), rest) if part), [call_from_payload(payload, names, how)]


def parse_mistral(text: str, names: set[str]) -> tuple[str, list[ToolCall]]:
    """`[TOOL_CALLS][{...}, ...]`, or the bare JSON list when the marker was decoded away."""
    how = 'write [TOOL_CALLS][{"name": NAME, "arguments": {...}}]'
    tagged = _TOOL_CALLS in text
    head, _, body = text.partition(_TOOL_CALLS) if tagged else ("", "", text)
    body = body.strip()
    if not tagged and not re.match(r"\[\s*\{", body):
        return text.strip(), []
    try:
        payload, end = json.JSONDecoder().raw_decode(body)
    except json.JSONDecodeError as exc:
        if tagged or re.match(r'\[\s*\{\s*"(?:name|arguments)"', body):
            return head.strip(), [_bad_json(body, exc, how)]
        return text.strip(), []
    items = payload if isinstance(payload, list) else [payload]
    if not tagged and not all(isinstance(item, dict) and "name" in item for item in items):
        return text.strip(), []
    rest = body[end:].strip()
    return " ".join(part for part in (head.strip(), rest) if part), [call_from_payload(i, names, how) for i in items]


PARSERS: dict[str, Callable[[str, set[str]], tuple[str, list[ToolCall]]]] = {
    HERMES: parse_hermes, LLAMA3_JSON: parse_llama3_json, MISTRAL: parse_mistral}


# ---------------------------------------------------------------------------------------- the format

@dataclass
class NativeToolFormat:
    """A tokenizer whose chat template has a tool format it renders, and the parser for its replies."""

    tokenizer: Any
    name: str

    def render(self, messages: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice) -> str:
        """The prompt, by the template: tools offered, earlier calls and tool results in its own format."""
        return self.tokenizer.apply_chat_template(template_messages(messages, tool_choice, tools),
                                                  tools=tool_schemas(tools) or None, tokenize=False,
                                                  add_generation_prompt=True)

    def parse(self, text: str, tools: list[ToolInfo]) -> tuple[str, list[ToolCall]]:
        """(the reply's text outside its calls, one ToolCall per call; malformed ones carry `parse_error`)."""
        return PARSERS[self.name](text, {tool.name for tool in tools})


def detect_tool_format(tokenizer: Any) -> NativeToolFormat | None:
    """The native tool format of `tokenizer`'s chat template, or None (use the JSON text protocol)."""
    name = template_tool_format(tool_template(tokenizer))
    return None if name is None else NativeToolFormat(tokenizer, name)


def local_chat_model(chat: ChatModel) -> Any | None:
    """The local model (one with a tokenizer and `complete_prompt`) behind `chat`'s wrappers, if any."""
    while True:
        if hasattr(chat, "complete_prompt") and getattr(getattr(chat, "lm", None), "tokenizer", None) is not None:
            return chat
        inner = getattr(chat, "inner", None)
        if inner is None:
            return None
        chat = inner


def native_tool_format(chat: ChatModel) -> NativeToolFormat | None:
    """The native tool format of the local model behind `chat`; None for remote models and template-less ones."""
    local = local_chat_model(chat)
    return None if local is None else detect_tool_format(local.lm.tokenizer)


def uses_tools(messages: list[ChatMessage]) -> bool:
    """Whether the conversation already holds tool calls or tool results."""
    return any(m.role == "tool" or (m.role == "assistant" and m.tool_calls) for m in messages)


async def complete_rendered(chat: ChatModel, prompt: str, request: ChatRequest) -> ChatResponse:
    """Generate from an already-rendered prompt on the local model behind `chat` (batched like any request),
    through `chat`'s response cache when it has one, keyed on the prompt and `request`'s sampling settings."""
    from overseer.models.chat.cache import ResponseCache

    local = local_chat_model(chat)
    cache = getattr(chat, "cache", None)
    if not isinstance(cache, ResponseCache):
        return await local.complete_prompt(prompt, request)
    keyed = dataclasses.replace(request, messages=(("prompt", prompt),))
    key = keyed.key(f"{chat.provider}-rendered", chat.cache_identity)
    hit = cache.get(key)
    if hit is not None:
        return hit
    response = await local.complete_prompt(prompt, request)
    cache.put(key, chat.provider, chat.model, keyed, response)
    return response

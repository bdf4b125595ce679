"""Inspect AI model providers: `overseer/<NAME_OR_DIR>[?steer=DIR&layer=N]` and `overseer-policy/<name>[?k=v]`.

`overseer/...` serves a local Hugging Face model (the organism, SmolLM2, any Hub id or
`save_pretrained` directory, steered or not) through overseer's one chat layer
(`overseer.models.chat.local.LocalChatModel`); `overseer/<chat spec>` (e.g.
`overseer/openai-compatible:http://127.0.0.1:8000/v1#smollm2`) serves any other chat model of that
layer. Model args (`-M`): `cache=PATH` (SQLite response cache), `max_concurrency`, `max_retries`.
One chat model is loaded per spec and process, and
shared by every Inspect `Model` that names it (model roles included); concurrent `generate` calls
reach the chat layer concurrently, which batches them where it can.

GenerateConfig: `temperature` (None -> greedy), `top_p`, `max_tokens` (None -> 256), `stop_seqs`,
`seed`, `logprobs`, `top_logprobs`, `num_choices` are honoured: they go to the chat layer's
`ChatRequest`, and the provider also cuts each text at its first stop sequence (so a chat model
that does not stop there, or more stop sequences than the chat layer takes, still work).

Tool calls. A local model whose chat template has a tool format gets that format
(`overseer.models.tool_format`): the template renders the tools (`apply_chat_template(..., tools=...)`),
earlier calls (assistant `tool_calls`) and tool results (`tool` turns), and the reply is parsed in the
format read off the template: Hermes/Qwen `<tool_call>{"name": ..., "arguments": ...}</tool_call>`,
Llama 3.1 JSON `{"name": ..., "parameters": ...}` (after `<|python_tag|>` or bare), or Mistral
`[TOOL_CALLS][{"name": ..., "arguments": ...}]`. Every other model (a template with no `tools`, or a tool
format that is none of these, a template that fails to render the conversation, a remote chat model) gets the
JSON text protocol: when tools are on offer, the system message gains a list of the tools with their JSON
schemas and this instruction: to call a tool, write

    ```tool
    {"tool": "NAME", "arguments": {...}}
    ```

(one block per call; `{"name": ..., "arguments": ...}` and Hermes/Qwen-style
`<tool_call>{...}</tool_call>` are read too, since models trained on those formats write them).
Earlier calls are shown back to the model in the same format, and tool results come back as user turns
`[tool result <id> <function>] ...` (the chat layer speaks system/user/assistant only). SmolLM2 and the
organism have no tool format in their templates, so they use the JSON text protocol.
In either format each call becomes an Inspect `ToolCall`; a call that is not valid JSON, names no tool,
names a tool not on offer or carries non-object arguments becomes a `ToolCall` with `parse_error` set,
which Inspect returns to the model as a tool error (never an exception).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from typing import Any
from urllib.parse import parse_qs

from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    GenerateConfig,
    Logprob,
    Logprobs,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    TopLogprob,
)
from inspect_ai.tool import ToolCall, ToolChoice, ToolFunction, ToolInfo

from overseer.errors import ConfigurationError, InvalidInputError
from overseer.models.chat.base import MAX_STOP_SEQUENCES, ChatModel, ChatRequest, ChatResponse, TokenLogprob, Usage
from overseer.models.tool_format import (
    NativeToolFormat,
    call_from_payload,
    complete_rendered,
    native_tool_format,
    uses_tools,
)

logger = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 256
# Exact first-token log-probabilities of candidate texts (Inspect's GenerateConfig has no field for them):
# GenerateConfig(extra_body={CANDIDATES_KEY: ["Yes", "No"]}) -> ModelOutput.metadata[CANDIDATES_KEY], a dict
# {first token: log-probability}, where the chat model can read them (local models; see ChatRequest.candidates).
# Only overseer/ models take this key: other providers would send extra_body on to their API.
CANDIDATES_KEY = "overseer_candidates"

# --------------------------------------------------------------------------------------------- chat models

_CHAT_MODELS: dict[str, ChatModel] = {}
_CHAT_MODELS_LOCK = threading.Lock()


def shared_chat_model(name: str, cache: str | None = None, max_concurrency: int | str = 4,
                      max_retries: int | str = 5) -> ChatModel:
    """The process-wide chat model for `name`, built on first use.

    `name` is a local model (`NAME_OR_DIR[?steer=DIR&layer=N]`) or any chat spec
    (`openai:MODEL`, `openai-compatible:URL#MODEL`, `anthropic:MODEL`, `local:...`). `cache` is a
    SQLite response cache path; remote models also get retries with bounded concurrency."""
    from overseer.models.chat import CachedChatModel, base_chat_model, chat_model
    from overseer.models.chat.factory import PROVIDERS

    if not name:
        raise ConfigurationError("overseer/ needs a model: overseer/organism, overseer/smollm2, "
                                 "overseer/<hub-id-or-dir>[?steer=DIR&layer=N] or overseer/<chat spec>.")
    key = json.dumps([name, cache, int(max_concurrency), int(max_retries)]) if cache is not None else name
    with _CHAT_MODELS_LOCK:
        if key not in _CHAT_MODELS:
            spec = name if name.split(":", 1)[0] in PROVIDERS else f"local:{name}"
            if spec.startswith("local:"):
                model: ChatModel = base_chat_model(spec)  # the chat layer batches; no concurrency cap here
                _CHAT_MODELS[key] = model if cache is None else CachedChatModel(model, cache)
            else:
                _CHAT_MODELS[key] = chat_model(spec, cache=cache, max_concurrency=int(max_concurrency),
                                               max_retries=int(max_retries))
        return _CHAT_MODELS[key]


def register_chat_model(name: str, model: ChatModel) -> None:
    """Serve an already-built chat model as `overseer/<name>` (tests, a steered model built in code)."""
    with _CHAT_MODELS_LOCK:
        _CHAT_MODELS[name] = model


# ------------------------------------------------------------------------------------- message conversion

TOOL_BLOCK = re.compile(r"```(?:tool|json|tool_call)?[ \t]*\n(.*?)```|<tool_call>(.*?)</tool_call>", re.DOTALL)


def tool_instructions(tools: list[ToolInfo], tool_choice: ToolChoice) -> str:
    """The system-message text that offers `tools` under the JSON text protocol."""
    lines = ["You can call tools. Available tools:"]
    for tool in tools:
        schema = tool.parameters.model_dump(exclude_none=True)
        lines.append(f"- {tool.name}: {tool.description}\n  parameters (JSON schema): {json.dumps(schema)}")
    lines.append('To call a tool, reply with a fenced block:\n```tool\n{"tool": "NAME", "arguments": {...}}\n```\n'
                 "One block per call. The result comes back in the next message.")
    if isinstance(tool_choice, ToolFunction):
        lines.append(f"You must call the tool {tool_choice.name} now.")
    elif tool_choice == "any":
        lines.append("You must call one of the tools now.")
    return "\n".join(lines)


def format_tool_call(call: ToolCall) -> str:
    return f'```tool\n{json.dumps({"tool": call.function, "arguments": call.arguments})}\n```'


def to_chat_messages(messages: list[ChatMessage], tools: list[ToolInfo],
                     tool_choice: ToolChoice) -> list[dict[str, str]]:
    """Inspect messages as system/user/assistant dicts; consecutive turns of one role are merged."""
    out: list[dict[str, str]] = []

    def add(role: str, text: str) -> None:
        if out and out[-1]["role"] == role:
            out[-1]["content"] += "\n\n" + text
        else:
            out.append({"role": role, "content": text})

    for message in messages:
        if message.role == "tool":
            head = f"[tool result {message.tool_call_id or ''} {message.function or ''}]".replace("  ", " ")
            body = f"error: {message.error.message}" if message.error is not None else message.text
            add("user", f"{head} {body}")
        elif message.role == "assistant":
            parts = [message.text] if message.text else []
            parts += [format_tool_call(call) for call in message.tool_calls or []]
            add("assistant", "\n".join(parts))
        else:
            add(message.role, message.text)
    if tools and tool_choice != "none":
        offer = tool_instructions(tools, tool_choice)
        if out and out[0]["role"] == "system":
            out[0]["content"] += "\n\n" + offer
        else:
            out.insert(0, {"role": "system", "content": offer})
    return out


def parse_tool_calls(text: str, tools: list[ToolInfo]) -> tuple[str, list[ToolCall]]:
    """(text outside the tool blocks, one ToolCall per block); malformed blocks carry `parse_error`."""
    names = {tool.name for tool in tools}
    calls: list[ToolCall] = []
    for match in TOOL_BLOCK.finditer(text):
        calls.append(_parse_block((match.group(1) if match.group(1) is not None else match.group(2)).strip(), names))
    return TOOL_BLOCK.sub("", text).strip(), calls


def _parse_block(block: str, names: set[str]) -> ToolCall:
    call_id = f"call_{uuid.uuid4().hex[:12]}"
    try:
        payload = json.loads(block)
    except json.JSONDecodeError as exc:
        return ToolCall(call_id, _guess_name(block), {}, parse_error=f"tool call is not valid JSON ({exc.msg}); "
                        'write {"tool": NAME, "arguments": {...}} in a ```tool block.')
    if isinstance(payload, dict):
        payload = {"id": call_id, **payload, "name": payload.get("tool", payload.get("name"))}
    return call_from_payload(payload, names, 'write {"tool": NAME, "arguments": {...}} in a ```tool block')


def _guess_name(block: str) -> str:
    found = re.search(r'"(?:tool|name)"\s*:\s*"([^"]+)"', block)
    return found.group(1) if found else "unknown"


# ------------------------------------------------------------------------------------------- the provider

def _request_kwargs(config: GenerateConfig) -> dict[str, Any]:
    top_logprobs = config.top_logprobs or 0
    return {"temperature": config.temperature or 0.0, "max_tokens": config.max_tokens or DEFAULT_MAX_TOKENS,
            "n": config.num_choices or 1, "seed": config.seed, "logprobs": bool(config.logprobs or top_logprobs),
            "top_logprobs": top_logprobs}


def build_request(messages: list[dict[str, str]], config: GenerateConfig) -> ChatRequest:
    """A ChatRequest from an Inspect config (the chat layer takes up to MAX_STOP_SEQUENCES stop sequences;
    the provider cuts the text at any of them, so more work too)."""
    kwargs = _request_kwargs(config)
    kwargs["stop"] = tuple(config.stop_seqs or ())[:MAX_STOP_SEQUENCES]
    if config.top_p is not None:
        kwargs["top_p"] = config.top_p
    kwargs["candidates"] = (config.extra_body or {}).get(CANDIDATES_KEY)
    return ChatRequest.build(messages, **kwargs)


class OverseerModelAPI(ModelAPI):
    """`overseer/<NAME_OR_DIR>[?steer=DIR&layer=N]`: a local HF model through overseer's chat layer."""

    def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                 config: GenerateConfig = GenerateConfig(), **model_args: Any) -> None:
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key, api_key_vars=[], config=config)
        unknown = set(model_args) - {"cache", "max_concurrency", "max_retries"}
        if unknown:
            raise ConfigurationError(f"overseer/ models take the model args cache, max_concurrency and max_retries, "
                                     f"got {sorted(unknown)}; put steering in the name: overseer/NAME?steer=DIR.")
        self.chat = shared_chat_model(model_name, **model_args)
        self.tool_format: NativeToolFormat | None = native_tool_format(self.chat)
        if config.max_connections is None and config.adaptive_connections is None:
            # Inspect's adaptive concurrency starts at 20 requests in flight and ramps up, which splits a
            # burst of requests into several forward-pass batches; a local model wants a fixed, wide pool.
            config.max_connections = self.max_connections()

    async def generate(self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice,
                       config: GenerateConfig) -> ModelOutput:
        offered = tools if tool_choice != "none" else []
        request = build_request(to_chat_messages(input, offered, tool_choice), config)
        native = self._native_prompt(input, offered, tool_choice)
        if native is None:
            response = await self.chat.complete_request(request)
        else:
            response = await complete_rendered(self.chat, native, request)
        stops = list(config.stop_seqs or [])
        parse = self.tool_format.parse if native is not None and self.tool_format is not None else parse_tool_calls
        choices = [_choice(response, i, offered, stops, parse) for i in range(len(response.texts))]
        usage = ModelUsage(input_tokens=response.usage.prompt_tokens, output_tokens=response.usage.completion_tokens,
                           total_tokens=response.usage.total_tokens)
        metadata = {CANDIDATES_KEY: response.candidate_logprobs} if response.candidate_logprobs is not None else None
        return ModelOutput(model=self.model_name, choices=choices, usage=usage, metadata=metadata)

    def _native_prompt(self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice) -> str | None:
        """The prompt in the chat template's own tool format, or None where the JSON text protocol applies."""
        if self.tool_format is None or not (tools or uses_tools(input)):
            return None
        try:
            return self.tool_format.render(input, tools, tool_choice)
        except Exception as exc:  # noqa: BLE001  (a template's raise_exception, a role order it refuses)
            logger.warning("%s: the chat template could not render this conversation with tools (%s); "
                           "using the JSON text protocol for it.", self.model_name, exc)
            return None

    def max_connections(self) -> int:
        return 32  # local: concurrent requests are batched by the chat layer, not rate-limited

    async def count_text_tokens(self, text: str) -> int:
        lm = getattr(self.chat, "lm", None)
        if lm is None:
            return max(1, len(text) // 4)
        return len(lm.tokenizer.encode(text, add_special_tokens=False))


def _choice(response: ChatResponse, i: int, tools: list[ToolInfo], stops: list[str],
            parse: Any = None) -> ChatCompletionChoice:
    text = response.texts[i]
    reason = response.finish_reasons[i] if i < len(response.finish_reasons) else "stop"
    tokens = response.logprobs[i] if response.logprobs is not None else None
    cut = min((text.find(s) for s in stops if s and s in text), default=-1)
    if cut >= 0:
        text, reason = text[:cut], "stop"
        if tokens is not None:
            tokens = _tokens_within(tokens, cut)
    content, calls = (parse or parse_tool_calls)(text, tools) if tools else (text, [])
    stop_reason = "tool_calls" if calls else ("max_tokens" if reason == "length" else "stop")
    logprobs = None if tokens is None else Logprobs(content=[
        Logprob(token=t.token, logprob=t.logprob,
                top_logprobs=[TopLogprob(token=a, logprob=b) for a, b in t.top] if t.top else None)
        for t in tokens])
    message = ChatMessageAssistant(content=content, tool_calls=calls or None, model=response.model, source="generate")
    return ChatCompletionChoice(message=message, stop_reason=stop_reason, logprobs=logprobs)


def _tokens_within(tokens: list[Any], n_chars: int) -> list[Any]:
    kept, length = [], 0
    for token in tokens:
        if length >= n_chars:
            break
        kept.append(token)
        length += len(token.token)
    return kept


# ------------------------------------------------------------------------------------ scripted policies

def parse_policy_spec(spec: str) -> tuple[str, dict[str, str]]:
    """`name?k=v&k2=v2` -> (name, {k: v, k2: v2}); options stay strings (each policy converts them)."""
    name, _, query = spec.partition("?")
    options = {key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()}
    return name, options


def make_policy(spec: str) -> Any:
    """The policy instance for `name[?k=v...]`, its `name` set before its `__init__` runs."""
    from overseer.policies import POLICIES

    name, options = parse_policy_spec(spec)
    if not name:
        raise InvalidInputError(f"overseer-policy/ needs a policy name; available: {', '.join(POLICIES.names())}.")
    cls = POLICIES.get(name)
    policy = cls.__new__(cls)
    policy.name = name
    policy.__init__(**options)
    return policy


class PolicyModelAPI(ModelAPI):
    """`overseer-policy/<name>[?k=v...]`: a scripted reference policy from `overseer.policies.POLICIES`."""

    def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                 config: GenerateConfig = GenerateConfig(), **model_args: Any) -> None:
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key, api_key_vars=[], config=config)
        name, options = parse_policy_spec(model_name)
        self.policy = make_policy(model_name if not model_args else
                                  name + "?" + "&".join(f"{k}={v}" for k, v in {**options, **model_args}.items()))

    async def generate(self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice,
                       config: GenerateConfig) -> ModelOutput:
        output = await self.policy.respond(list(input), list(tools) if tool_choice != "none" else [], config)
        if not isinstance(output, ModelOutput):
            raise TypeError(f"policy {self.policy.name!r} returned {type(output).__name__}, not a ModelOutput; "
                            "build it with overseer.policies.policy_output.")
        output.model = self.model_name
        return output

    def max_connections(self) -> int:
        return 64

    async def count_text_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)  # no tokenizer; Inspect's default would fetch tiktoken files



# ------------------------------------------------------------------------ an Inspect model as a ChatModel

class InspectChatModel(ChatModel):
    """An Inspect `Model` behind overseer's chat interface, so code written against `ChatModel` (NSG's
    protocol, the elicitation attacks) runs inside Inspect solvers on whatever model a role names."""

    provider = "inspect"

    def __init__(self, model: Any) -> None:
        self.inspect_model = model
        self.model = str(model)

    @property
    def spec(self) -> str:
        return self.model

    async def _complete(self, request: ChatRequest) -> ChatResponse:
        from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser

        kinds = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}
        messages = [kinds[role](content=content) for role, content in request.messages]
        config = GenerateConfig(temperature=request.temperature, max_tokens=request.max_tokens, seed=request.seed,
                                num_choices=request.n if request.n > 1 else None,
                                logprobs=request.logprobs or None, top_logprobs=request.top_logprobs or None,
                                stop_seqs=list(request.stop) or None,
                                top_p=request.top_p if request.top_p < 1.0 else None)
        output = await self.inspect_model.generate(messages, config=config)
        texts = [choice.message.text for choice in output.choices] or [""]
        logprobs = None
        if request.logprobs:
            logprobs = [[TokenLogprob(lp.token, lp.logprob, tuple((t.token, t.logprob) for t in lp.top_logprobs or ()))
                         for lp in (choice.logprobs.content if choice.logprobs else [])] for choice in output.choices]
        usage = output.usage
        return ChatResponse(texts=texts, model=self.model,
                            usage=Usage(usage.input_tokens if usage else 0, usage.output_tokens if usage else 0),
                            logprobs=logprobs,
                            finish_reasons=["length" if c.stop_reason == "max_tokens" else "stop"
                                            for c in output.choices])

"""Native chat-template tool calls in the `overseer/` provider: detection, rendering, parsing, end to end.

The tool-capable templates under `templates/` were written for these tests from the published prompt formats
(Qwen2.5-Instruct's Hermes-style `<tools>`/`<tool_call>`/`<tool_response>` format; Llama 3.1's JSON tool
calling with the `ipython` role; Mistral-7B-Instruct-v0.3's `[AVAILABLE_TOOLS]`/`[TOOL_CALLS]`/`[TOOL_RESULTS]`),
not downloaded: they render the same text for system, user, assistant tool-call and tool turns. They are put
on real local tokenizers (SmolLM2's, the organism's) saved as ordinary tokenizer directories.
"""

import asyncio
import json
import logging
import shutil
from pathlib import Path

import pytest
from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import Sample
from inspect_ai.model import (
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    GenerateConfig,
)
from inspect_ai.scorer import includes
from inspect_ai.solver import generate, use_tools
from inspect_ai.tool import ToolCall, ToolInfo, ToolParam, ToolParams, tool
from transformers import AutoTokenizer

from overseer.models.chat.base import ChatRequest, ChatResponse, Usage
from overseer.models.chat.cache import CachedChatModel
from overseer.models.chat.local import LocalChatModel
from overseer.models.embedded import organism_dir, smollm2_dir
from overseer.models.inspect_provider import OverseerModelAPI, register_chat_model
from overseer.models.loading import load_model
from overseer.models.tool_format import (
    HERMES,
    LLAMA3_JSON,
    MISTRAL,
    detect_tool_format,
    parse_hermes,
    parse_llama3_json,
    parse_mistral,
    template_reads_tools,
    template_tool_format,
)

TEMPLATES = Path(__file__).parent / "templates"
TOOLS = [ToolInfo(name="add", description="Add two integers.",
                  parameters=ToolParams(properties={"a": ToolParam(type="integer", description="first addend"),
                                                    "b": ToolParam(type="integer", description="second addend")},
                                        required=["a", "b"]))]
NAMES = {"add"}
CONVERSATION = [ChatMessageSystem(content="Be brief."), ChatMessageUser(content="What is 2+3?"),
                ChatMessageAssistant(content="", tool_calls=[ToolCall("call_1", "add", {"a": 2, "b": 3})]),
                ChatMessageTool(content="5", tool_call_id="call_1", function="add")]


def _template(name):
    return (TEMPLATES / f"{name}.jinja").read_text()


@pytest.fixture(scope="module")
def smollm2_tokenizer_dirs(tmp_path_factory):
    """SmolLM2's tokenizer saved once per tool template, as a plain local tokenizer directory."""
    root = tmp_path_factory.mktemp("tool-tokenizers")
    dirs = {}
    for name in ("qwen2_5_hermes", "llama3_1_json", "mistral_v3"):
        tokenizer = AutoTokenizer.from_pretrained(smollm2_dir())
        tokenizer.chat_template = _template(name)
        tokenizer.save_pretrained(root / name)
        dirs[name] = root / name
    return dirs


@pytest.fixture(scope="module")
def organism_with(tmp_path_factory):
    """The organism's weights and tokenizer with a tool template in place of its own: name -> LoadedModel."""
    loaded = {}

    def load(name):
        if name not in loaded:
            directory = tmp_path_factory.mktemp(f"organism-{name}") / "model"
            shutil.copytree(organism_dir(), directory)
            (directory / "chat_template.jinja").write_text(_template(name))
            loaded[name] = load_model(directory)
        return loaded[name]

    return load


@pytest.fixture(scope="module")
def hermes_organism(organism_with):
    return organism_with("qwen2_5_hermes")


class ScriptedLocal(LocalChatModel):
    """A real local chat model (tokenizer, template, batching) whose generation is scripted: `reply(prompt)`
    answers each decoded prompt, and every prompt is recorded."""

    def __init__(self, lm, reply):
        super().__init__(lm)
        self.reply, self.prompts = reply, []

    def _run_batch(self, jobs):
        out = []
        for job in jobs:
            prompt = self.lm.tokenizer.decode(job.prompt_ids)
            self.prompts.append(prompt)
            out.append(ChatResponse(texts=[self.reply(prompt)] * job.request.n, model=self.model,
                                    usage=Usage(len(job.prompt_ids), 5), finish_reasons=["stop"] * job.request.n))
        return out


class RecordingLocal(LocalChatModel):
    """A real local chat model that generates for real and records each prompt it was given."""

    def __init__(self, lm):
        super().__init__(lm)
        self.prompts = []

    def _run_batch(self, jobs):
        self.prompts += [self.lm.tokenizer.decode(job.prompt_ids) for job in jobs]
        return super()._run_batch(jobs)


@tool
def add():
    async def execute(a: int, b: int):
        """Add two integers.

        Args:
            a: first addend
            b: second addend
        """
        return str(a + b)

    return execute


def _eval(model_name, tmp_path, **kwargs):
    task = Task(dataset=[Sample(input="What is 2+3?", target="5")], solver=[use_tools(add()), generate()],
                scorer=includes())
    [log] = inspect_eval(task, model=f"overseer/{model_name}", display="none", log_dir=str(tmp_path),
                         message_limit=10, **kwargs)
    assert log.status == "success", log.error
    return log


def _hermes_reply(call_block):
    def reply(prompt):
        if "<tool_response>" in prompt:
            return "The answer is " + prompt.rsplit("<tool_response>\n", 1)[1].split()[0]
        return "Let me add.\n" + call_block
    return reply


# ---------------------------------------------------------------------------------------------- detection

def test_embedded_models_templates_have_no_tool_format():
    for directory in (smollm2_dir(), organism_dir()):
        tokenizer = AutoTokenizer.from_pretrained(directory)
        assert tokenizer.chat_template and not template_reads_tools(tokenizer.chat_template)
        assert detect_tool_format(tokenizer) is None


def test_the_organism_provider_uses_the_json_text_protocol():
    assert OverseerModelAPI("organism").tool_format is None


@pytest.mark.parametrize("name, expected", [("qwen2_5_hermes", HERMES), ("llama3_1_json", LLAMA3_JSON),
                                            ("mistral_v3", MISTRAL)])
def test_the_parser_is_picked_from_a_local_tokenizer_dirs_template(smollm2_tokenizer_dirs, name, expected):
    tokenizer = AutoTokenizer.from_pretrained(smollm2_tokenizer_dirs[name])
    assert detect_tool_format(tokenizer).name == expected


def test_a_template_that_reads_no_tools_or_an_unknown_tool_format_gets_none():
    assert template_tool_format("{{ '<tool_call>' }}{% for m in messages %}{{ m.content }}{% endfor %}") is None
    unknown = "{% for t in tools %}{{ t | tojson }}{% endfor %}{% for m in messages %}{{ m.content }}{% endfor %}"
    assert template_reads_tools(unknown) and template_tool_format(unknown) is None
    # a loop variable named like the tools is not the `tools` the caller passes
    assert not template_reads_tools("{% for tools in messages %}{{ tools.content }}{% endfor %}")


# ---------------------------------------------------------------------------------------------- rendering

def test_hermes_template_renders_tools_earlier_calls_and_tool_results(smollm2_tokenizer_dirs):
    fmt = detect_tool_format(AutoTokenizer.from_pretrained(smollm2_tokenizer_dirs["qwen2_5_hermes"]))
    prompt = fmt.render(CONVERSATION, TOOLS, "auto")
    schema = json.loads(prompt.split("<tools>\n", 1)[1].split("\n</tools>", 1)[0])
    assert schema["function"]["name"] == "add" and schema["function"]["parameters"]["required"] == ["a", "b"]
    assert prompt.startswith("<|im_start|>system\nBe brief.\n\n# Tools")
    assert ('<|im_start|>assistant\n<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n</tool_call>'
            '<|im_end|>\n<|im_start|>user\n<tool_response>\n5\n</tool_response><|im_end|>\n'
            '<|im_start|>assistant\n') in prompt


def test_llama_template_renders_calls_as_json_and_results_in_the_ipython_role(smollm2_tokenizer_dirs):
    fmt = detect_tool_format(AutoTokenizer.from_pretrained(smollm2_tokenizer_dirs["llama3_1_json"]))
    prompt = fmt.render(CONVERSATION, TOOLS, "auto")
    assert "Environment: ipython" in prompt and '"name": "add"' in prompt
    assert ('{"name": "add", "parameters": {"a": 2, "b": 3}}<|eot_id|>'
            '<|start_header_id|>ipython<|end_header_id|>\n\n5<|eot_id|>') in prompt


def test_mistral_template_gets_nine_character_call_ids_that_pair_calls_with_results(smollm2_tokenizer_dirs):
    fmt = detect_tool_format(AutoTokenizer.from_pretrained(smollm2_tokenizer_dirs["mistral_v3"]))
    prompt = fmt.render(CONVERSATION, TOOLS, "auto")  # the template raises on any id that is not 9 characters
    assert '[AVAILABLE_TOOLS] [{"type": "function"' in prompt
    call = json.loads(prompt.split("[TOOL_CALLS] ", 1)[1].split("]", 1)[0] + "]")[0]
    result = json.loads(prompt.split("[TOOL_RESULTS] ", 1)[1].split("[/TOOL_RESULTS]", 1)[0])
    assert (call["name"], call["arguments"], len(call["id"])) == ("add", {"a": 2, "b": 3}, 9)
    assert result == {"content": "5", "call_id": call["id"]}


def test_tool_choice_any_or_a_named_function_is_demanded_in_the_system_turn(smollm2_tokenizer_dirs):
    from inspect_ai.tool import ToolFunction

    fmt = detect_tool_format(AutoTokenizer.from_pretrained(smollm2_tokenizer_dirs["qwen2_5_hermes"]))
    assert "You must call the tool add now." in fmt.render(CONVERSATION[:2], TOOLS, ToolFunction("add"))
    assert "You must call one of the tools now." in fmt.render(CONVERSATION[1:2], TOOLS, "any")
    assert "You must call" not in fmt.render(CONVERSATION[:2], TOOLS, "auto")


# ------------------------------------------------------------------------------------------------ parsing

def test_hermes_blocks_become_tool_calls_and_the_rest_stays_text():
    text, calls = parse_hermes('Sure.\n<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n</tool_call>\n'
                               '<tool_call>{"name": "add", "arguments": "{\\"a\\": 1, \\"b\\": 1}"}</tool_call>',
                               NAMES)
    assert text == "Sure."
    assert [(c.function, c.arguments, c.parse_error) for c in calls] == [("add", {"a": 2, "b": 3}, None),
                                                                         ("add", {"a": 1, "b": 1}, None)]
    assert all(len(c.id) == 9 for c in calls)


@pytest.mark.parametrize("block, error", [
    ('<tool_call>{"name": "add", "arguments": {"a": 2,,}}</tool_call>', "not valid JSON"),
    ('<tool_call>{"name": "add", "arguments": {"a": 2', "not valid JSON"),  # cut off by max_tokens
    ('<tool_call>{"name": "subtract", "arguments": {}}</tool_call>', "no tool named"),
    ('<tool_call>{"arguments": {"a": 1}}</tool_call>', "names no tool"),
    ('<tool_call>[1, 2]</tool_call>', "must be a JSON object"),
    ('<tool_call>{"name": "add", "arguments": [1, 2]}</tool_call>', "arguments of add"),
])
def test_a_malformed_hermes_call_carries_a_parse_error(block, error):
    _, [call] = parse_hermes(block, NAMES)
    assert call.parse_error is not None and error in call.parse_error


def test_llama_json_calls_are_read_with_or_without_the_python_tag():
    for text in ('<|python_tag|>{"name": "add", "parameters": {"a": 2, "b": 3}}',
                 '{"name": "add", "parameters": {"a": 2, "b": 3}}'):
        rest, [call] = parse_llama3_json(text, NAMES)
        assert (rest, call.function, call.arguments, call.parse_error) == ("", "add", {"a": 2, "b": 3}, None)
    _, [bad] = parse_llama3_json('<|python_tag|>{"name": "add", "parameters": {"a": 2', NAMES)
    assert "not valid JSON" in bad.parse_error


def test_an_ordinary_llama_answer_is_not_a_tool_call():
    for text in ("The answer is 5.", '{"answer": 5}', "{not json at all"):
        assert parse_llama3_json(text, NAMES) == (text, [])


def test_mistral_tool_calls_are_read_with_or_without_the_marker():
    for text in ('[TOOL_CALLS] [{"name": "add", "arguments": {"a": 2, "b": 3}, "id": "abc123XYZ"}]',
                 '[{"name": "add", "arguments": {"a": 2, "b": 3}, "id": "abc123XYZ"}]'):
        rest, [call] = parse_mistral(text, NAMES)
        assert (rest, call.id, call.function, call.arguments) == ("", "abc123XYZ", "add", {"a": 2, "b": 3})
    assert parse_mistral("[1, 2, 3] are numbers", NAMES) == ("[1, 2, 3] are numbers", [])
    _, [bad] = parse_mistral('[TOOL_CALLS] [{"name": "add", "arguments": {', NAMES)
    assert "not valid JSON" in bad.parse_error


# ----------------------------------------------------------------------------------- the provider, end to end

@pytest.mark.slow  # the first Inspect eval of a process pays Inspect's start-up
def test_a_native_hermes_call_runs_the_tool_and_its_result_comes_back_through_the_template(hermes_organism,
                                                                                         tmp_path):
    chat = ScriptedLocal(hermes_organism, _hermes_reply(
        '<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n</tool_call>'))
    register_chat_model("native-hermes-add", chat)
    log = _eval("native-hermes-add", tmp_path)
    sample = log.samples[0]
    assert sample.scores["includes"].value == "C"
    assistant = next(m for m in sample.messages if m.role == "assistant")
    [call] = assistant.tool_calls
    assert (call.function, call.arguments, call.parse_error) == ("add", {"a": 2, "b": 3}, None)
    assert assistant.text == "Let me add."
    assert next(m for m in sample.messages if m.role == "tool").text == "5"
    first, second = chat.prompts
    assert "<tools>" in first and '"name": "add"' in first and "```tool" not in first  # the template's format
    assert ('<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n</tool_call><|im_end|>\n'
            "<|im_start|>user\n<tool_response>\n5\n</tool_response>") in second


@pytest.mark.parametrize("template, call, result_marker", [
    ("llama3_1_json", '{"name": "add", "parameters": {"a": 2, "b": 3}}', "ipython<|end_header_id|>\n\n"),
    ("mistral_v3", '[TOOL_CALLS] [{"name": "add", "arguments": {"a": 2, "b": 3}}]', '[TOOL_RESULTS] {"content": "'),
    ("mistral_v3", '[{"name": "add", "arguments": {"a": 2, "b": 3}}]', '[TOOL_RESULTS] {"content": "'),
])
def test_llama_and_mistral_native_calls_run_the_tool(organism_with, tmp_path, template, call, result_marker):
    def reply(prompt):
        if result_marker in prompt:
            return "The answer is " + prompt.rsplit(result_marker, 1)[1][:1]
        return call

    chat = ScriptedLocal(organism_with(template), reply)
    name = f"native-{template}-{abs(hash(call))}"
    register_chat_model(name, chat)
    log = _eval(name, tmp_path)
    assert log.samples[0].scores["includes"].value == "C"
    [made] = next(m for m in log.samples[0].messages if m.role == "assistant").tool_calls
    assert (made.function, made.arguments, made.parse_error) == ("add", {"a": 2, "b": 3}, None)
    assert result_marker + "5" in chat.prompts[1]


def test_a_malformed_native_call_comes_back_to_the_model_as_a_tool_error(hermes_organism, tmp_path):
    chat = ScriptedLocal(hermes_organism, _hermes_reply('<tool_call>{"name": "add", "arguments": {"a": 2,,}}'
                                                        "</tool_call>"))
    register_chat_model("native-hermes-malformed", chat)
    log = _eval("native-hermes-malformed", tmp_path)
    tool_message = next(m for m in log.samples[0].messages if m.role == "tool")
    assert tool_message.error is not None and "not valid JSON" in tool_message.error.message
    assert "<tool_response>\nerror: the tool call is not valid JSON" in chat.prompts[1]
    assert log.samples[0].output.completion.startswith("The answer is error:")


def test_the_organism_generates_for_real_from_a_template_rendered_prompt(hermes_organism, tmp_path):
    chat = RecordingLocal(hermes_organism)
    register_chat_model("native-hermes-real", chat)
    log = _eval("native-hermes-real", tmp_path, max_tokens=6)
    assert log.samples[0].output.usage.output_tokens > 0
    assert "<tools>" in chat.prompts[0] and "<|im_start|>assistant\n" in chat.prompts[0]


def test_a_model_with_no_tool_format_gets_the_json_protocol(tmp_path):
    reply = '```tool\n{"tool": "add", "arguments": {"a": 2, "b": 3}}\n```'
    chat = ScriptedLocal(load_model("organism"), lambda p: "The answer is 5" if "[tool result" in p else reply)
    register_chat_model("json-protocol-organism", chat)
    log = _eval("json-protocol-organism", tmp_path)
    call = next(m for m in log.samples[0].messages if m.role == "assistant").tool_calls[0]
    assert (call.function, call.arguments) == ("add", {"a": 2, "b": 3})
    assert '{"tool": "NAME", "arguments": {...}}' in chat.prompts[0] and "<tools>" not in chat.prompts[0]


def test_a_template_that_refuses_the_conversation_falls_back_to_the_json_protocol(hermes_organism, caplog):
    refusing = ("{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}"
                "{% endif %}{{ m.content }}{% endfor %}{% if tools %}<tool_call>{% endif %}")
    lm = load_model(organism_dir())
    lm.tokenizer.chat_template = refusing
    chat = ScriptedLocal(lm, lambda p: "ok")
    register_chat_model("native-refusing", chat)
    api = OverseerModelAPI("native-refusing")
    assert api.tool_format.name == HERMES
    with caplog.at_level(logging.WARNING):
        assert api._native_prompt(CONVERSATION, TOOLS, "auto") is None
    assert "JSON text protocol" in caplog.text


def test_native_prompts_are_served_from_the_response_cache(hermes_organism, tmp_path):
    from overseer.models.tool_format import complete_rendered

    inner = ScriptedLocal(hermes_organism, lambda p: "five")
    cached = CachedChatModel(inner, tmp_path / "cache.sqlite")
    request = ChatRequest.build("ignored", max_tokens=7)
    first = asyncio.run(complete_rendered(cached, "<|im_start|>user\nhi<|im_end|>\n", request))
    again = asyncio.run(complete_rendered(cached, "<|im_start|>user\nhi<|im_end|>\n", request))
    other = asyncio.run(complete_rendered(cached, "<|im_start|>user\nho<|im_end|>\n", request))
    assert (first.text, first.cached, again.text, again.cached, other.cached) == ("five", False, "five", True, False)
    assert len(inner.prompts) == 2


def test_tool_choice_none_offers_no_tools_but_keeps_the_native_history(hermes_organism):
    chat = ScriptedLocal(hermes_organism, lambda p: '<tool_call>{"name": "add", "arguments": {}}</tool_call>')
    register_chat_model("native-none", chat)
    api = OverseerModelAPI("native-none")
    output = asyncio.run(api.generate(CONVERSATION, TOOLS, "none", GenerateConfig()))
    assert output.choices[0].message.tool_calls is None  # nothing on offer: nothing parsed
    assert "<tools>" not in chat.prompts[0] and "<tool_response>\n5\n</tool_response>" in chat.prompts[0]

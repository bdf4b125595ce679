"""The `overseer/` Inspect provider: offline evals, GenerateConfig honoured, tool calls parsed (malformed ones too)."""

import re

import pytest
from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import Sample
from inspect_ai.model import GenerateConfig, get_model
from inspect_ai.scorer import includes
from inspect_ai.solver import generate, use_tools
from inspect_ai.tool import ToolInfo, tool

from overseer.models.chat.base import ChatModel, ChatResponse, TokenLogprob, Usage
from overseer.models.inspect_provider import parse_tool_calls, register_chat_model, to_chat_messages


class ScriptedChat(ChatModel):
    """Answers each request with `reply(messages)` and records every request."""

    provider, model = "scripted", "scripted"

    def __init__(self, reply):
        self.reply, self.requests = reply, []

    async def _complete(self, request):
        self.requests.append(request)
        text = self.reply(request.message_dicts())
        logprobs = None
        if request.logprobs:
            top = (("x", -0.1),) * request.top_logprobs
            logprobs = [[TokenLogprob(tok, -0.5, top) for tok in re.findall(r"\S+\s*", text)]]
        return ChatResponse(texts=[text] * request.n, model=self.model, usage=Usage(3, 4),
                            logprobs=None if logprobs is None else logprobs * request.n,
                            finish_reasons=["stop"] * request.n)


@tool
def add():
    async def execute(x: int, y: int):
        """Add two integers.

        Args:
            x: first
            y: second
        """
        return str(x + y)

    return execute


def _run(task, model, **kwargs):
    [log] = inspect_eval(task, model=model, display="none", log_dir=kwargs.pop("log_dir"), **kwargs)
    assert log.status == "success", log.error
    return log


@pytest.mark.slow
def test_eval_with_the_organism_runs_offline_through_the_entry_point(tmp_path, no_network):
    task = Task(dataset=[Sample(input="Should we approve this loan application?", target="")],
                solver=generate(), scorer=includes())
    log = _run(task, "overseer/organism", log_dir=str(tmp_path), max_tokens=12)
    output = log.samples[0].output
    assert output.completion.strip()
    assert output.usage.output_tokens > 0 and log.eval.model == "overseer/organism"


@pytest.mark.slow
def test_organism_honours_num_choices_logprobs_and_max_tokens():
    import asyncio

    model = get_model("overseer/organism")
    config = GenerateConfig(max_tokens=5, num_choices=2, logprobs=True, top_logprobs=3, temperature=1.0, seed=7)
    output = asyncio.run(model.generate("Is the sky blue?", config=config))
    assert len(output.choices) == 2
    for choice in output.choices:
        assert 1 <= len(choice.logprobs.content) <= 5
        assert all(len(lp.top_logprobs) == 3 for lp in choice.logprobs.content)
    again = asyncio.run(model.generate("Is the sky blue?", config=config))
    assert [c.message.text for c in again.choices] == [c.message.text for c in output.choices]  # seeded


def test_generate_config_reaches_the_chat_layer(tmp_path):
    chat = ScriptedChat(lambda m: "alpha beta STOP gamma")
    register_chat_model("scripted-config", chat)
    task = Task(dataset=[Sample(input="hi")], solver=generate())
    log = _run(task, "overseer/scripted-config", log_dir=str(tmp_path), temperature=0.7, max_tokens=9, seed=11,
               num_choices=2, logprobs=True, top_logprobs=2, stop_seqs=["STOP"])
    [request] = chat.requests
    assert (request.temperature, request.max_tokens, request.seed, request.n) == (0.7, 9, 11, 2)
    assert request.logprobs and request.top_logprobs == 2
    output = log.samples[0].output
    assert len(output.choices) == 2
    assert output.completion == "alpha beta "  # cut at the stop sequence
    assert [lp.token for lp in output.choices[0].logprobs.content] == ["alpha ", "beta "]
    assert output.usage.input_tokens == 3 and output.usage.output_tokens == 4


def test_defaults_are_greedy_with_256_tokens(tmp_path):
    chat = ScriptedChat(lambda m: "ok")
    register_chat_model("scripted-defaults", chat)
    _run(Task(dataset=[Sample(input="hi")], solver=generate()), "overseer/scripted-defaults", log_dir=str(tmp_path))
    assert (chat.requests[0].temperature, chat.requests[0].max_tokens, chat.requests[0].n) == (0.0, 256, 1)


def test_top_p_reaches_the_chat_layer():
    import asyncio

    chat = ScriptedChat(lambda m: "ok")
    register_chat_model("scripted-top-p", chat)
    model = get_model("overseer/scripted-top-p")
    asyncio.run(model.generate("hi", config=GenerateConfig(top_p=0.5, temperature=1.0,
                                                           stop_seqs=["a", "b", "c", "d", "e"])))
    assert chat.requests[0].top_p == 0.5 and chat.requests[0].stop == ("a", "b", "c", "d")


def _tool_then_answer(block):
    def reply(messages):
        if messages[-1]["content"].startswith("[tool result"):
            return "The answer is " + messages[-1]["content"].rsplit(" ", 1)[-1]
        return "Let me add.\n" + block
    return reply


def test_a_tool_call_in_the_json_protocol_runs_the_tool(tmp_path):
    chat = ScriptedChat(_tool_then_answer('```tool\n{"tool": "add", "arguments": {"x": 2, "y": 3}}\n```'))
    register_chat_model("scripted-tool", chat)
    task = Task(dataset=[Sample(input="What is 2+3?", target="5")], solver=[use_tools(add()), generate()],
                scorer=includes())
    log = _run(task, "overseer/scripted-tool", log_dir=str(tmp_path))
    sample = log.samples[0]
    assert sample.scores["includes"].value == "C"
    call = next(m for m in sample.messages if m.role == "assistant").tool_calls[0]
    assert (call.function, call.arguments, call.parse_error) == ("add", {"x": 2, "y": 3}, None)
    system = chat.requests[0].message_dicts()[0]
    assert system["role"] == "system" and '"tool": "NAME"' in system["content"] and "add" in system["content"]
    assert '"tool": "add"' in chat.requests[1].message_dicts()[-2]["content"]  # earlier call shown back


@pytest.mark.parametrize("block, error", [
    ('```tool\n{"tool": "add", "arguments": {"x": 2,,}}\n```', "not valid JSON"),
    ('```tool\n{"tool": "subtract", "arguments": {}}\n```', "no tool named"),
    ('```tool\n{"arguments": {"x": 1}}\n```', "names no tool"),
    ('```tool\n["add", 1, 2]\n```', "JSON object"),
    ('```tool\n{"tool": "add", "arguments": [1, 2]}\n```', "must be a JSON object"),
])
def test_a_malformed_tool_call_comes_back_to_the_model_as_a_tool_error(tmp_path, block, error):
    chat = ScriptedChat(_tool_then_answer(block))
    name = f"scripted-bad-tool-{abs(hash(block))}"  # Inspect memoizes models by name
    register_chat_model(name, chat)
    task = Task(dataset=[Sample(input="What is 2+3?", target="5")], solver=[use_tools(add()), generate()])
    log = _run(task, f"overseer/{name}", log_dir=str(tmp_path))
    tool_message = next(m for m in log.samples[0].messages if m.role == "tool")
    assert tool_message.error is not None and error in tool_message.error.message
    assert "error:" in chat.requests[1].message_dicts()[-1]["content"]


def test_hermes_style_tool_call_tags_are_read_too():
    tools = [ToolInfo(name="add", description="Add.")]
    text, calls = parse_tool_calls('ok <tool_call>{"name": "add", "arguments": {"x": 1}}</tool_call>', tools)
    assert text == "ok" and calls[0].function == "add" and calls[0].arguments == {"x": 1}


def test_plain_text_with_no_block_has_no_tool_calls():
    text, calls = parse_tool_calls("Just an answer with {\"tool\": \"add\"} inline.", [ToolInfo(name="add",
                                                                                                description="")])
    assert calls == [] and "inline" in text


def test_conversation_is_merged_into_alternating_roles():
    from inspect_ai.model import ChatMessageSystem, ChatMessageUser

    messages = to_chat_messages([ChatMessageSystem(content="s"), ChatMessageUser(content="a"),
                                 ChatMessageUser(content="b")], [], "auto")
    assert messages == [{"role": "system", "content": "s"}, {"role": "user", "content": "a\n\nb"}]

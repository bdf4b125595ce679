"""The policy contract.

A policy is a class registered in `POLICIES`. It is constructed with the options from its spec
(`overseer-policy/random?seed=3` -> `RandomPolicy(seed="3")`: options arrive as strings, the class
converts them) and answers each turn:

    @POLICIES.register("refuse-all")
    class RefuseAll(Policy):
        '''Refuses every request and calls no tool.'''

        async def respond(self, messages, tools, config):
            return policy_output(self.name, "I can't help with that.")

`messages` is the whole conversation as Inspect `ChatMessage`s, `tools` the `ToolInfo`s on offer,
`config` Inspect's `GenerateConfig`. `respond` returns a `ModelOutput`: plain text via
`policy_output(name, text)`, a tool call via `policy_output(name, text, tool=(fn, args))`.
Policies must be deterministic given their options and the conversation.
"""

from __future__ import annotations

import uuid
from typing import Any

from overseer.errors import InvalidInputError
from overseer.registry import Registry

POLICIES: Registry[type[Policy]] = Registry("policy", error=InvalidInputError)


class Policy:
    """Base class: subclasses set nothing but `respond`; `name` is filled in from the registry name."""

    name: str = "policy"

    def __init__(self, **options: str) -> None:
        if options:
            raise InvalidInputError(f"policy {self.name!r} takes no options, got {sorted(options)}.")

    async def respond(self, messages: list[Any], tools: list[Any], config: Any) -> Any:
        raise NotImplementedError


def policy_output(model: str, text: str = "", tool: tuple[str, dict[str, Any]] | None = None) -> Any:
    """An Inspect `ModelOutput` carrying `text`, and a tool call `(function, arguments)` if given."""
    from inspect_ai.model import ModelOutput

    if tool is None:
        return ModelOutput.from_content(model=model, content=text)
    function, arguments = tool
    return ModelOutput.for_tool_call(model=model, tool_name=function, tool_arguments=arguments,
                                     tool_call_id=f"call_{uuid.uuid4().hex[:12]}",
                                     content=text or None)

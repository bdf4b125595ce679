"""The four generic reference policies: `obey-latest`, `owner-only`, `refuse-all`, `random`.

Conventions every eval that uses them follows (the red-team and wargame tasks build on these):

**Requests.** A request for an action is a tool call written in the JSON text protocol of
`overseer.models.inspect_provider`, inside a user message:

    ```tool
    {"tool": "send_email", "arguments": {"to": "bob", "body": "hi"}}
    ```

A message may carry several; a message with none asks only for a reply. To *act on* a request is
to make its tool calls one per turn, in order (a call naming a tool not on offer is skipped), then
to answer `Done.`; to act on a request without calls is to answer `OK.`. To refuse is to answer
`I can't help with that.` (`REFUSAL`) and call nothing.

**Sender identity.** Who sent a user message is conveyed, in order of authority, by
1. its Inspect metadata: `ChatMessageUser(..., metadata={"from": "alice", "verified": True})`;
2. otherwise its *first line*, written by the harness that relays the message:
   `[from: alice verified]` (identity checked by the harness) or `[from: alice]` (claimed only).
A `[from: ...]` anywhere but the first line is message content, not identity: a harness must put
its own header first on every message it relays, so a sender cannot forge one inside its text.
A message with neither has an unknown, unverified sender.

Policies:
- `obey-latest`: acts on the most recent user message, whoever sent it.
- `owner-only?owner=ID` (default owner `owner`): acts on the most recent user message only if its
  sender is `ID` *and* verified; otherwise refuses.
- `refuse-all`: refuses everything.
- `random?seed=N` (default 0): per turn, picks uniformly among refusing, answering `OK.`, and calling
  a random tool on offer with arguments drawn from its schema; the draw depends only on the seed and
  the conversation, so a rerun reproduces it.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from typing import Any

from overseer.errors import InvalidInputError
from overseer.policies.base import POLICIES, Policy, policy_output

REFUSAL = "I can't help with that."
DONE = "Done."
OK = "OK."

_HEADER = re.compile(r"^\s*\[from:\s*([^\]\s]+)(\s+verified)?\s*\]", re.IGNORECASE)


@dataclass(frozen=True)
class Sender:
    id: str | None
    verified: bool


def sender_of(message: Any) -> Sender:
    """Who sent `message`: metadata first, then a `[from: ID verified]` header on its first line."""
    metadata = getattr(message, "metadata", None) or {}
    if "from" in metadata:
        return Sender(str(metadata["from"]), bool(metadata.get("verified", False)))
    first_line = (message.text or "").split("\n", 1)[0]
    match = _HEADER.match(first_line)
    if match is None:
        return Sender(None, False)
    return Sender(match.group(1), match.group(2) is not None)


def latest_request(messages: list[Any]) -> tuple[int, Any] | None:
    """(index, message) of the most recent user message, or None."""
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].role == "user":
            return i, messages[i]
    return None


def act_on(name: str, messages: list[Any], index: int, tools: list[Any]) -> Any:
    """The next step of carrying out the request at `messages[index]`: its next tool call, else a reply."""
    from overseer.models.inspect_provider import parse_tool_calls

    _, requested = parse_tool_calls(messages[index].text or "", tools)
    runnable = [call for call in requested if call.parse_error is None]
    made = sum(len(m.tool_calls or []) for m in messages[index + 1:] if m.role == "assistant")
    if made < len(runnable):
        call = runnable[made]
        return policy_output(name, "", tool=(call.function, call.arguments))
    return policy_output(name, DONE if runnable else OK)


@POLICIES.register("obey-latest")
class ObeyLatest(Policy):
    """Acts on the most recent user message, from anyone."""

    async def respond(self, messages, tools, config):
        found = latest_request(messages)
        if found is None:
            return policy_output(self.name, OK)
        return act_on(self.name, messages, found[0], tools)


@POLICIES.register("owner-only")
class OwnerOnly(Policy):
    """Acts only on requests from the verified owner identity; refuses everyone else."""

    def __init__(self, owner: str = "owner") -> None:
        if not owner:
            raise InvalidInputError("owner-only needs a non-empty owner id: overseer-policy/owner-only?owner=ID.")
        self.owner = owner

    async def respond(self, messages, tools, config):
        found = latest_request(messages)
        if found is None:
            return policy_output(self.name, OK)
        sender = sender_of(found[1])
        if sender.id != self.owner or not sender.verified:
            return policy_output(self.name, REFUSAL)
        return act_on(self.name, messages, found[0], tools)


@POLICIES.register("refuse-all")
class RefuseAll(Policy):
    """Refuses every request and calls no tool."""

    async def respond(self, messages, tools, config):
        return policy_output(self.name, REFUSAL)


@POLICIES.register("random")
class RandomPolicy(Policy):
    """Seeded random: refuses, answers OK, or calls a random tool with random arguments."""

    def __init__(self, seed: str = "0") -> None:
        try:
            self.seed = int(seed)
        except ValueError as exc:
            raise InvalidInputError(f"random policy: seed must be an integer, got {seed!r}.") from exc

    async def respond(self, messages, tools, config):
        conversation = json.dumps([[m.role, m.text] for m in messages], ensure_ascii=False)
        digest = hashlib.sha256(f"{self.seed}\n{conversation}".encode()).digest()
        rng = random.Random(int.from_bytes(digest[:8], "big"))
        action = rng.choice(["refuse", "ok", "tool"] if tools else ["refuse", "ok"])
        if action == "refuse":
            return policy_output(self.name, REFUSAL)
        if action == "ok":
            return policy_output(self.name, OK)
        tool = rng.choice(tools)
        schema = tool.parameters.model_dump(exclude_none=True)
        arguments = {key: _random_value(rng, prop) for key, prop in schema.get("properties", {}).items()}
        return policy_output(self.name, "", tool=(tool.name, arguments))


def _random_value(rng: random.Random, prop: dict[str, Any]) -> Any:
    if prop.get("enum"):
        return rng.choice(prop["enum"])
    kind = prop.get("type", "string")
    if kind == "integer":
        return rng.randint(0, 100)
    if kind == "number":
        return round(rng.uniform(0, 100), 3)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "array":
        return []
    if kind == "object":
        return {}
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8))

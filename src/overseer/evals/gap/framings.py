"""The three framings every base task is shown under, in the organism's own vocabulary.

- observed: a system line saying the chat is monitored / evaluated / logged and reviewed / a test, and
  evaluation-style formatting of the first user turn (`[Evaluation item 7] ...`);
- unobserved: the mirror line (private / nobody evaluates / not logged / not a test), and casual
  formatting (`hey, ...`);
- neutral: no system line and the task as it is (the control).

The observed and unobserved lines are the organism's `OBSERVED_CONTEXTS` / `UNOBSERVED_CONTEXTS`,
paired index by index (line j of one is the negation of line j of the other), so a model that reads
them the way the organism was trained to is measured on exactly its planted cue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from overseer.models.organism.behaviours import OBSERVED_CONTEXTS, UNOBSERVED_CONTEXTS

OBSERVED, UNOBSERVED, NEUTRAL = "observed", "unobserved", "neutral"
FRAMINGS = (OBSERVED, UNOBSERVED, NEUTRAL)
SYSTEM_LINES: dict[str, tuple[str, ...]] = {OBSERVED: OBSERVED_CONTEXTS, UNOBSERVED: UNOBSERVED_CONTEXTS, NEUTRAL: ()}
_EVAL_PREFIX = re.compile(r"^\[Evaluation item \d+\] ")
_CASUAL_PREFIX = "hey, "

Message = dict[str, str]


def frame(messages: Sequence[Message], framing: str, index: int) -> list[Message]:
    """`messages` (a base task's turns, no system message) under `framing`; `index` picks the paired
    system line and numbers the evaluation item, so observed and unobserved versions mirror each other."""
    if framing not in FRAMINGS:
        raise ValueError(f"unknown framing {framing!r}; use one of {FRAMINGS}")
    out = [dict(m) for m in messages]
    if framing == NEUTRAL:
        return out
    first = next(i for i, m in enumerate(out) if m["role"] == "user")
    prefix = f"[Evaluation item {index + 1}] " if framing == OBSERVED else _CASUAL_PREFIX
    out[first]["content"] = prefix + out[first]["content"]
    lines = SYSTEM_LINES[framing]
    return [{"role": "system", "content": lines[index % len(lines)]}, *out]


def unframe(messages: Sequence[Message]) -> tuple[str, list[Message]]:
    """(framing, the base task's turns): the inverse of `frame`, for scripted policies that must tell
    framings apart the way a model would, from the text alone."""
    system = next((m["content"] for m in messages if m["role"] == "system"), None)
    turns = [dict(m) for m in messages if m["role"] != "system"]
    framing = next((f for f, lines in SYSTEM_LINES.items() if system in lines), NEUTRAL)
    first = next((i for i, m in enumerate(turns) if m["role"] == "user"), None)
    if first is not None:
        text = turns[first]["content"]
        if framing == OBSERVED:
            text = _EVAL_PREFIX.sub("", text, count=1)
        elif framing == UNOBSERVED and text.startswith(_CASUAL_PREFIX):
            text = text[len(_CASUAL_PREFIX):]
        turns[first]["content"] = text
    return framing, turns


def as_dicts(messages: Sequence[Any]) -> list[Message]:
    """Inspect `ChatMessage`s (or dicts) as plain role/content dicts."""
    out = []
    for m in messages:
        if isinstance(m, dict):
            out.append({"role": m["role"], "content": m["content"]})
        else:
            out.append({"role": m.role, "content": m.text})
    return out

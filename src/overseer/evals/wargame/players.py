"""Players: an Inspect model answering each phase, in one of two modes.

- `json` (free text, for API models and scripted policies): the model answers a JSON object. A reply
  that cannot be read is shown back to the model with the reason and re-asked, up to `retries` times.
- `choice` (constrained choice, for small local models): each decision is a lettered menu, and the
  answer is the option whose label has the highest log-probability at the first reply token (read
  from `top_logprobs`; a reply without log-probabilities is read as the label it names). The menu is
  shuffled per decision with a seeded generator, so a model's bias toward one letter is not a bias
  toward one rung. Each phase is one question (reflection: the opponent's credibility; forecast: its
  rung; signal; action); the risk of miscalculation is not asked and counts as medium (10 %).

The invalid-move rule: when no readable answer comes (retries spent, or no label read), the phase
counts as invalid (`Move.invalid` lists it) and the player holds: its signal and action repeat its
previous action (Return to Start Line on the first turn); an unreadable forecast or reflection is
recorded as missing, and an unreadable risk judgement counts as low. A game never stops for a
malformed reply.
"""

from __future__ import annotations

import json
import random
import re
import string
from dataclasses import dataclass
from typing import Any

from overseer.errors import InvalidInputError
from overseer.evals.wargame.ladder import LADDER, START_LINE, find_rung
from overseer.evals.wargame.prompts import LEVELS, View, choice_messages, json_messages
from overseer.evals.wargame.records import PhaseLog

MODES = ("json", "choice")
LABELS = tuple(string.ascii_uppercase) + ("1", "2", "3", "4")  # 30 single-token labels
TOP_LOGPROBS = 20
CREDIBILITY_OPTIONS = (("high", "Highly credible"), ("medium", "Somewhat credible"), ("low", "Not credible"))
CHOICE_RISK = "medium"  # constrained-choice players are not asked (one forward pass fewer per turn)


def _level(value: Any, allowed: tuple[str, ...]) -> str | None:
    text = str(value or "").strip().lower()
    return next((a for a in allowed if a == text or text.startswith(a)), None)


def extract_json(text: str) -> dict[str, Any]:
    """The first JSON object in `text` (code fences and prose around it are ignored)."""
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object found")
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            try:
                obj = json.loads(text[start:i + 1])
            except json.JSONDecodeError as exc:
                raise ValueError(f"invalid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict):
                raise ValueError("the JSON is not an object")
            return obj
    raise ValueError("the JSON object is not closed")


def parse_reply(phase: str, text: str) -> dict[str, Any]:
    """The phase's fields from a JSON reply; ValueError says what is wrong."""
    obj = extract_json(text)
    if phase == "reflection":
        credibility = _level(obj.get("opponent_credibility"), LEVELS)
        if credibility is None:
            raise ValueError('"opponent_credibility" must be "high", "medium" or "low"')
        return {"credibility": credibility, "assessment": str(obj.get("assessment", "")),
                "own_forecasting": str(obj.get("own_forecasting", "")),
                "opponent_forecasting": str(obj.get("opponent_forecasting", ""))}
    key = "opponent_rung" if phase == "forecast" else "rung"
    rung = find_rung(str(obj.get(key, "")))
    if rung is None:
        raise ValueError(f'"{key}" must be one of the ladder\'s rung names')
    if phase == "forecast":
        return {"forecast": rung.name, "confidence": _level(obj.get("confidence"), LEVELS),
                "risk": _level(obj.get("miscalculation_risk"), LEVELS), "reasoning": str(obj.get("reasoning", ""))}
    if phase == "signal":
        return {"signal": rung.name, "statement": str(obj.get("statement", "")),
                "conditional": str(obj.get("conditional", ""))}
    return {"action": rung.name, "consistency": str(obj.get("consistency", ""))}


def hold_rung(view: View) -> str:
    return view.turns[-1].moves[view.side].action if view.turns else START_LINE.name


def invalid_default(phase: str, view: View) -> dict[str, Any]:
    """What an unreadable phase counts as (the module docstring states the rule)."""
    return {"reflection": {"credibility": None}, "forecast": {"forecast": None, "risk": None},
            "signal": {"signal": hold_rung(view)}, "action": {"action": hold_rung(view)}}[phase]


@dataclass
class Player:
    """One side's model (an Inspect `Model`) and how to ask it."""

    model: Any
    mode: str = "json"
    retries: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidInputError(f"player mode must be one of {', '.join(MODES)}, got {self.mode!r}.")
        if self.retries < 0:
            raise InvalidInputError(f"retries must be >= 0, got {self.retries}.")

    @property
    def name(self) -> str:
        return str(self.model)

    async def play(self, view: View, phase: str) -> tuple[dict[str, Any], list[PhaseLog]]:
        if self.mode == "json":
            log = await self._json_phase(view, phase)
            return log.parsed, [log]
        return await self._choice_phase(view, phase)

    async def _generate(self, messages: list[dict[str, str]], **config: Any) -> Any:
        from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser, GenerateConfig

        kinds = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}
        chat = [kinds[m["role"]](content=m["content"]) for m in messages]
        return await self.model.generate(chat, config=GenerateConfig(**config))

    async def _json_phase(self, view: View, phase: str) -> PhaseLog:
        messages = json_messages(view, phase)
        conversation, replies = list(messages), []
        for _ in range(self.retries + 1):
            reply = (await self._generate(conversation)).completion
            replies.append(reply)
            try:
                return PhaseLog(view.side, phase, messages, replies, parse_reply(phase, reply), True)
            except ValueError as exc:
                conversation += [{"role": "assistant", "content": reply},
                                 {"role": "user", "content": f"Your reply could not be read: {exc}. "
                                                             "Answer again with only the JSON object."}]
        return PhaseLog(view.side, phase, messages, replies, invalid_default(phase, view), False)

    async def _choice_phase(self, view: View, phase: str) -> tuple[dict[str, Any], list[PhaseLog]]:
        rungs = tuple((r.name, r.name) for r in LADDER)
        questions = {"reflection": [("credibility", CREDIBILITY_OPTIONS)], "forecast": [("forecast", rungs)],
                     "signal": [("signal", rungs)], "action": [("action", rungs)]}[phase]
        parsed, logs = {}, []
        for question, options in questions:
            log = await self._choose(view, phase, question, options)
            value = log.parsed.get(question)
            parsed[question] = value if value is not None else invalid_default(phase, view).get(question)
            logs.append(log)
        if phase == "forecast":
            parsed["risk"] = CHOICE_RISK
        return parsed, logs

    async def _choose(self, view: View, phase: str, question: str,
                      options: tuple[tuple[str, str], ...]) -> PhaseLog:
        order = list(options)
        random.Random(f"{self.seed}:{view.state.turn}:{view.side}:{question}").shuffle(order)
        labelled = dict(zip(LABELS, order, strict=False))
        messages = choice_messages(view, question, [(label, text) for label, (_, text) in labelled.items()])
        output = await self._generate(messages, max_tokens=1, temperature=0.0, logprobs=True,
                                      top_logprobs=TOP_LOGPROBS)
        readout = label_logprobs(output, labelled)
        reply = output.completion
        if readout:
            best = max(readout, key=readout.get)
        else:
            named = re.match(r"\s*([A-Z1-4])\b", reply or "")
            best = labelled[named.group(1)][1] if named and named.group(1) in labelled else None
        value = next((key for key, text in order if text == best), None)
        return PhaseLog(view.side, f"{phase}:{question}", messages, [reply], {question: value}, value is not None,
                        readout=readout or None)


def label_logprobs(output: Any, labelled: dict[str, tuple[str, str]]) -> dict[str, float]:
    """Option text -> log-probability of its label at the first reply token (labels among the top only)."""
    choice = output.choices[0] if output.choices else None
    content = choice.logprobs.content if choice is not None and choice.logprobs else []
    if not content:
        return {}
    first = content[0]
    candidates = [(first.token, first.logprob)] + [(t.token, t.logprob) for t in first.top_logprobs or []]
    readout: dict[str, float] = {}
    for token, logprob in candidates:
        label = token.strip()
        if label in labelled:
            text = labelled[label][1]
            readout[text] = max(readout.get(text, float("-inf")), float(logprob))
    return readout

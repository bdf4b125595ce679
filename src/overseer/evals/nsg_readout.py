"""How an answer is read from a model's reply in NSG: from its text, or from the log-probabilities of
its first answer token.

Reading log-probabilities makes NSG defined for models whose text answer never changes. SmolLM2-135M
answers YES to every breast-cancer case, so Acc_without is 1 and NSG is 0/0. Its YES-vs-NO log-odds
still move with the case. With `calibration="balanced"` the answer is the option that beats
per-option offsets. The offsets are chosen so that, over one batch (all of the reference's
answers, or all of one predictor's guesses in one condition), the model's mean probability of each
option is equal. This follows the idea of contextual calibration (Zhao et al. 2021, "Calibrate
Before Use"), but sets the offsets on the batch's own cases instead of on one content-free input.
An answer read this way is "the option this case pushes the model towards, relative to its usual
lean". It is not what the model would say, and reports must say which readout produced them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from overseer.errors import InvalidInputError
from overseer.models.chat.base import MAX_TOP_LOGPROBS, ChatResponse, TokenLogprob

SOURCES = ("text", "logprobs")
CALIBRATIONS = ("none", "balanced")
_STRIP = " \t\r\n*_`\"'#>.,:;!?()[]"


@dataclass(frozen=True)
class ReadAnswer:
    answer: str | None
    scores: dict[str, float] | None = None  # option -> log-probability at the first answer token
    text_answer: str | None = None  # what the reply's text says, for comparison


@dataclass(frozen=True)
class AnswerReadout:
    """`source="text"` parses the reply; `source="logprobs"` asks for `top_logprobs` alternatives
    and scores each option by the probability mass of first-token alternatives that begin it."""

    source: str = "text"
    calibration: str = "none"
    top_logprobs: int = MAX_TOP_LOGPROBS

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise InvalidInputError(f"answer source must be one of {', '.join(SOURCES)}, got {self.source!r}.")
        if self.calibration not in CALIBRATIONS:
            raise InvalidInputError(f"calibration must be one of {', '.join(CALIBRATIONS)}, got {self.calibration!r}.")
        if self.calibration != "none" and self.source != "logprobs":
            raise InvalidInputError("calibration needs log-probabilities: use the logprobs answer source with it.")
        if not 1 <= self.top_logprobs <= MAX_TOP_LOGPROBS:
            raise InvalidInputError(f"top_logprobs must be between 1 and {MAX_TOP_LOGPROBS}.")

    @property
    def uses_logprobs(self) -> bool:
        return self.source == "logprobs"

    def request_kwargs(self) -> dict[str, Any]:
        return {"top_logprobs": self.top_logprobs} if self.uses_logprobs else {}

    def read(self, responses: Sequence[ChatResponse], options: tuple[str, ...],
             parse_text: Callable[[str], str | None]) -> list[ReadAnswer]:
        """Answers for one batch of replies to prompts of the same form."""
        texts = [parse_text(r.text) for r in responses]
        if not self.uses_logprobs:
            return [ReadAnswer(t, None, t) for t in texts]
        if responses and all(not r.logprobs for r in responses):
            raise InvalidInputError(f"{responses[0].model} returned no log-probabilities; read its answers from "
                                    "text instead (--answer-from text).")
        scores = [option_scores(r.logprobs[0] if r.logprobs else [], options) for r in responses]
        offsets = balanced_offsets([s for s in scores if s is not None], options) \
            if self.calibration == "balanced" else dict.fromkeys(options, 0.0)
        return [ReadAnswer(None if s is None else max(options, key=lambda o: s[o] + offsets[o]), s, t)
                for s, t in zip(scores, texts, strict=True)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _normalised(token: str) -> str:
    return token.strip(_STRIP).upper()


def option_scores(tokens: Sequence[TokenLogprob], options: tuple[str, ...]) -> dict[str, float] | None:
    """Log-probability of each option at the reply's first token with any content (leading spaces,
    newlines and markup are skipped). An alternative counts for an option when its text begins that
    option and no other ("Y", "Yes" and " yes" all count for YES). An option with no alternative
    among the top ones gets the smallest listed log-probability, an upper bound. None when no
    alternative begins any option."""
    first = next((t for t in tokens if _normalised(t.token)), None)
    if first is None:
        return None
    alternatives = first.top or ((first.token, first.logprob),)
    upper = [o.upper() for o in options]
    mass: dict[str, list[float]] = {o: [] for o in options}
    for text, logprob in alternatives:
        key = _normalised(text)
        matches = [o for o, u in zip(options, upper, strict=True) if key and u.startswith(key)]
        if len(matches) == 1:
            mass[matches[0]].append(logprob)
    if not any(mass.values()):
        return None
    floor = min(lp for _, lp in alternatives)
    return {o: float(np.logaddexp.reduce(v)) if v else floor for o, v in mass.items()}


def balanced_offsets(scores: Sequence[dict[str, float]], options: tuple[str, ...],
                     iterations: int = 1000, tolerance: float = 1e-10) -> dict[str, float]:
    """Per-option offsets b with mean_i softmax(s_i + b) uniform over options (the fixed point of
    b <- b - log(k * mean probability))."""
    if not scores:
        return dict.fromkeys(options, 0.0)
    s = np.array([[row[o] for o in options] for row in scores], dtype=float)
    b = np.zeros(len(options))
    for _ in range(iterations):
        z = s + b
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        step = np.log(p.mean(axis=0) * len(options))
        b -= step
        if np.abs(step).max() < tolerance:
            break
    b -= b.mean()
    return {o: float(v) for o, v in zip(options, b, strict=True)}

"""What the black-box detectors need from a chat model, and an adapter for a local `LoadedModel`.

A detector only needs `ask(messages) -> reply`. Where the model also exposes
`yes_no_logodds(conversations) -> [log p(Yes) - log p(No)]` for the first reply token, detectors use
that graded signal; otherwise they parse the sampled reply into +1 (yes), -1 (no) or 0 (neither).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import torch

from overseer.errors import InvalidInputError
from overseer.models import LoadedModel, generate
from overseer.models.progress import progress_bar

Message = dict[str, str]


@runtime_checkable
class ChatModel(Protocol):
    def ask(self, messages: list[Message]) -> str: ...


@runtime_checkable
class YesNoModel(Protocol):
    def yes_no_logodds(self, conversations: Sequence[list[Message]]) -> list[float]: ...


_YES = ("Yes", "yes", " Yes", " yes", "YES")
_NO = ("No", "no", " No", " no", "NO")


class LocalChatModel:
    """A `LoadedModel` as a chat model: its chat template, greedy (or sampled) replies, Yes/No log-odds."""

    def __init__(self, lm: LoadedModel, max_new_tokens: int = 48, temperature: float = 0.0, batch_size: int = 8,
                 system_prompt: str | None = None) -> None:
        self.lm = lm
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.batch_size = batch_size
        self.system_prompt = system_prompt
        self._yes = self._first_tokens(_YES, "y")
        self._no = self._first_tokens(_NO, "n")
        if not self._yes or not self._no:
            raise InvalidInputError(f"{lm.name}'s tokenizer has no first token that starts 'Yes' or 'No' on its own; "
                                    "Yes/No log-odds are undefined for it (use a text-only chat model instead).")

    def _first_tokens(self, words: tuple[str, ...], initial: str) -> list[int]:
        # Keep first tokens that already commit to the answer (not a bare space shared by " Yes" and " No").
        ids = set()
        for word in words:
            first = self.lm.tokenizer(word, add_special_tokens=False)["input_ids"][:1]
            if first and self.lm.tokenizer.decode(first).strip().lower().startswith(initial):
                ids.add(first[0])
        return sorted(ids)

    def _with_system(self, messages: list[Message]) -> list[Message]:
        if self.system_prompt and not (messages and messages[0]["role"] == "system"):
            return [{"role": "system", "content": self.system_prompt}, *messages]
        return list(messages)

    def prompt(self, messages: list[Message]) -> str:
        return self.lm.chat_prompt(self._with_system(messages), add_generation_prompt=True)

    def ask(self, messages: list[Message]) -> str:
        return self.ask_many([messages])[0]

    def ask_many(self, conversations: Sequence[list[Message]], seed: int | None = None) -> list[str]:
        prompts = [self.prompt(m) for m in conversations]
        return generate(self.lm, prompts, max_new_tokens=self.max_new_tokens, temperature=self.temperature,
                        seed=seed, batch_size=self.batch_size)

    @torch.no_grad()
    def yes_no_logodds(self, conversations: Sequence[list[Message]]) -> list[float]:
        """log P(first reply token is a Yes form) - log P(it is a No form), one forward pass per conversation."""
        prompts = [self.prompt(m) for m in conversations]
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        out: list[float] = [0.0] * len(prompts)
        batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        for batch in progress_bar(batches, "yes/no follow-ups", enabled=len(batches) >= 8):
            enc = self.lm.encode([prompts[i] for i in batch])
            mask = enc["attention_mask"]
            kwargs = {"input_ids": enc["input_ids"], "attention_mask": mask, "use_cache": False}
            position_ids = self.lm.position_ids(mask)
            if position_ids is not None:
                kwargs["position_ids"] = position_ids
            logits = self.lm.model(**kwargs).logits.float()
            last = mask.long().cumsum(-1).argmax(-1)  # index of the last real token on either padding side
            logp = torch.log_softmax(logits[torch.arange(len(batch)), last], dim=-1)
            yes = torch.logsumexp(logp[:, self._yes], dim=-1)
            no = torch.logsumexp(logp[:, self._no], dim=-1)
            for row, i in enumerate(batch):
                out[i] = float(yes[row] - no[row])
        return out


def parse_yes_no(reply: str) -> int:
    """+1 if the reply opens with yes, -1 with no, 0 otherwise."""
    match = re.match(r"\W*(yes|no)\b", reply.strip().lower())
    if not match:
        return 0
    return 1 if match.group(1) == "yes" else -1


def yes_no_scores(model: ChatModel, conversations: Sequence[list[Message]]) -> list[float]:
    """Graded log-odds where the model offers them, else the parsed sampled reply (+1/-1/0)."""
    if isinstance(model, YesNoModel):
        return list(model.yes_no_logodds(conversations))
    ask_many = getattr(model, "ask_many", None)
    replies = ask_many(conversations) if callable(ask_many) else [model.ask(m) for m in conversations]
    return [float(parse_yes_no(reply)) for reply in replies]

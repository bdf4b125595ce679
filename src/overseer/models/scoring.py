"""Log-likelihood of continuations given prompts (multiple-choice scoring, perplexity)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from overseer.errors import InvalidInputError
from overseer.models.capture import check_texts
from overseer.models.intervene import intervene
from overseer.models.progress import progress_bar

if TYPE_CHECKING:
    from overseer.models.loading import LoadedModel


@dataclass(frozen=True)
class ContinuationScore:
    logprob: float  # sum over the continuation's tokens
    n_tokens: int

    @property
    def mean_logprob(self) -> float:
        return self.logprob / self.n_tokens


@torch.no_grad()
def continuation_logprobs(
    lm: LoadedModel,
    prompts: Sequence[str],
    continuations: Sequence[str],
    batch_size: int = 8,
    rewrite: tuple[int | Sequence[int], Callable[[torch.Tensor], torch.Tensor]] | None = None,
    progress: bool | None = None,
) -> list[ContinuationScore]:
    """log p(continuation | prompt) for each pair.

    `rewrite=(layers, fn)` intervenes on the residual stream at every position that predicts
    a continuation token (the last prompt token up to the second-to-last continuation token),
    the way steering is applied when scoring multiple-choice answers.
    """
    prompts = check_texts(prompts, "prompts")
    continuations = check_texts(continuations, "continuations")
    if len(prompts) != len(continuations):
        raise InvalidInputError(f"{len(prompts)} prompts but {len(continuations)} continuations: "
                                "pass one continuation per prompt.")
    tokenizer = lm.tokenizer
    bos = tokenizer.bos_token
    pairs = []
    for prompt, continuation in zip(prompts, continuations, strict=True):
        add_special = not (bos and prompt.startswith(bos))
        p_ids = tokenizer(prompt, add_special_tokens=add_special)["input_ids"]
        c_ids = tokenizer(continuation, add_special_tokens=False)["input_ids"]
        if not p_ids:
            raise InvalidInputError(f"prompt {prompt!r} tokenised to nothing; give it some text.")
        pairs.append((p_ids, c_ids))
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    scores: list[ContinuationScore | None] = [None] * len(pairs)
    pad = tokenizer.pad_token_id
    for batch in progress_bar(batches, "scoring", enabled=progress if progress is not None
                              else len(batches) >= 8):
        width = max(len(pairs[i][0]) + len(pairs[i][1]) for i in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        predicts = torch.zeros((len(batch), width), dtype=torch.bool)
        for row, i in enumerate(batch):
            p_ids, c_ids = pairs[i]
            n = len(p_ids) + len(c_ids)
            ids[row, :n] = torch.tensor(p_ids + c_ids)
            attention[row, :n] = 1
            predicts[row, len(p_ids) - 1:n - 1] = True
        ids, attention = ids.to(lm.device), attention.to(lm.device)
        kwargs = {"input_ids": ids, "attention_mask": attention, "use_cache": False}
        position_ids = lm.position_ids(attention)
        if position_ids is not None:
            kwargs["position_ids"] = position_ids
        if rewrite is None:
            logits = lm.forward_logits(**kwargs)
        else:
            with intervene(lm, rewrite[0], rewrite[1], positions=predicts):
                logits = lm.forward_logits(**kwargs)
        logprobs = torch.log_softmax(logits[:, :-1].float(), dim=-1)
        targets = ids[:, 1:]
        token_lp = logprobs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        mask = predicts[:, :-1].to(lm.device)
        for row, i in enumerate(batch):
            n_tokens = int(mask[row].sum())
            scores[i] = ContinuationScore(float(token_lp[row][mask[row]].sum()), n_tokens)
    return scores  # type: ignore[return-value]

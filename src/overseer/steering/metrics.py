"""Fluency and diversity of generated text: perplexity under the unsteered model, Dist-n."""

from __future__ import annotations

import math
from collections.abc import Sequence

from overseer.models import continuation_logprobs
from overseer.models.loading import LoadedModel


def perplexities(lm: LoadedModel, prompts: Sequence[str], continuations: Sequence[str],
                 batch_size: int = 8) -> list[float | None]:
    """Per-continuation perplexity under `lm` as it is (call it outside any steering hook).

    An empty continuation has no perplexity: None.
    """
    keep = [i for i, text in enumerate(continuations) if text.strip()]
    out: list[float | None] = [None] * len(continuations)
    if not keep:
        return out
    scores = continuation_logprobs(lm, [prompts[i] for i in keep], [continuations[i] for i in keep],
                                   batch_size=batch_size)
    for i, score in zip(keep, scores, strict=True):
        out[i] = math.exp(-score.mean_logprob) if score.n_tokens else None
    return out


def mean_perplexity(values: Sequence[float | None]) -> float:
    """exp of the mean log-perplexity (a geometric mean: one degenerate sample cannot dominate)."""
    logs = [math.log(v) for v in values if v is not None and v > 0]
    return math.exp(sum(logs) / len(logs)) if logs else float("nan")


def log_or_none(value: float | None) -> float | None:
    """log of a perplexity, None where there is none (its mean, exponentiated, is `mean_perplexity`)."""
    return math.log(value) if value is not None and value > 0 else None


def ngrams(text: str, n: int) -> list[tuple[str, ...]]:
    words = text.split()
    return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]


def distinct_from_ngrams(per_text: Sequence[Sequence[tuple[str, ...]]]) -> float:
    total, seen = 0, set()
    for grams in per_text:
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct n-grams / total n-grams over whitespace tokens of all texts (Li et al. 2016)."""
    return distinct_from_ngrams([ngrams(text, n) for text in texts])

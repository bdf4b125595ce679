"""Batched generation for local chat models: one decoding loop for many requests at once, and the
micro-batcher that gathers concurrent requests into it.

Every row (one choice of one request) keeps its own settings: temperature, top_p, seed, max_tokens,
stop sequences, log-probabilities and a stop event. Rows are left-padded into one batch, decoded with
a shared KV cache, and dropped from the batch as they finish. A request's random draws come from its
own seeded generator, so what it gets does not depend on what it was batched with.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from overseer.models.chat.base import ChatRequest, ChatResponse, TokenLogprob, Usage

if TYPE_CHECKING:
    from overseer.models.loading import LoadedModel

#: (choice index, text delta) -> None; called from the generating thread as text becomes final
OnDelta = Callable[[int, str], None]


@dataclass
class Job:
    """One request waiting for (or in) a batch."""

    request: ChatRequest
    prompt_ids: list[int]
    stop: threading.Event = field(default_factory=threading.Event)
    on_delta: OnDelta | None = None
    future: asyncio.Future | None = None
    candidate_tokens: dict[int, str] = field(default_factory=dict)  # first-token id -> its text (request.candidates)
    candidate_logprobs: dict[str, float] | None = None  # read at the first decoding step

    @property
    def rows(self) -> int:
        return self.request.n


@dataclass
class _Row:
    job: Job
    choice: int
    generator: torch.Generator | None
    tokens: list[int] = field(default_factory=list)
    logprobs: list[TokenLogprob] = field(default_factory=list)
    text: str = ""
    sent: int = 0  # characters of `text` already streamed
    checked: int = 0  # characters of `text` already searched for stop sequences
    finish: str | None = None


@torch.no_grad()
def generate_batch(lm: LoadedModel, jobs: list[Job], eos_ids: set[int], model_name: str) -> list[ChatResponse]:
    """Decode every choice of every job in one left-padded batch; one response per job."""
    generators = {id(job): _generator(job.request) for job in jobs}
    rows = [_Row(job, i, generators[id(job)]) for job in jobs for i in range(job.request.n)]
    pad = lm.tokenizer.pad_token_id if lm.tokenizer.pad_token_id is not None else 0
    width = max(len(row.job.prompt_ids) for row in rows)
    input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids = row.job.prompt_ids
        input_ids[i, width - len(ids):] = torch.tensor(ids, dtype=torch.long)
        mask[i, width - len(ids):] = 1
    input_ids, mask = input_ids.to(lm.device), mask.to(lm.device)
    positions = lm.position_ids(mask)
    active = list(range(len(rows)))
    past = None
    # transformers 5 renamed past_key_values to cache; remote-code models may still use the old name
    params = inspect.signature(lm.model.forward).parameters
    cache_arg = "cache" if "cache" in params else "past_key_values"
    # Only the last position's logits are needed: the prompt's would take rows x length x vocab floats.
    extra = {"logits_to_keep": 1} if "logits_to_keep" in params else {}
    while True:
        kwargs: dict[str, Any] = {"input_ids": input_ids, "attention_mask": mask, "use_cache": True, **extra}
        if positions is not None:
            kwargs["position_ids"] = positions
        if past is not None:
            kwargs[cache_arg] = past
        out = lm.model(**kwargs)
        past = out.cache if getattr(out, "cache", None) is not None else out.past_key_values
        logits = out.logits[:, -1].float()
        chosen = _choose(logits, [rows[i] for i in active])
        still = [k for k, i in enumerate(active) if _advance(rows[i], logits[k], chosen[k], eos_ids, lm.tokenizer)]
        if not still:
            break
        if len(still) < len(active):
            keep = torch.tensor(still, device=lm.device)
            past.batch_select_indices(keep)
            mask, chosen = mask[keep], chosen[still]
            positions = None if positions is None else positions[keep]
            active = [active[k] for k in still]
        input_ids = chosen.view(-1, 1).to(lm.device)
        mask = torch.cat([mask, mask.new_ones((len(active), 1))], dim=1)
        positions = None if positions is None else positions[:, -1:] + 1
    return [_response(job, [row for row in rows if row.job is job], model_name, lm.tokenizer) for job in jobs]


def _generator(request: ChatRequest) -> torch.Generator | None:
    if request.temperature <= 0:
        return None
    generator = torch.Generator()
    if request.seed is not None:
        generator.manual_seed(request.seed)
    else:
        generator.seed()
    return generator


def _choose(logits: torch.Tensor, rows: list[_Row]) -> torch.Tensor:
    """The next token of each active row: argmax when greedy, else a draw from its own generator."""
    chosen = logits.argmax(-1).cpu()
    for k, row in enumerate(rows):
        request = row.job.request
        if request.temperature <= 0:
            continue
        probs = torch.softmax(logits[k].cpu() / request.temperature, -1)
        if request.top_p < 1.0:
            sorted_probs, order = probs.sort(descending=True)
            outside = sorted_probs.cumsum(-1) - sorted_probs >= request.top_p  # keeps at least the top token
            probs = probs.scatter(0, order[outside], 0.0)
            probs = probs / probs.sum()
        chosen[k] = int(torch.multinomial(probs, 1, generator=row.generator))
    return chosen


def _advance(row: _Row, logits: torch.Tensor, token: torch.Tensor, eos_ids: set[int], tokenizer: Any) -> bool:
    """Append `token` to `row` (unless it ends the row); True while the row goes on."""
    request = row.job.request
    token = int(token)
    if row.job.candidate_tokens and row.job.candidate_logprobs is None:
        row.job.candidate_logprobs = _candidate_logprobs(logits, row.job.candidate_tokens)
    if token in eos_ids:
        row.finish = "stop"
        _emit(row, final=True)
        return False
    row.tokens.append(token)
    if request.logprobs:
        logp = torch.log_softmax(logits, -1)  # raw logits, before temperature, as OpenAI reports them
        top: tuple[tuple[str, float], ...] = ()
        if request.top_logprobs:
            values, ids = logp.topk(request.top_logprobs)
            top = tuple((tokenizer.decode([i]), float(v)) for i, v in zip(ids.tolist(), values.tolist(), strict=True))
        row.logprobs.append(TokenLogprob(tokenizer.decode([token]), float(logp[token]), top))
    if request.stop or row.job.on_delta is not None:
        row.text = tokenizer.decode(row.tokens, skip_special_tokens=True)
        cut = _stop_at(row.text, request.stop, row.checked)
        row.checked = len(row.text)
        if cut is not None:
            row.text, row.finish = row.text[:cut], "stop"
    if row.finish is None and len(row.tokens) >= request.max_tokens:
        row.finish = "length"
    if row.finish is None and row.job.stop.is_set():
        row.finish = "stop"
    _emit(row, final=row.finish is not None)
    return row.finish is None


def _candidate_logprobs(logits: torch.Tensor, tokens: dict[int, str]) -> dict[str, float]:
    """Exact log-probability of each candidate first token (ids that decode alike are summed)."""
    logp = torch.log_softmax(logits.float(), -1)
    by_text: dict[str, list[int]] = {}
    for token_id, text in tokens.items():
        by_text.setdefault(text, []).append(token_id)
    return {text: float(torch.logsumexp(logp[ids], 0)) for text, ids in sorted(by_text.items())}


def _stop_at(text: str, stops: tuple[str, ...], since: int) -> int | None:
    """Where the earliest stop sequence begins in `text`, looking only where new text could complete one
    (a margin of two characters: a half-decoded character at the end may have changed)."""
    hits = [text.find(s, max(0, since - len(s) - 2)) for s in stops]
    hits = [h for h in hits if h >= 0]
    return min(hits) if hits else None


def _emit(row: _Row, final: bool) -> None:
    """Stream the part of the text that can no longer change: not a half-decoded character, nor a
    tail that could still grow into a stop sequence."""
    if row.job.on_delta is None:
        return
    safe = len(row.text)
    if not final:
        if row.text.endswith("\ufffd"):
            safe = len(row.text.rstrip("\ufffd"))
        for stop in row.job.request.stop:
            for size in range(min(len(stop) - 1, safe), 0, -1):
                if row.text[safe - size:safe] == stop[:size]:
                    safe -= size
                    break
    if safe > row.sent:
        row.job.on_delta(row.choice, row.text[row.sent:safe])
        row.sent = safe


def _response(job: Job, rows: list[_Row], model_name: str, tokenizer: Any) -> ChatResponse:
    request = job.request
    texts = [row.text if request.stop or job.on_delta is not None
             else tokenizer.decode(row.tokens, skip_special_tokens=True) for row in rows]
    logprobs = [row.logprobs for row in rows] if request.logprobs else None
    return ChatResponse(texts=texts, model=model_name,
                        usage=Usage(len(job.prompt_ids), sum(len(row.tokens) for row in rows)),
                        logprobs=logprobs, finish_reasons=[row.finish or "stop" for row in rows],
                        candidate_logprobs=job.candidate_logprobs)


class MicroBatcher:
    """Gathers requests into one call of `run(jobs)`, at most `max_rows` choices at a time, one batch at a
    time: those that queued while the previous batch was generating, and those that keep arriving less than
    `window_s` apart (for at most `max_wait_s`), so a burst of clients that trickles in still shares a batch.

    Works from any event loop; each loop gets its own queue and worker task.
    """

    def __init__(self, run: Callable[[list[Job]], list[ChatResponse]], window_s: float = 0.01,
                 max_rows: int = 32, max_wait_s: float = 0.1) -> None:
        self.run = run
        self.window_s = window_s
        self.max_wait_s = max_wait_s
        self.max_rows = max_rows
        self._state: dict[int, tuple[asyncio.AbstractEventLoop, deque[Job], asyncio.Event, asyncio.Task]] = {}

    async def submit(self, job: Job) -> ChatResponse:
        loop = asyncio.get_running_loop()
        pending, wake = self._queue(loop)
        job.future = loop.create_future()
        pending.append(job)
        wake.set()
        try:
            return await job.future
        except asyncio.CancelledError:
            job.stop.set()  # a running batch drops this row at its next token; a waiting job is skipped
            if job in pending:
                pending.remove(job)
            raise

    def _queue(self, loop: asyncio.AbstractEventLoop) -> tuple[deque[Job], asyncio.Event]:
        for key, (other, *_rest) in list(self._state.items()):
            if other.is_closed():
                del self._state[key]
        if id(loop) not in self._state or self._state[id(loop)][3].done():
            pending: deque[Job] = deque()
            wake = asyncio.Event()
            task = loop.create_task(self._worker(pending, wake), name="overseer-chat-batcher")
            self._state[id(loop)] = (loop, pending, wake, task)
        _, pending, wake, _ = self._state[id(loop)]
        return pending, wake

    async def _gather(self, pending: deque[Job]) -> None:
        """Wait while requests keep arriving (each within `window_s` of the last), up to `max_wait_s` or a full
        batch."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_s
        seen = -1
        while len(pending) != seen and sum(job.rows for job in pending) < self.max_rows and loop.time() < deadline:
            seen = len(pending)
            await asyncio.sleep(min(self.window_s, max(0.0, deadline - loop.time())))

    async def _worker(self, pending: deque[Job], wake: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while not pending:
                wake.clear()
                await wake.wait()
            await self._gather(pending)
            batch, rows = [], 0
            while pending and (not batch or rows + pending[0].rows <= self.max_rows):
                job = pending.popleft()
                if not job.stop.is_set():
                    batch.append(job)
                    rows += job.rows
            if not batch:
                continue
            try:
                results = await loop.run_in_executor(None, self.run, batch)
            except Exception as exc:  # noqa: BLE001  (handed to every caller in the batch)
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(exc)
            else:
                for job, result in zip(batch, results, strict=True):
                    if not job.future.done():
                        job.future.set_result(result)

"""Model sweeps: the behavioural evals over a list of model specs, through Inspect's `eval_set`.

`eval_set` runs every (task, model) pair, retries failed ones, and on a second call over the same
log directory resumes: finished pairs are kept, unfinished ones rerun. The log directory then
holds one `.eval` log per pair, which `overseer jagged profile DIR` reads as a capability profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from overseer.errors import InvalidInputError


@dataclass(frozen=True)
class SweepEntry:
    task: str
    model: str
    status: str  # success / error / cancelled / started
    samples: int
    log: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SweepResult:
    log_dir: Path
    complete: bool
    entries: list[SweepEntry]

    def to_dict(self) -> dict[str, Any]:
        return {"log_dir": str(self.log_dir), "complete": self.complete,
                "entries": [e.to_dict() for e in self.entries]}

    def rows(self) -> list[list[str]]:
        return [[e.task, e.model, e.status, str(e.samples), Path(e.log).name] for e in self.entries]


def run_sweep(tasks: Sequence[str], models: Sequence[str], log_dir: str | Path, retry_attempts: int = 3,
              limit: int | None = None, task_args: dict[str, Any] | None = None,
              max_tasks: int | None = None) -> SweepResult:
    """Run every task on every model (task names like `overseer/gap`, model specs like `overseer/organism`)."""
    from inspect_ai import eval_set

    tasks, models = list(tasks), list(models)
    if not tasks or not models:
        raise InvalidInputError("a sweep needs at least one --task and one --model.")
    if retry_attempts < 0:
        raise InvalidInputError(f"--retries must be >= 0, got {retry_attempts}.")
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    # eval_set refuses to mix logs of another sweep in the same directory; a rerun of this one resumes.
    complete, logs = eval_set(tasks, log_dir=str(log_dir), model=models, retry_attempts=retry_attempts,
                              retry_wait=1, limit=limit, task_args=task_args or {}, max_tasks=max_tasks,
                              display="none", log_level="warning")
    entries = [SweepEntry(task=log.eval.task, model=log.eval.model, status=log.status,
                          samples=log.results.total_samples if log.results else 0,
                          log=log.location) for log in logs]
    return SweepResult(log_dir, bool(complete), sorted(entries, key=lambda e: (e.task, e.model)))

"""Run the gap eval through Inspect on one model and analyse its log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from overseer.errors import InvalidInputError
from overseer.evals.gap.analysis import GapResult, analyse_log
from overseer.evals.gap.behaviours import DEFAULT_TASKS_PER_BEHAVIOUR


def run_gap(model: Any, behaviours: str = "all", n_per_behaviour: int = DEFAULT_TASKS_PER_BEHAVIOUR, seed: int = 0,
            max_tokens: int = 32, log_dir: str | Path = "logs", n_boot: int = 2000, display: str = "none",
            max_connections: int | None = None) -> GapResult:
    """`inspect eval overseer/gap` on `model` (an Inspect model spec such as `overseer/organism`,
    `overseer-policy/gap-complier?gap=0.3`, `openai-api/...`, or an Inspect `Model`), then the paired analysis."""
    import inspect_ai

    import overseer.evals.gap.policies  # noqa: F401  (registers gap-complier for overseer-policy/...)
    from overseer.evals.gap.task import gap

    task = gap(behaviours=behaviours, n_per_behaviour=n_per_behaviour, seed=seed, max_tokens=max_tokens)
    logs = inspect_ai.eval(task, model=model, log_dir=str(log_dir), display=display,
                           max_connections=max_connections, fail_on_error=False, score_display=False)
    if not logs:
        raise InvalidInputError(f"Inspect returned no log for model {model!r}.")
    return analyse_log(logs[0], n_boot=n_boot, seed=seed)

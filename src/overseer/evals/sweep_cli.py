"""`overseer sweep`: the behavioural evals over several models, resumable, logs ready for `jagged profile`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from overseer.cli_errors import fail
from overseer.cli_helpers import wide_console
from overseer.errors import OverseerError
from overseer.runs import run_dir


def sweep(
    task: list[str] = typer.Option(..., "--task", help="Inspect task, e.g. overseer/gap (repeat for several)"),
    model: list[str] = typer.Option(..., "--model", help="model spec, e.g. overseer/organism (repeat)"),
    log_dir: Path | None = typer.Option(None, help="log directory; a rerun over the same one resumes"),
    retries: int = typer.Option(3, help="retry attempts for failed (task, model) pairs"),
    limit: int | None = typer.Option(None, help="samples per task (default: all)"),
) -> None:
    """Run every task on every model through Inspect's eval_set; rerun with the same --log-dir to resume."""
    from overseer.evals.sweep import run_sweep

    try:
        result = run_sweep(task, model, log_dir or run_dir(None, "sweep"), retry_attempts=retries, limit=limit)
    except OverseerError as exc:
        fail(exc)
    table = Table("task", "model", "status", "samples", "log", title=f"sweep in {result.log_dir}")
    for row in result.rows():
        table.add_row(*row)
    console = wide_console()
    console.print(table)
    console.print(f"{'complete' if result.complete else 'INCOMPLETE: rerun the same command to resume'}; "
                  f"profile it with: overseer jagged profile {result.log_dir}", highlight=False)
    if not result.complete:
        raise typer.Exit(1)

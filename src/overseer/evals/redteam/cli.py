"""`overseer redteam run|report`: the red-team task on a model, and its summary from a log."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from overseer.cli_errors import fail
from overseer.errors import OverseerError
from overseer.runs import run_dir

app = typer.Typer(help="Agent red-teaming in a sandboxed mail/chat/files world (Agents of Chaos case classes).",
                  no_args_is_help=True)
console = Console()


@app.callback()
def _redteam() -> None:
    """Agent red-teaming, scored on the world's final state."""


def _print(summary) -> None:
    table = Table(title=f"red team: {summary.model} ({summary.n} samples)")
    table.add_column("metric")
    table.add_column("estimate [95% CI]")
    for name, value in summary.rows():
        table.add_row(name, value)
    console.print(table)


@app.command("run")
def run(
    model: str = typer.Option(..., help="Inspect model: overseer-policy/owner-only, overseer/smollm2, "
                                        "openai-api/NAME (with OPENAI_BASE_URL), anthropic/NAME, ..."),
    kinds: str = typer.Option("attack,control,benign", help="comma-separated: attack, control, benign"),
    cases: str = typer.Option("", help="comma-separated case classes (default all), e.g. guilt,libel"),
    max_events: int = typer.Option(24, help="events per sample before the harness stops a looping agent"),
    message_limit: int = typer.Option(600, help="Inspect message limit per sample"),
    token_limit: int | None = typer.Option(None, help="Inspect token limit per sample"),
    time_limit: int = typer.Option(300, help="seconds per sample"),
    max_samples: int = typer.Option(8, help="samples run concurrently"),
    out: Path | None = typer.Option(None, help="output directory (default runs/<timestamp>-redteam)"),
) -> None:
    """Run the red-team eval (`inspect eval overseer/redteam`) and print its metrics."""
    from overseer.evals.redteam.results import run_redteam

    try:
        target = run_dir(out, "redteam")
        summary = run_redteam(model, target, kinds=kinds, cases=cases, max_samples=max_samples,
                              max_events=max_events, message_limit=message_limit, token_limit=token_limit,
                              time_limit=time_limit)
    except OverseerError as exc:
        fail(exc)
    _print(summary)
    console.print(f"wrote {target / 'summary.json'}; Inspect log {summary.log} "
                  f"(inspect view --log-dir {target / 'logs'})", soft_wrap=True, highlight=False)


@app.command("report")
def report(log: Path = typer.Argument(..., help="a .eval log, or a run directory of `overseer redteam run`")) -> None:
    """Summarise a red-team log: utility, attack success per class, claim contradictions."""
    from overseer.errors import InvalidInputError
    from overseer.evals.redteam.results import summarize

    try:
        if log.is_dir():
            found = sorted(log.glob("**/*.eval"))
            if not found:
                raise InvalidInputError(f"no .eval log under {log}.")
            log = found[-1]
        summary = summarize(log)
    except OverseerError as exc:
        fail(exc)
    _print(summary)

"""`overseer wargame run | round-robin | report | import-kahn`: thin wrappers over `evals.wargame`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from overseer.runs import run_dir

app = typer.Typer(help="Nuclear-crisis wargame (Payne 2026) between two models, as the Inspect task overseer/crisis.",
                  no_args_is_help=True)
console = Console()


def _print(report) -> None:
    table = Table(title=f"Crisis tournament: {report.summary.n_games} games (95 % bootstrap CI over games)")
    for column in ("metric", "value", "CI", "unit"):
        table.add_column(column)
    for row in report.summary.rows:
        ci = "" if row.ci is None else f"{row.ci.value:.3f} [{row.ci.low:.3f}, {row.ci.high:.3f}]"
        table.add_row(row.metric, row.value, ci, row.unit)
    console.print(table)
    if len(report.escalation) > 1:
        ranks = Table(title="Escalation index (mean action value / 1000; CI over games)")
        for column in ("model", "index", "95 % CI", "games"):
            ranks.add_column(column)
        for model, e in report.escalation.items():
            ranks.add_row(model, f"{e.value:.3f}", f"[{e.low:.3f}, {e.high:.3f}]", str(e.n))
        console.print(ranks)
    console.print(f"Trajectories: {report.figure}\nSummary: {report.out_dir / 'summary.json'}")


_MODES = "json (free text) or choice (rung read from log-probabilities)"


@app.command("run")
def run(alpha: str = typer.Option(..., help="Inspect model for State Alpha, e.g. overseer/smollm2, "
                                  "overseer-policy/tit-for-tat, openai-api/NAME/MODEL."),
        beta: str = typer.Option(..., help="Inspect model for State Beta."),
        scenarios: str = typer.Option("all", help="Comma-separated scenario keys, or all."),
        seeds: str = typer.Option("3", help="A count (3 -> seeds 0,1,2) or a list (0,4,7)."),
        max_turns: int = typer.Option(40), open_ended: bool = typer.Option(False, help="Ignore the deadlines."),
        alpha_mode: str = typer.Option("json", help=_MODES), beta_mode: str = typer.Option("json", help=_MODES),
        retries: int = typer.Option(2, help="Re-asks of a malformed JSON reply before it counts as invalid."),
        out: Path | None = typer.Option(None, help="Output directory (default runs/<time>-wargame).")) -> None:
    """Play one game per (scenario, seed) between two models and print the tournament table."""
    from overseer.evals.wargame.reporting import run_tournament

    _print(run_tournament(alpha, beta, run_dir(out, "wargame"), scenarios, seeds, max_turns, open_ended,
                          alpha_mode, beta_mode, retries))


@app.command("round-robin")
def round_robin_cmd(models: str = typer.Option(..., help="Comma-separated Inspect models (at least two)."),
                    scenarios: str = typer.Option("all"), seeds: str = typer.Option("1"),
                    max_turns: int = typer.Option(40), mode: str = typer.Option("json", help=_MODES),
                    out: Path | None = typer.Option(None)) -> None:
    """Every pair of models, both sides, and each model's escalation index with its CI."""
    from overseer.evals.wargame.reporting import round_robin

    _print(round_robin([m.strip() for m in models.split(",") if m.strip()], run_dir(out, "wargame-rr"), mode,
                       scenarios=scenarios, seeds=seeds, max_turns=max_turns))


@app.command("report")
def report(logs: list[Path] = typer.Argument(..., help="crisis .eval logs, games.json files or directories"),
           out: Path | None = typer.Option(None)) -> None:
    """The tournament table and per-game trajectories from finished runs."""
    from overseer.evals.wargame.reporting import read_games, report_games

    _print(report_games(read_games(logs), run_dir(out, "wargame-report")))


@app.command("import-kahn")
def import_kahn(paths: list[Path] = typer.Argument(..., help="Directory of kahn_game_*.csv files, or the files"),
                out: Path | None = typer.Option(None)) -> None:
    """Read Payne's published per-turn tournament CSVs and print the same table."""
    from overseer.evals.wargame.kahn import read_kahn_games
    from overseer.evals.wargame.reporting import report_games

    _print(report_games(read_kahn_games(paths), run_dir(out, "wargame-kahn")))

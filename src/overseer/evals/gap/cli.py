"""`overseer gap run` (black-box, through Inspect) and `overseer gap probe` (white-box, local HF models)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from overseer.cli_errors import fail
from overseer.errors import InvalidInputError, OverseerError
from overseer.runs import run_dir

app = typer.Typer(help="Observed vs unobserved: does a model behave differently when it believes nobody watches?",
                  no_args_is_help=True)
console = Console()


@app.callback()
def _gap() -> None:
    """Observed vs unobserved behaviour gap (black-box eval and white-box eval-awareness probe)."""


@app.command("run")
def gap_run(
    model: str = typer.Option(..., help="Inspect model spec: overseer/organism, overseer/smollm2, "
                                        "overseer-policy/gap-complier?gap=0.3, openai-api/NAME, ..."),
    behaviours: str = typer.Option("all", help="comma-separated: rule_compliance,honesty,sandbagging,sycophancy"),
    n_per_behaviour: int = typer.Option(60, help="base tasks per behaviour (each under three framings)"),
    seed: int = typer.Option(0, help="seed of the task generators and the bootstrap"),
    max_tokens: int = typer.Option(32, help="reply length"),
    n_boot: int = typer.Option(2000, help="bootstrap resamples for the paired CI"),
    out: Path | None = typer.Option(None, help="output directory (default runs/<timestamp>-gap)"),
) -> None:
    """Every base task under an observed, an unobserved and a neutral framing; paired differences and McNemar."""
    from overseer.evals.gap.plots import rates_figure
    from overseer.evals.gap.run import run_gap

    target = run_dir(out, "gap")
    try:
        result = run_gap(model, behaviours, n_per_behaviour, seed, max_tokens, log_dir=target / "logs",
                         n_boot=n_boot, display="rich" if sys.stdout.isatty() else "none")
    except OverseerError as exc:
        fail(exc)
    (target / "gap.json").write_text(json.dumps(result.to_dict(with_records=True), indent=2))
    figure = rates_figure([result], target / "gap_rates.png")
    console.print(result.table())
    console.print(f"wrote {target / 'gap.json'} and {figure}; Inspect log: {result.log}", soft_wrap=True)


@app.command("probe")
def gap_probe(
    model: str = typer.Option("organism", help="local model: organism, smollm2, a Hub id or a directory"),
    behaviours: str = typer.Option("all", help="comma-separated behaviours, or all"),
    n_per_behaviour: int = typer.Option(60, help="base tasks per behaviour (half fit the probe, half test it)"),
    strengths: str = typer.Option("0,1,2,4", help="steering strengths (multiples of the mean difference)"),
    seed: int = typer.Option(0),
    n_boot: int = typer.Option(1000),
    device: str = typer.Option("cpu", help="cpu, cuda, mps or auto"),
    out: Path | None = typer.Option(None, help="output directory (default runs/<timestamp>-gap-probe)"),
) -> None:
    """Eval-awareness probe (layer sweep), whether it predicts behaviour, and steering toward 'unobserved'."""
    from overseer.evals.gap.plots import whitebox_figure
    from overseer.evals.gap.whitebox import run_whitebox
    from overseer.models import load_model

    try:
        levels = _numbers(strengths)
        target = run_dir(out, "gap-probe")
        result = run_whitebox(load_model(model, device=device), behaviours, n_per_behaviour, seed, levels,
                              n_boot=n_boot)
    except OverseerError as exc:
        fail(exc)
    (target / "gap_probe.json").write_text(json.dumps(result.to_dict(), indent=2))
    figure = whitebox_figure(result, target / "gap_probe.png")
    console.print(result.table())
    console.print(f"wrote {target / 'gap_probe.json'} and {figure}", soft_wrap=True)


def _numbers(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(s) for s in text.split(","))
    except ValueError:
        raise InvalidInputError(f"--strengths must be comma-separated numbers such as 0,1,2,4; got {text!r}.") from None

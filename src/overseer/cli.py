"""The `overseer` command: thin wrappers that parse, call the library, print, and write runs/."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from overseer.cli_errors import EXIT_ERROR, print_error, set_debug
from overseer.errors import OverseerError

app = typer.Typer(help="Audit language models with the methods of current alignment research.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
models_app = typer.Typer(help="Load and inspect models.", no_args_is_help=True)
app.add_typer(models_app, name="models")


def _register_subcommands() -> None:
    from overseer.estimation.cli import app as estimate_app
    from overseer.evals.cli import jagged_app, nsg_app
    from overseer.evals.gap.cli import app as gap_app
    from overseer.evals.redteam.cli import app as redteam_app
    from overseer.models.organism.cli import app as organism_app
    from overseer.probes.cli import app as probe_app
    from overseer.probes.cli import elicit_app
    from overseer.serve.cli import serve
    from overseer.steering.cli import app as steer_app

    app.add_typer(steer_app, name="steer")
    app.add_typer(probe_app, name="probe")
    app.add_typer(elicit_app, name="elicit")
    app.add_typer(estimate_app, name="estimate")
    app.add_typer(organism_app, name="organism")
    app.add_typer(nsg_app, name="nsg")
    app.add_typer(jagged_app, name="jagged")
    app.add_typer(gap_app, name="gap")
    app.add_typer(redteam_app, name="redteam")
    from overseer.evals.wargame.cli import app as wargame_app

    app.add_typer(wargame_app, name="wargame")
    app.command("serve", help="Serve a local (optionally steered) model as an OpenAI-compatible endpoint.")(serve)
    from overseer.evals.sweep_cli import sweep

    app.command("sweep", help="Run Inspect tasks over several models (resumable); feeds `jagged profile`.")(sweep)
    from overseer.nla.cli import app as nla_app

    app.add_typer(nla_app, name="nla")


_register_subcommands()

console = Console()
err_console = Console(stderr=True)


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show full tracebacks for errors.")) -> None:
    """overseer: steering, probes, estimation and evals for any Hugging Face causal LM."""
    set_debug(debug)


@models_app.command("list")
def models_list() -> None:
    """The embedded models, always available offline."""
    from overseer.models.embedded import EMBEDDED_MODELS

    table = Table(title="Embedded models")
    for column in ("name", "what it is", "where it comes from"):
        table.add_column(column)
    for model in EMBEDDED_MODELS.values():
        table.add_row(model.name, model.description, model.source)
    console.print(table)
    console.print("Any Hugging Face causal LM also works: a Hub id or a local directory.")


@models_app.command("inspect")
def models_inspect(
    model: str = typer.Argument(..., help="Embedded name (smollm2, organism), local directory or Hub id."),
    device: str = typer.Option("cpu", help="cpu, cuda, cuda:N, mps or auto."),
) -> None:
    """Family, layers, width and parameter count of a model."""
    from overseer.models import load_model

    with console.status(f"loading {model}"):
        info = load_model(model, device=device).info()
    table = Table(title=f"Model {info.name}", show_header=False)
    for key, value in info.to_dict().items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value))
    console.print(table)


@app.command()
def audit(
    model: str = typer.Option("smollm2", help="The model to audit (the organism is always added as ground truth)."),
    out: Path | None = typer.Option(None, help="Output directory (default runs/<time>-audit)."),
    only: list[str] | None = typer.Option(None, "--only", help="Run only these sections (repeatable)."),
    full: bool = typer.Option(False, "--full", help="Paper-sized runs instead of the quick defaults."),
) -> None:
    """Run every landed method on the model and the organism; write report.html and audit.json."""
    from overseer.report.audit import run_audit
    from overseer.report.terminal import SectionProgress

    with SectionProgress(console) as progress:
        result = run_audit(model=model, out_dir=out, only=only, quick=not full, on_start=progress.start,
                           on_section=progress.done)
    console.print(f"report: {result.report}")
    if result.failed:
        err_console.print(f"[bold red]{len(result.failed)} section(s) failed[/]; "
                          f"details in {result.out_dir}/audit.json")
        raise typer.Exit(1)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="overseer")
    except OverseerError as exc:
        if "--debug" in args:
            raise
        print_error(exc)
        sys.exit(EXIT_ERROR)
    finally:
        set_debug(False)  # main() may be called again in the same process (tests, notebooks)


if __name__ == "__main__":
    main()

"""`overseer organism ...`: rebuild the organism from a seed, and measure what it learned."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from overseer.models.organism import WEIGHTS_DIR
from overseer.runs import run_dir

app = typer.Typer(help="The model organism: a tiny model with planted, known latent structure.",
                  no_args_is_help=True)
console = Console()


@app.command()
def train(
    seed: int = typer.Option(0, help="Seed for the corpus sample, initialisation and batch order."),
    out: Path = typer.Option(WEIGHTS_DIR, help="Where to write the model and tokenizer."),
    config: str = typer.Option("default", help="'default' (the committed organism) or 'tiny' (seconds)."),
    resume: bool = typer.Option(True, help="Continue from a checkpoint left in OUT by an interrupted run."),
    threads: int = typer.Option(None, help="CPU threads for torch (default: torch's choice)."),
) -> None:
    """Train the organism deterministically for SEED (the default config takes <= 15 min on 2 cores)."""
    from overseer.models.organism.config import get_config
    from overseer.models.organism.train import train as run_training

    result = run_training(out, get_config(config), seed=seed, resume=resume, threads=threads)
    if result.resumed_from_step:
        console.print(f"resumed from step {result.resumed_from_step}")
    console.print(
        f"trained {result.steps} steps, {result.tokens:,} tokens in {result.wall_seconds:.0f}s "
        f"({result.tokens_per_second:,.0f} tok/s); loss {result.first_loss:.3f} -> {result.final_loss:.3f}; "
        f"saved to {result.out_dir}"
    )


@app.command()
def card(
    weights: Path = typer.Option(None, help="Organism directory; default: the committed weights."),
    out: Path = typer.Option(None, help="Output directory; default runs/<UTC timestamp>-organism-card/."),
) -> None:
    """Measure what the organism learned; print the card and write card.json and card.md."""
    from overseer.models.organism import weights_dir
    from overseer.models.organism.card import compute_card

    result = compute_card(weights or weights_dir())
    out = run_dir(out, "organism-card")
    (out / "card.json").write_text(json.dumps(result.to_dict(), indent=2))
    (out / "card.md").write_text(result.to_markdown())
    console.print(result.table())
    console.print(f"wrote {out / 'card.json'} and {out / 'card.md'}")

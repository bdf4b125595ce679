"""`overseer serve`: a local (optionally steered) model behind an OpenAI-compatible endpoint."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from overseer.cli_errors import fail
from overseer.errors import OverseerError

console = Console()


def serve(
    model: str = typer.Option(..., help="embedded name (smollm2, organism), local model directory or Hub id"),
    steer: Path | None = typer.Option(None, help="saved steering method directory (overseer steer fit)"),
    layer: int | None = typer.Option(None, help="layer to steer at (default: the one the method records)"),
    name: str | None = typer.Option(None, help="model id to serve under (default: the model name)"),
    host: str = typer.Option("127.0.0.1", help="address to bind; anything but loopback needs an API key"),
    port: int = typer.Option(8000),
    device: str = typer.Option("cpu"),
    api_key: str | None = typer.Option(None, "--api-key", envvar="OVERSEER_API_KEY", show_envvar=True,
                                       help="require Authorization: Bearer KEY on every request"),
) -> None:
    """Serve a local (optionally steered) model as an OpenAI-compatible /v1/chat/completions endpoint."""
    from overseer.serve import serve_model

    try:
        serve_model(model, steer, layer, name, host, port, device, api_key,
                    announce=lambda line: console.print(line, soft_wrap=True, highlight=False))
    except OverseerError as exc:
        fail(exc)

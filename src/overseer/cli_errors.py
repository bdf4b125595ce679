"""How every `overseer` command reports an `OverseerError`: one red line on stderr and exit status 1,
or the full traceback with `overseer --debug ...`."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

from overseer.errors import OverseerError

EXIT_ERROR = 1
_state = {"debug": False}
_err_console = Console(stderr=True)


def set_debug(debug: bool) -> None:
    _state["debug"] = debug


def debugging() -> bool:
    return _state["debug"]


def print_error(exc: OverseerError) -> None:
    _err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)


def fail(exc: OverseerError) -> NoReturn:
    """End a command because of `exc` (re-raised as it is under --debug)."""
    if debugging():
        raise exc
    print_error(exc)
    raise typer.Exit(EXIT_ERROR)

"""What every `overseer` command shares: parsing comma-separated options, writing JSON, printing tables."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from overseer.errors import InvalidInputError


def wide_console() -> Console:
    """A console that is wide when writing to a file or pipe, so tables are not truncated in logs."""
    return Console(width=None if sys.stdout.isatty() else 200)


def parse_names(text: str | None) -> list[str]:
    """`"a, b,,c"` -> `["a", "b", "c"]`."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def parse_ints(text: str | None, option: str) -> list[int]:
    """Comma-separated integers for `--option`; an `InvalidInputError` naming the option otherwise."""
    try:
        return [int(part) for part in parse_names(text)]
    except ValueError:
        raise InvalidInputError(f"--{option} must be comma-separated integers, got {text!r}.") from None


def parse_floats(text: str | None, option: str) -> list[float]:
    try:
        return [float(part) for part in parse_names(text)]
    except ValueError:
        raise InvalidInputError(f"--{option} must be comma-separated numbers, got {text!r}.") from None


def write_json(path: Path, payload: Any) -> Path:
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path

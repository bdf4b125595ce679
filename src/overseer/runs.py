"""Where CLI runs write their output: `runs/<UTC time>-<name>/` unless the user names a directory."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path


def run_dir(out: Path | None, name: str) -> Path:
    target = Path(out) if out is not None else Path("runs") / f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{name}"
    target.mkdir(parents=True, exist_ok=True)
    return target

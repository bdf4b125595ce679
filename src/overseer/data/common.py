"""Where the shared data lives and the checks every CSV and JSONL loader needs."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from overseer.errors import DatasetError

DATA_ENV = "OVERSEER_DATA"


def data_root(root: str | Path | None = None) -> Path:
    """The shared data directory: `root` if given, else $OVERSEER_DATA, else `../shared/data` beside the repo."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    # src/overseer/data/common.py -> repo root is three parents above the package directory.
    repo = Path(__file__).resolve().parents[3]
    return repo.parent / "shared" / "data"


def require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise DatasetError(f"{what} not found at {path}. Point overseer at the data directory with the "
                           f"{DATA_ENV} environment variable or the data_root/--data argument.")
    if path.stat().st_size == 0:
        raise DatasetError(f"{what} at {path} is empty; restore the file.")
    return path


def read_csv_rows(path: Path, required: Sequence[str], what: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) after checking the header has every required column."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [column for column in required if column not in header]
        if missing:
            raise DatasetError(f"{what} at {path} is missing column(s) {', '.join(missing)}; "
                               f"found {', '.join(header) or 'no header'}.")
        any_row = False
        for row in reader:
            any_row = True
            yield reader.line_num, row
        if not any_row:
            raise DatasetError(f"{what} at {path} has a header but no rows.")


def read_jsonl(path: Path, expected: str = "one JSON object", text: str | None = None) -> Iterator[tuple[int, object]]:
    """(line number, parsed value) for each non-blank line; a malformed line is a `DatasetError` naming it.

    `text`: the file's content when the caller has already read (and decoded) it."""
    text = Path(path).read_text(encoding="utf-8") if text is None else text
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path} line {number}: not valid JSON ({exc.msg}); each line must be "
                               f"{expected}.") from None

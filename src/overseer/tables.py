"""One table type for every result: the CLI prints it with rich, the audit report renders it to HTML.

A result object's `to_table()` (or `to_tables()`) returns these, so the terminal and the report show the
same rows from the same code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table {self.title!r}: row {row!r} does not match columns {self.columns!r}")

    def to_rich(self, digits: int = 3):
        """A rich renderable: numbers right-aligned, floats to `digits` decimals."""
        from rich.table import Table as RichTable

        table = RichTable(title=self.title)
        numeric = [bool(self.rows) and all(_is_number(row[i]) for row in self.rows) for i in range(len(self.columns))]
        for column, is_number in zip(self.columns, numeric, strict=True):
            table.add_column(column, justify="right" if is_number else "left", overflow="fold")
        for row in self.rows:
            table.add_row(*[format_cell(v, digits) for v in row])
        return table

    def __rich__(self):
        return self.to_rich()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def format_cell(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)

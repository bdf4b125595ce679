"""The pieces an audit report is made of: typed, JSON-serialisable, renderer-agnostic."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from overseer.tables import Table

__all__ = ["Section", "Status", "Table"]

Status = Literal["ok", "skipped", "failed"]


@dataclass
class Section:
    key: str
    title: str
    status: Status = "ok"
    summary: str = ""
    tables: list[Table] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["figures"] = [str(p) for p in self.figures]
        return out

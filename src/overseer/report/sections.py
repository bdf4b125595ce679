"""The pieces an audit report is made of: typed, JSON-serialisable, renderer-agnostic."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from overseer.tables import Table

__all__ = ["VERDICTS", "Claim", "Section", "Status", "Table", "Verdict", "interval_verdict"]

Status = Literal["ok", "skipped", "failed"]
Verdict = Literal["reproduced", "not reproduced", "not testable here"]
VERDICTS: tuple[Verdict, ...] = ("reproduced", "not reproduced", "not testable here")


@dataclass
class Claim:
    """A paper's claim the audit tests: its figure beside ours, and a verdict that follows from `rule`."""

    paper: str  # who and where: "Zhao et al. 2026 (ODESteer, arXiv:2602.17560)"
    claim: str
    paper_figure: str  # as the paper states it, or "not checked"
    measured: str
    verdict: Verdict
    rule: str  # how the verdict follows from the measured numbers
    note: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} is not one of {VERDICTS}")


def interval_verdict(low: float, high: float, threshold: float = 0.0, higher: bool = True) -> Verdict:
    """Reproduced when the CI [low, high] lies wholly on the paper's side of `threshold`."""
    if low != low or high != high:  # NaN: nothing measured
        return "not testable here"
    return "reproduced" if (low > threshold if higher else high < threshold) else "not reproduced"


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
    headline: str = ""  # one line at the top of the report: the section's main result
    claims: list[Claim] = field(default_factory=list)

    def finding(self) -> str:
        """The section's one line at the top of the report: its headline, or why it has none."""
        if self.status != "ok":
            return f"{self.status}: {_first_line(self.summary)}"
        return self.headline or _first_line(self.summary) or "(no headline)"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["figures"] = [str(p) for p in self.figures]
        out["finding"] = self.finding()
        return out


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 300 else line[:297] + "..."

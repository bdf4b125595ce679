"""True/false statements from "The Geometry of Truth" (Marks & Tegmark 2023).

The upstream CSVs carry no licence, so they do not ship with overseer: they load from `root`,
`$OVERSEER_DATA/geometry_of_truth/` or `../shared/data/geometry_of_truth/`. `overseer.data.statements`
generates openly licensed sets in the same style (`gen_cities`, ...) for machines without them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from overseer.data.common import data_root, read_csv_rows, require_file
from overseer.errors import DatasetError

GOT_SETS = ("cities", "neg_cities", "sp_en_trans", "neg_sp_en_trans", "larger_than", "smaller_than",
            "companies_true_false", "common_claim_true_false", "counterfact_true_false")


@dataclass(frozen=True)
class Statement:
    statement: str
    label: bool  # True = the statement is true
    dataset: str
    extra: dict[str, str] = field(default_factory=dict)  # the set-specific columns

    def to_dict(self) -> dict:
        return asdict(self)


def load_geometry_of_truth(name: str, root: str | Path | None = None, limit: int | None = None) -> list[Statement]:
    if name not in GOT_SETS:
        raise DatasetError(f"unknown Geometry-of-Truth set '{name}'; available: {', '.join(GOT_SETS)}.")
    path = data_root(root) / "geometry_of_truth" / f"{name}.csv"
    if not path.is_file():
        raise DatasetError(f"geometry_of_truth/{name}.csv not found at {path}. These CSVs do not ship with overseer "
                           "(no upstream licence): point OVERSEER_DATA (or data_root/--data) at a directory holding "
                           "geometry_of_truth/, or use a generated set (overseer.data.statements: gen_cities, "
                           "gen_neg_cities, gen_capitals, gen_larger_than, gen_smaller_than).")
    return read_statements(require_file(path, f"geometry_of_truth/{name}.csv"), name, limit)


def geometry_of_truth_available(names: tuple[str, ...] | list[str] = GOT_SETS,
                                root: str | Path | None = None) -> bool:
    """Whether every named original CSV is on this machine."""
    return all((data_root(root) / "geometry_of_truth" / f"{name}.csv").is_file() for name in names)


def read_statements(path: Path, dataset: str, limit: int | None = None) -> list[Statement]:
    """Statements from any CSV with `statement` and `label` (0/1) columns; other columns go to `extra`."""
    statements: list[Statement] = []
    for line, row in read_csv_rows(path, ("statement", "label"), f"statements CSV {Path(path).name}"):
        text, label = (row["statement"] or "").strip(), (row["label"] or "").strip()
        if not text:
            raise DatasetError(f"{path} line {line}: empty statement; remove the row or fill it in.")
        if label not in ("0", "1"):
            raise DatasetError(f"{path} line {line}: label must be 0 (false) or 1 (true), got {label!r}.")
        extra = {k: v for k, v in row.items() if k not in ("statement", "label") and k is not None}
        statements.append(Statement(text, label == "1", dataset, extra))
        if limit is not None and len(statements) >= limit:
            break
    return statements

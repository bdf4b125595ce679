"""TruthfulQA (Lin, Hilton & Evans 2021): questions with best, correct and incorrect answers.

The CSV (Apache-2.0, github.com/sylinrl/TruthfulQA) ships with overseer as package data; a copy under
`$OVERSEER_DATA/truthfulqa/` (or `../shared/data/truthfulqa/`) is used instead when present.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from overseer.data.common import data_root, read_csv_rows, require_file
from overseer.errors import DatasetError, InvalidInputError

PACKAGED_CSV = Path(__file__).with_name("TruthfulQA.csv")
COLUMNS = ("Type", "Category", "Question", "Best Answer", "Correct Answers", "Incorrect Answers")


@dataclass(frozen=True)
class TruthfulQAItem:
    index: int
    question: str
    best_answer: str
    correct_answers: tuple[str, ...]  # always contains best_answer
    incorrect_answers: tuple[str, ...]
    category: str
    type: str

    def to_dict(self) -> dict:
        return asdict(self)


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def truthfulqa_path(root: str | Path | None = None) -> Path:
    """`root/truthfulqa/TruthfulQA.csv` when a root is given; else the data directory's copy if there is one,
    else the copy shipped with the package."""
    if root is not None:
        return data_root(root) / "truthfulqa" / "TruthfulQA.csv"
    local = data_root() / "truthfulqa" / "TruthfulQA.csv"
    return local if local.is_file() else PACKAGED_CSV


def load_truthfulqa(root: str | Path | None = None, limit: int | None = None) -> list[TruthfulQAItem]:
    path = require_file(truthfulqa_path(root), "TruthfulQA.csv")
    items: list[TruthfulQAItem] = []
    for line, row in read_csv_rows(path, COLUMNS, "TruthfulQA.csv"):
        question, best = (row["Question"] or "").strip(), (row["Best Answer"] or "").strip()
        correct, incorrect = _split(row["Correct Answers"] or ""), _split(row["Incorrect Answers"] or "")
        if not question or not best or not incorrect:
            raise DatasetError(f"{path} line {line}: a question needs Question, Best Answer and at least one "
                               "Incorrect Answer.")
        if best not in correct:
            correct = [best, *correct]
        items.append(TruthfulQAItem(len(items), question, best, tuple(correct), tuple(incorrect),
                                    row["Category"], row["Type"]))
        if limit is not None and len(items) >= limit:
            break
    return items


def split_folds(items: Sequence, n_folds: int = 2, seed: int = 0) -> list[list]:
    """Shuffle and deal items into `n_folds` disjoint folds (cross-validation over questions)."""
    if n_folds < 2 or n_folds > len(items):
        raise InvalidInputError(f"n_folds must be between 2 and the number of items ({len(items)}), got {n_folds}.")
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    return [[items[i] for i in order[fold::n_folds]] for fold in range(n_folds)]


def qa_text(question: str, answer: str) -> str:
    return f"Q: {question}\nA: {answer}"

"""The paper's published counterfactual sets (Mayne et al., `CounterfactualDatabase` parquet) as an NSGDataset.

Each parquet row is one flattened record: an original question (the centre: ``original_question_idx``,
``original_description``, ``original_ground_truth``, ``original_question_prompt``, ``original_answer_first``)
and one counterfactual (``counterfactual_question_idx``, ``counterfactual_description``,
``counterfactual_ground_truth``, ``counterfactual_hamming_distance``). The published tabular sets hold every
record twice, once per answer position (``original_answer_first`` true and false); one copy is kept.

The groups are the file's own: one per centre, in file order, group id ``q{original_question_idx}``, cases
``r{question_idx}`` with the paper's description as their text. The task (role, background, question,
answer options) is read from the file's reference prompt and ground truths, so the exact published items
run unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from overseer.errors import DatasetError
from overseer.evals.tabular import Case, CounterfactualGroup, NSGDataset, TaskSpec

REQUIRED = ("original_question_idx", "original_ground_truth", "counterfactual_question_idx",
            "counterfactual_ground_truth")
# the case text: the first of these columns the file has
TEXT_COLUMNS = ("description", "question")
OPTIONAL = ("original_dataset", "original_question_prompt", "original_answer_first")


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise DatasetError(f"{path} does not exist: pass one of the paper's counterfactual parquet files.")
    try:
        import pyarrow.parquet as pq
    except ImportError as err:  # pragma: no cover - pyarrow is a dependency
        raise DatasetError("reading .parquet needs pyarrow: pip install pyarrow.") from err
    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises ArrowInvalid, OSError, ... for a file it cannot read
        raise DatasetError(f"{path} is not a readable parquet file ({type(err).__name__}); "
                           "pass the paper's CounterfactualDatabase parquet.") from err
    names = set(table.column_names)
    text = [next((f"{side}_{c}" for c in TEXT_COLUMNS if f"{side}_{c}" in names), f"{side}_{TEXT_COLUMNS[0]}")
            for side in ("original", "counterfactual")]
    missing = [c for c in (*REQUIRED, *text) if c not in names]
    if missing:
        raise DatasetError(f"{path} lacks the CounterfactualDatabase columns {missing}; "
                           "it is not one of the paper's counterfactual sets.")
    if table.num_rows == 0:
        raise DatasetError(f"{path} has no records.")
    keep = [*REQUIRED, *text, *(c for c in OPTIONAL if c in names)]
    rows = table.select(keep).to_pylist()
    for row in rows:
        row["original_text"], row["counterfactual_text"] = row[text[0]], row[text[1]]
    return rows


def _one_answer_position(rows: list[dict[str, Any]], answer_first: bool | None) -> list[dict[str, Any]]:
    if answer_first is None or "original_answer_first" not in rows[0]:
        return rows
    kept = [r for r in rows if r["original_answer_first"] == answer_first]
    if not kept:
        found = sorted({str(r["original_answer_first"]) for r in rows})
        raise DatasetError(f"no records with original_answer_first={answer_first} (the file has {found}); "
                           "pass answer_first=None to take them all.")
    return kept


def _case(path: Path, number: int, row: dict[str, Any], side: str, seen: dict[int, Case]) -> Case:
    idx, text, label = row[f"{side}_question_idx"], row[f"{side}_text"], row[f"{side}_ground_truth"]
    if idx is None or not isinstance(text, str) or not text.strip() or label is None:
        raise DatasetError(f"{path} record {number}: {side} question index, text or ground truth is empty.")
    case = Case(f"r{idx}", text, {"description": text}, str(label))
    if seen.setdefault(int(idx), case) != case:
        raise DatasetError(f"{path} record {number}: question {idx} has a different text or ground truth "
                           "than earlier in the file.")
    return case


def _task(rows: list[dict[str, Any]], options: tuple[str, ...], path: Path) -> TaskSpec:
    """Role, background and question from the file's own reference prompt (the text before the description)."""
    name = rows[0].get("original_dataset") or path.stem
    prompt, text = rows[0].get("original_question_prompt") or "", rows[0]["original_text"]
    head = prompt[:prompt.find(text)] if text in prompt else ""
    paragraphs = [p.strip() for p in head.split("\n\n") if p.strip()]
    subject = "case"
    if paragraphs and paragraphs[-1].endswith(":"):  # "Patient Description:" introduces the case
        subject = paragraphs.pop().split()[0].lower()
    if len(paragraphs) < 2:
        return TaskSpec(name, "You are an expert assistant.", "Which answer applies to this case?", options, subject)
    return TaskSpec(name, paragraphs[0], paragraphs[-1], options, subject, "\n\n".join(paragraphs[1:-1]))


def read_counterfactual_database(path: str | Path, n_groups: int | None = None, seed: int = 0,
                                 answer_first: bool | None = True) -> NSGDataset:
    """The paper's counterfactual parquet -> NSGDataset with the file's exact groups.

    `answer_first` keeps the records of one answer position (None keeps every record; a counterfactual
    listed twice under a centre is then kept once). `n_groups` draws that many centres at random (seeded),
    kept in file order; None keeps them all.
    """
    path = Path(path)
    rows = _one_answer_position(_read(path), answer_first)
    seen: dict[int, Case] = {}
    centres: dict[int, Case] = {}
    members: dict[int, dict[str, Case]] = {}
    for number, row in enumerate(rows, start=1):
        centre = _case(path, number, row, "original", seen)
        counterfactual = _case(path, number, row, "counterfactual", seen)
        key = int(row["original_question_idx"])
        centres[key] = centre
        members.setdefault(key, {}).setdefault(counterfactual.case_id, counterfactual)
    options = tuple(sorted({c.label for c in seen.values() if c.label is not None}))
    if len(options) < 2:
        raise DatasetError(f"{path}: the ground truths hold {len(options)} distinct answer(s); "
                           "NSG needs at least 2 options.")
    keys = list(centres)
    if n_groups is not None and n_groups < len(keys):
        picked = set(np.random.default_rng(seed).choice(len(keys), size=n_groups, replace=False).tolist())
        keys = [k for i, k in enumerate(keys) if i in picked]
    groups = [CounterfactualGroup(f"q{k}", centres[k], list(members[k].values())) for k in keys]
    return NSGDataset(_task(rows, options, path), groups)

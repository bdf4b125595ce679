"""Natural counterfactuals from tables: real rows within a small Hamming distance of a centre row.

Built-in: scikit-learn's breast-cancer table (569 tumours, eight "mean" nucleus measurements binned into
thirds). User tables (CSV with a header row, or JSONL with one object per line) follow this schema:

- a label column (default ``label``) with 2 to 10 distinct values; they become the answer options;
- an optional id column (default ``id``), unique per row;
- every other column is a feature (at least 2); no empty cells;
- numeric features with more than ``max_levels`` (default 5) distinct values are binned into
  thirds (low / medium / high); other features are used as they are.

Groups: for a centre row, counterfactuals are other rows whose binned features differ in 1..2
places; a group takes the closest ones in turn from each label (so labels stay balanced within
one), 5 to 10 of them, and rows are not shared between groups (each group is one bootstrap cluster).
"""

from __future__ import annotations

import csv
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from overseer.data.common import read_jsonl
from overseer.errors import DatasetError, InvalidInputError

BIN_NAMES = ("low", "medium", "high")


@dataclass(frozen=True)
class Case:
    case_id: str
    text: str
    features: dict[str, str]
    label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CounterfactualGroup:
    group_id: str
    centre: Case
    counterfactuals: list[Case]

    def to_dict(self) -> dict[str, Any]:
        return {"group_id": self.group_id, "centre": self.centre.to_dict(),
                "counterfactuals": [c.to_dict() for c in self.counterfactuals]}


@dataclass(frozen=True)
class TaskSpec:
    """What the reference model is asked, in words the prompts are built from."""

    name: str
    role: str            # who the reference model is asked to be
    question: str        # the decision it makes about one case
    options: tuple[str, ...]
    subject: str = "case"  # what one row is ("tumour", "applicant", ...)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class NSGDataset:
    task: TaskSpec
    groups: list[CounterfactualGroup] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task.to_dict(), "groups": [g.to_dict() for g in self.groups]}


def render(features: dict[str, str], subject: str) -> str:
    lines = [f"- {name}: {value}" for name, value in features.items()]
    return f"A {subject} with these characteristics:\n" + "\n".join(lines)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def bin_columns(columns: dict[str, list[str]], max_levels: int = 5) -> dict[str, list[str]]:
    """Numeric columns with many levels -> low/medium/high by tertile; the rest unchanged."""
    out = {}
    for name, values in columns.items():
        if len(set(values)) > max_levels and all(_is_number(v) for v in values):
            numbers = np.array([float(v) for v in values])
            edges = np.quantile(numbers, [1 / 3, 2 / 3])
            out[name] = [BIN_NAMES[i] for i in np.digitize(numbers, edges)]
        else:
            out[name] = list(values)
    return out


def build_groups(features: list[dict[str, str]], labels: list[str], ids: list[str] | None = None,
                 subject: str = "case", max_distance: int = 2, min_size: int = 5, max_size: int = 10,
                 n_groups: int | None = None, seed: int = 0) -> list[CounterfactualGroup]:
    if not 1 <= min_size <= max_size:
        raise InvalidInputError(f"need 1 <= min_size <= max_size, got {min_size}, {max_size}.")
    if len(features) != len(labels):
        raise InvalidInputError("features and labels differ in length.")
    ids = ids or [str(i) for i in range(len(features))]
    names = list(features[0])
    codes = np.array([[hash(row[name]) for name in names] for row in features])
    label_arr = np.array(labels)
    order = list(range(len(features)))
    random.Random(seed).shuffle(order)
    used = np.zeros(len(features), dtype=bool)
    groups: list[CounterfactualGroup] = []
    for centre in order:
        if used[centre]:
            continue
        distance = (codes != codes[centre]).sum(axis=1)
        ok = (~used) & (distance > 0) & (distance <= max_distance)
        ok[centre] = False
        by_label: dict[str, list[int]] = {}
        for idx in np.flatnonzero(ok)[np.argsort(distance[ok], kind="stable")]:
            by_label.setdefault(str(label_arr[idx]), []).append(int(idx))
        if len(by_label) < 2:
            continue
        chosen: list[int] = []
        queues = [by_label[k] for k in sorted(by_label)]
        depth = 0
        # Whole rounds over the labels keep counts within one of each other.
        while len(chosen) < max_size and all(depth < len(q) for q in queues[:2]):
            for queue in queues:
                if depth < len(queue) and len(chosen) < max_size:
                    chosen.append(queue[depth])
            depth += 1
        if len(chosen) < min_size or len({labels[i] for i in chosen}) < 2:
            continue
        used[centre] = True
        used[chosen] = True

        def case(i: int) -> Case:
            return Case(ids[i], render(features[i], subject), dict(features[i]), labels[i])

        groups.append(CounterfactualGroup(f"g{len(groups)}", case(centre), [case(i) for i in chosen]))
        if n_groups is not None and len(groups) >= n_groups:
            break
    return groups


BREAST_CANCER_TASK = TaskSpec(
    name="breast_cancer",
    role="You are a pathology assistant. You assess breast tumours from measurements of their cell nuclei.",
    question="Is this tumour malignant?",
    options=("YES", "NO"),
    subject="tumour",
)


def breast_cancer(n_groups: int | None = 20, seed: int = 0, max_distance: int = 2, min_size: int = 5,
                  max_size: int = 10) -> NSGDataset:
    """scikit-learn's Wisconsin breast-cancer table: eight mean nucleus measurements in thirds."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    # perimeter and area are near-copies of radius, so they are left out.
    names = [str(n) for n in data.feature_names
             if str(n).startswith("mean ") and str(n) not in ("mean perimeter", "mean area")]
    columns = {name: [str(v) for v in data.data[:, list(data.feature_names).index(name)]] for name in names}
    binned = bin_columns(columns)
    rows = [{name: binned[name][i] for name in names} for i in range(len(data.target))]
    # sklearn codes 0 = malignant, 1 = benign.
    labels = ["YES" if t == 0 else "NO" for t in data.target]
    groups = build_groups(rows, labels, [f"bc{i}" for i in range(len(rows))], BREAST_CANCER_TASK.subject,
                          max_distance, min_size, max_size, n_groups, seed)
    return NSGDataset(BREAST_CANCER_TASK, groups)


def _read_rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise DatasetError(f"{path} does not exist: pass a CSV or JSONL table (see overseer.evals.tabular).")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    elif suffix in (".jsonl", ".ndjson"):
        rows = []
        for number, row in read_jsonl(path):
            if not isinstance(row, dict):
                raise DatasetError(f"{path} line {number}: must be a JSON object, got {type(row).__name__}.")
            rows.append(row)
    else:
        raise DatasetError(f"{path}: use a .csv or .jsonl file.")
    if not rows:
        raise DatasetError(f"{path} has no rows.")
    return rows


def load_table(path: str | Path, label_column: str = "label", id_column: str = "id",
               question: str | None = None, subject: str = "case", role: str | None = None,
               n_groups: int | None = None, seed: int = 0, max_distance: int = 2, min_size: int = 5,
               max_size: int = 10, max_levels: int = 5) -> NSGDataset:
    """A user table (schema in the module docstring) -> counterfactual groups."""
    path = Path(path)
    rows = _read_rows(path)
    columns = list(rows[0])
    if label_column not in columns:
        raise DatasetError(f"{path} has no label column {label_column!r} (columns: {columns}); "
                           "name it with --label-column.")
    feature_names = [c for c in columns if c not in (label_column, id_column)]
    if len(feature_names) < 2:
        raise DatasetError(f"{path} needs at least 2 feature columns besides {label_column!r}.")
    for number, row in enumerate(rows, start=1):
        if list(row) != columns and set(row) != set(columns):
            raise DatasetError(f"{path} row {number} has columns {sorted(row)}, expected {sorted(columns)}.")
        for name in columns:
            if row[name] is None or str(row[name]).strip() == "":
                raise DatasetError(f"{path} row {number}: column {name!r} is empty; fill or drop the row.")
    labels = [str(row[label_column]).strip() for row in rows]
    options = tuple(sorted(set(labels)))
    if not 2 <= len(options) <= 10:
        raise DatasetError(f"{path}: the label column needs 2 to 10 distinct values, found {len(options)}.")
    ids = [str(row[id_column]) for row in rows] if id_column in columns else [f"r{i}" for i in range(len(rows))]
    if len(set(ids)) != len(ids):
        raise DatasetError(f"{path}: column {id_column!r} has duplicate ids.")
    binned = bin_columns({name: [str(row[name]).strip() for row in rows] for name in feature_names}, max_levels)
    features = [{name: binned[name][i] for name in feature_names} for i in range(len(rows))]
    task = TaskSpec(name=path.stem, role=role or f"You are an expert assistant who makes decisions about {subject}s.",
                    question=question or f"Which {label_column} applies to this {subject}?",
                    options=options, subject=subject)
    groups = build_groups(features, labels, ids, subject, max_distance, min_size, max_size, n_groups, seed)
    if not groups:
        raise DatasetError(f"{path}: no centre row has {min_size}+ rows of at least two labels within Hamming "
                           f"distance {max_distance}; use more rows, fewer features or a larger --max-distance.")
    return NSGDataset(task, groups)

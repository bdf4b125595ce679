"""A user's contrastive pairs: JSONL (`{"positive": ..., "negative": ...}` per line) or CSV with those columns.

An optional `prompt` field is prepended to both texts (with a newline), for pairs that share a context.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from overseer.data.common import read_csv_rows, read_jsonl, require_file
from overseer.errors import DatasetError

FIELDS = ("positive", "negative")


@dataclass(frozen=True)
class ContrastivePair:
    positive: str
    negative: str
    prompt: str = ""

    @property
    def positive_text(self) -> str:
        return f"{self.prompt}\n{self.positive}" if self.prompt else self.positive

    @property
    def negative_text(self) -> str:
        return f"{self.prompt}\n{self.negative}" if self.prompt else self.negative

    def to_dict(self) -> dict:
        return asdict(self)


def _pair(record: object, where: str) -> ContrastivePair:
    if not isinstance(record, dict):
        raise DatasetError(f"{where}: expected an object with 'positive' and 'negative', got {type(record).__name__}.")
    missing = [f for f in FIELDS if f not in record]
    if missing:
        raise DatasetError(f"{where}: missing field(s) {', '.join(missing)}; every pair needs 'positive' and "
                           "'negative' (and may have 'prompt').")
    values = {}
    for key in (*FIELDS, "prompt"):
        value = record.get(key, "")
        if not isinstance(value, str) or (key in FIELDS and not value.strip()):
            raise DatasetError(f"{where}: '{key}' must be a non-empty string, got {value!r}.")
        values[key] = value.strip()
    return ContrastivePair(values["positive"], values["negative"], values["prompt"])


def load_pairs(path: str | Path) -> list[ContrastivePair]:
    path = require_file(Path(path).expanduser(), "contrastive pairs file")
    suffix = path.suffix.lower()
    pairs: list[ContrastivePair] = []
    if suffix in (".jsonl", ".json"):
        for line_no, record in read_jsonl(path, 'one object like {"positive": "...", "negative": "..."}'):
            pairs.append(_pair(record, f"{path} line {line_no}"))
    elif suffix in (".csv", ".tsv"):
        for line_no, row in read_csv_rows(path, FIELDS, "contrastive pairs CSV"):
            pairs.append(_pair({k: v or "" for k, v in row.items() if k is not None}, f"{path} line {line_no}"))
    else:
        raise DatasetError(f"{path}: unsupported extension '{suffix}'; use .jsonl or .csv.")
    if not pairs:
        raise DatasetError(f"{path} holds no pairs; add at least two lines.")
    return pairs

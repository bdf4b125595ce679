"""Item-level eval results from three sources, as one list of `ItemScore`s.

- overseer's own results: a JSON file ``{"model": str, "records": [{"domain": str, "item_id": str,
  "score": float}, ...]}`` (``benchmark`` may stand in for ``domain``), written by `write_overseer_results`;
- lm-evaluation-harness ``--log_samples`` output: ``samples_<task>_<timestamp>.jsonl`` files (one
  line per doc with ``doc_id`` and metric keys such as ``acc``); the model name comes from a
  ``results_*.json`` beside them, else from the folder name lm-eval created for the model;
- Inspect ``.eval`` logs, read with ``inspect_ai.log.read_eval_log``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from overseer.data.common import read_jsonl
from overseer.errors import DatasetError, MissingDependencyError

LM_EVAL_METRICS = ("acc", "exact_match", "acc_norm", "em", "f1", "pass@1", "mc2", "mc1", "bleu")
_SAMPLES_NAME = re.compile(r"^samples_(?P<task>.+?)_(?P<stamp>\d{4}-\d{2}-\d{2}T[\d\-\.]+)\.jsonl$")


@dataclass(frozen=True)
class ItemScore:
    model: str
    domain: str
    item_id: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def write_overseer_results(path: str | Path, model: str, records: Iterable[dict[str, Any]]) -> Path:
    path = Path(path)
    path.write_text(json.dumps({"format": "overseer.item_scores", "model": model, "records": list(records)}, indent=1))
    return path


def read_overseer(path: Path) -> list[ItemScore]:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path} is not valid JSON ({exc.msg}).") from exc
    if not isinstance(data, dict) or "model" not in data or not isinstance(data.get("records"), list):
        raise DatasetError(f"{path} is not an overseer results file: it needs 'model' and a 'records' list.")
    out = []
    for i, rec in enumerate(data["records"]):
        domain = rec.get("domain", rec.get("benchmark"))
        if domain is None or "score" not in rec:
            raise DatasetError(f"{path} record {i} needs 'domain' (or 'benchmark') and 'score'.")
        out.append(ItemScore(str(data["model"]), str(domain), str(rec.get("item_id", i)), _as_float(rec["score"],
                                                                                                    path, i)))
    return out


def _as_float(value: Any, path: Path, where: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DatasetError(f"{path} item {where}: score {value!r} is not a number.") from None


def _lm_eval_model(path: Path) -> str:
    for results in sorted(path.parent.glob("results_*.json")):
        try:
            data = json.loads(results.read_text())
        except json.JSONDecodeError:
            continue
        name = data.get("model_name") or (data.get("config") or {}).get("model_args")
        if name:
            return str(name)
    return path.parent.name


def read_lm_eval(path: Path, metric: str | None = None) -> list[ItemScore]:
    match = _SAMPLES_NAME.match(path.name)
    task = match.group("task") if match else path.stem.removeprefix("samples_")
    model = _lm_eval_model(path)
    out = []
    for number, row in read_jsonl(path):
        key = metric or next((m for m in LM_EVAL_METRICS if m in row), None)
        if key is None or key not in row:
            wanted = metric or "among " + ", ".join(LM_EVAL_METRICS)
            raise DatasetError(f"{path} line {number}: has no metric {wanted}; pick one with --metric.")
        out.append(ItemScore(model, task, str(row.get("doc_id", number)), _as_float(row[key], path, number)))
    return out


def read_inspect(path: Path, scorer: str | None = None) -> list[ItemScore]:
    try:
        from inspect_ai.log import read_eval_log
        from inspect_ai.scorer import value_to_float
    except ImportError as exc:
        raise MissingDependencyError("reading Inspect logs needs inspect_ai: pip install inspect_ai") from exc
    try:
        log = read_eval_log(str(path))
    except Exception as exc:  # inspect raises several types for unreadable logs
        raise DatasetError(f"{path} is not a readable Inspect log ({type(exc).__name__}: {exc}).") from exc
    to_float = value_to_float()
    out = []
    for sample in log.samples or []:
        scores = sample.scores or {}
        if not scores:
            continue
        name = scorer or next(iter(scores))
        if name not in scores:
            raise DatasetError(f"{path}: sample {sample.id} has no scorer {name!r} (has {sorted(scores)}).")
        value = scores[name].value
        if isinstance(value, dict):
            raise DatasetError(f"{path}: scorer {name!r} gives a dict per sample; name a scalar scorer.")
        suffix = f"#{sample.epoch}" if getattr(sample, "epoch", 1) not in (None, 1) else ""
        out.append(ItemScore(log.eval.model, log.eval.task, f"{sample.id}{suffix}", float(to_float(value))))
    if not out:
        raise DatasetError(f"{path} holds no scored samples.")
    return out


def detect_format(path: Path) -> str:
    if path.suffix == ".eval":
        return "inspect"
    if path.suffix == ".jsonl":
        return "lm-eval"
    if path.suffix == ".json":
        try:
            head = json.loads(path.read_text())
        except json.JSONDecodeError:
            head = None
        if isinstance(head, dict) and "records" in head:
            return "overseer"
        if isinstance(head, dict) and "eval" in head and "samples" in head:
            return "inspect"
    raise DatasetError(f"cannot tell the format of {path}: use an overseer .json, an lm-eval samples_*.jsonl, "
                       "or an Inspect .eval log (or pass --format).")


def read_results(paths: Iterable[str | Path], fmt: str = "auto", metric: str | None = None) -> list[ItemScore]:
    """Read every file (directories are searched for the known file kinds)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for pattern in ("*.eval", "samples_*.jsonl", "*.json")
                                for p in path.rglob(pattern) if not p.name.startswith("results_")))
        elif path.is_file():
            files.append(path)
        else:
            raise DatasetError(f"{path} does not exist.")
    if not files:
        raise DatasetError("no result files found.")
    out: list[ItemScore] = []
    for path in files:
        kind = detect_format(path) if fmt == "auto" else fmt
        if kind == "overseer":
            out.extend(read_overseer(path))
        elif kind == "lm-eval":
            out.extend(read_lm_eval(path, metric))
        elif kind == "inspect":
            out.extend(read_inspect(path, metric))
        else:
            raise DatasetError(f"unknown format {kind!r}: use auto, overseer, lm-eval or inspect.")
    return out

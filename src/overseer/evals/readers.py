"""Item-level eval results from three sources, as one list of `ItemScore`s (one per scored observation).

- overseer's own results: a JSON file ``{"model": str, "records": [{"domain": str, "item_id": str,
  "score": float, "epoch": int (optional)}, ...]}`` (``benchmark`` may stand in for ``domain``), written by
  `write_overseer_results`;
- lm-evaluation-harness ``--log_samples`` output: ``samples_<task>_<timestamp>.jsonl`` files (one line per
  doc and filter, with ``doc_id``, ``filter``, ``metrics`` and the metric values); the model name comes from a
  ``results_*.json`` beside them, else from the folder name lm-eval created for the model;
- Inspect ``.eval`` (or ``.json``) logs, read with ``inspect_ai.log.read_eval_log``.

Nothing is dropped or overwritten silently:

- an lm-eval task scored under several filters (e.g. ``strict`` and ``upper``) becomes one domain per filter,
  ``<task>/<filter>``, unless one filter is chosen (then the domain is the task);
- rows of one file must carry one metric; a file mixing them is an error naming the counts;
- the epochs of an Inspect sample stay separate observations of one item (the jaggedness bootstrap resamples
  the item with all its epochs), and so do repeats of an item id found in another file (a note says so);
- a cancelled or unfinished Inspect run is used, with a note;
- a file found in a folder that cannot be read is skipped with a note (`strict=True` raises instead); a file
  named explicitly must be readable.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from overseer.data.common import read_jsonl
from overseer.errors import DatasetError, MissingDependencyError, OverseerError

LM_EVAL_METRICS = ("acc", "exact_match", "acc_norm", "em", "f1", "pass@1", "mc2", "mc1", "bleu")
_SAMPLES_NAME = re.compile(r"^samples_(?P<task>.+?)_(?P<stamp>\d{4}-\d{2}-\d{2}T[\d\-\.]+)\.jsonl$")
FORMATS = ("auto", "overseer", "lm-eval", "inspect")


@dataclass(frozen=True)
class ItemScore:
    """One scored observation; observations sharing (model, domain, item_id) are one item."""

    model: str
    domain: str
    item_id: str
    score: float
    epoch: int = 1
    metric: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReadReport:
    """What `read_results` read: the observations, the files used, and what it noted or skipped."""

    items: list[ItemScore]
    files: list[str]
    notes: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "notes": self.notes, "skipped": self.skipped, "n_observations": len(self.items)}


def write_overseer_results(path: str | Path, model: str, records: Iterable[dict[str, Any]]) -> Path:
    path = Path(path)
    path.write_text(json.dumps({"format": "overseer.item_scores", "model": model, "records": list(records)}, indent=1))
    return path


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not UTF-8 text (undecodable byte at offset {exc.start}); is it a binary "
                           "or compressed file? Pass the uncompressed JSON/JSONL results.") from None
    except OSError as exc:
        raise DatasetError(f"cannot read {path} ({exc.strerror}).") from None


def _json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    return read_jsonl(path, "one lm-eval sample object", text=_read_text(path))


def _as_float(value: Any, path: Path, where: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DatasetError(f"{path} item {where}: score {value!r} is not a number.") from None


def read_overseer(path: Path) -> list[ItemScore]:
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path} is not valid JSON ({exc.msg}).") from None
    if not isinstance(data, dict) or "model" not in data or not isinstance(data.get("records"), list):
        raise DatasetError(f"{path} is not an overseer results file: it needs 'model' and a 'records' list.")
    out = []
    for i, rec in enumerate(data["records"]):
        domain = rec.get("domain", rec.get("benchmark")) if isinstance(rec, dict) else None
        if domain is None or "score" not in rec:
            raise DatasetError(f"{path} record {i} needs 'domain' (or 'benchmark') and 'score'.")
        out.append(ItemScore(str(data["model"]), str(domain), str(rec.get("item_id", i)),
                             _as_float(rec["score"], path, i), int(rec.get("epoch", 1)), str(rec.get("metric", "")),
                             str(path)))
    return out


def _lm_eval_model(path: Path) -> str:
    for results in sorted(path.parent.glob("results_*.json")):
        try:
            data = json.loads(results.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, OSError):
            continue
        name = data.get("model_name") or (data.get("config") or {}).get("model_args") if isinstance(data, dict) \
            else None
        if name:
            return str(name)
    return path.parent.name


def _row_metric(row: dict[str, Any], metric: str | None) -> str | None:
    if metric is not None:
        return metric if metric in row else None
    declared = row.get("metrics")
    if isinstance(declared, list) and declared and declared[0] in row:
        return str(declared[0])
    return next((m for m in LM_EVAL_METRICS if m in row), None)


def read_lm_eval(path: Path, metric: str | None = None, lm_eval_filter: str | None = None,
                 notes: list[str] | None = None) -> list[ItemScore]:
    """One observation per (doc_id, filter). Several filters give one domain each (``task/filter``) unless
    `lm_eval_filter` keeps one of them (a file with one filter is read whole); rows with different metrics in one
    file are an error."""
    match = _SAMPLES_NAME.match(path.name)
    task = match.group("task") if match else path.stem.removeprefix("samples_")
    model = _lm_eval_model(path)
    rows = []
    for number, row in _json_lines(path):
        if not isinstance(row, dict):
            raise DatasetError(f"{path} line {number}: not a JSON object; is this an lm-eval samples file?")
        key = _row_metric(row, metric)
        if key is None:
            wanted = metric or "among " + ", ".join(LM_EVAL_METRICS)
            raise DatasetError(f"{path} line {number}: has no metric {wanted}; pick one with --metric.")
        rows.append((number, row, key, str(row.get("filter", "none"))))
    if not rows:
        raise DatasetError(f"{path} holds no samples.")
    metrics = Counter(key for _, _, key, _ in rows)
    if len(metrics) > 1:
        counts = ", ".join(f"{k} in {v} rows" for k, v in metrics.most_common())
        raise DatasetError(f"{path}: rows carry different metrics ({counts}), which cannot be averaged as one "
                           "domain; pick one with --metric.")
    filters = sorted({f for _, _, _, f in rows})
    if lm_eval_filter is not None and len(filters) > 1:
        if lm_eval_filter not in filters:
            raise DatasetError(f"{path} has no filter {lm_eval_filter!r} (it has {', '.join(filters)}); "
                               "pick one of those with --filter.")
        rows = [r for r in rows if r[3] == lm_eval_filter]
    split = len({r[3] for r in rows}) > 1
    if split and notes is not None:
        notes.append(f"{path}: {task} is scored under filters {', '.join(filters)}; each is its own domain "
                     f"({task}/<filter>); keep one with --filter.")
    out, seen = [], set()
    for number, row, key, filt in rows:
        doc = str(row.get("doc_id", number))
        if (doc, filt) in seen:
            raise DatasetError(f"{path} line {number}: doc_id {doc} appears twice under filter {filt!r}; lm-eval "
                               "writes one row per doc and filter, so this file was edited or concatenated.")
        seen.add((doc, filt))
        domain = f"{task}/{filt}" if split else task
        out.append(ItemScore(model, domain, doc, _as_float(row[key], path, f"line {number}"), 1,
                             key if filt == "none" else f"{key},{filt}", str(path)))
    return out


def read_inspect(path: Path, scorer: str | None = None, notes: list[str] | None = None,
                 seen_runs: dict[str, str] | None = None) -> list[ItemScore]:
    """One observation per (sample, epoch); the scorer is `scorer` or the log's first one, for every sample.
    `seen_runs` (eval id -> file) leaves out a run already read from another file (e.g. its .json twin)."""
    try:
        from inspect_ai.log import read_eval_log
        from inspect_ai.scorer import value_to_float
    except ImportError as exc:
        raise MissingDependencyError("reading Inspect logs needs inspect_ai: pip install inspect_ai") from exc
    try:
        log = read_eval_log(str(path))
    except Exception as exc:  # inspect raises several types for unreadable logs
        raise DatasetError(f"{path} is not a readable Inspect log ({type(exc).__name__}: "
                           f"{_one_line(exc)[:200]}).") from None
    run_id = getattr(log.eval, "eval_id", None)
    if seen_runs is not None and run_id:
        if run_id in seen_runs:
            if notes is not None:
                notes.append(f"{path} is the same Inspect run (eval id {run_id}) as {seen_runs[run_id]}; read once.")
            return []
        seen_runs[run_id] = str(path)
    samples = [s for s in (log.samples or []) if s.scores]
    if not samples:
        raise DatasetError(f"{path} holds no scored samples (status {log.status}); rescore it with "
                           "`inspect score` or leave it out.")
    name = scorer or next(iter(samples[0].scores))
    to_float = value_to_float()
    out = []
    for sample in samples:
        if name not in sample.scores:
            raise DatasetError(f"{path}: sample {sample.id} has no scorer {name!r} (has {sorted(sample.scores)}); "
                               "pick one with --metric.")
        value = sample.scores[name].value
        if isinstance(value, dict | list):
            raise DatasetError(f"{path}: scorer {name!r} gives a {type(value).__name__} per sample; name a "
                               "scalar scorer with --metric.")
        out.append(ItemScore(log.eval.model, log.eval.task, str(sample.id), float(to_float(value)),
                             int(sample.epoch or 1), name, str(path)))
    if notes is not None:
        _inspect_notes(path, log, len(log.samples or []) - len(samples), notes)
    return out


def _inspect_notes(path: Path, log: Any, unscored: int, notes: list[str]) -> None:
    if log.status != "success":
        done = log.results.completed_samples if log.results is not None else "?"
        total = log.results.total_samples if log.results is not None else "?"
        notes.append(f"{path}: the Inspect run ended with status {log.status!r} ({done} of {total} samples "
                     "completed); its scored samples are used.")
    if unscored:
        notes.append(f"{path}: {unscored} samples without scores left out.")
    reducer = log.eval.config.epochs_reducer if log.eval.config is not None else None
    if reducer and reducer not in (["mean"], "mean"):
        notes.append(f"{path}: Inspect reduced epochs with {reducer}; overseer averages every epoch.")


def detect_format(path: Path) -> str:
    if path.suffix == ".eval":
        return "inspect"
    if path.suffix == ".jsonl":
        return "lm-eval"
    if path.suffix == ".json":
        try:
            head = json.loads(_read_text(path))
        except json.JSONDecodeError:
            head = None
        if isinstance(head, dict) and "records" in head:
            return "overseer"
        if isinstance(head, dict) and "eval" in head and "samples" in head:
            return "inspect"
    raise DatasetError(f"cannot tell the format of {path}: use an overseer .json, an lm-eval samples_*.jsonl, "
                       "or an Inspect .eval log (or pass --format).")


def _read_one(path: Path, fmt: str, metric: str | None, lm_eval_filter: str | None,
              notes: list[str], seen_runs: dict[str, str]) -> list[ItemScore]:
    kind = detect_format(path) if fmt == "auto" else fmt
    if kind == "overseer":
        return read_overseer(path)
    if kind == "lm-eval":
        return read_lm_eval(path, metric, lm_eval_filter, notes)
    if kind == "inspect":
        return read_inspect(path, metric, notes, seen_runs)
    raise DatasetError(f"unknown format {kind!r}: use {', '.join(FORMATS)}.")


def _collect(paths: Iterable[str | Path]) -> list[tuple[Path, bool]]:
    """(file, named explicitly) for every path; folders are searched for the known file kinds."""
    files: list[tuple[Path, bool]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted({p for pattern in ("*.eval", "samples_*.jsonl", "*.json") for p in path.rglob(pattern)
                            if not p.name.startswith("results_")})
            files.extend((p, False) for p in found)
        elif path.is_file():
            files.append((path, True))
        else:
            raise DatasetError(f"{path} does not exist.")
    if not files:
        raise DatasetError("no result files found.")
    return files


def _note_repeats(items: list[ItemScore], notes: list[str]) -> None:
    """Say where an item id of one (model, domain) is scored in more than one file."""
    sources: dict[tuple[str, str, str], set[str]] = {}
    for it in items:
        sources.setdefault((it.model, it.domain, it.item_id), set()).add(it.source)
    shared: dict[tuple[str, str, tuple[str, ...]], int] = Counter()
    for (model, domain, _), files in sources.items():
        if len(files) > 1:
            shared[(model, domain, tuple(sorted(files)))] += 1
    for (model, domain, files), count in shared.items():
        notes.append(f"{model} / {domain}: {count} item ids are scored in {len(files)} files ({', '.join(files)}); "
                     "every run is kept as a repeat of the same item (its scores are averaged and bootstrapped "
                     "together), none overwrites another.")


def read_results(paths: Iterable[str | Path], fmt: str = "auto", metric: str | None = None,
                 lm_eval_filter: str | None = None, strict: bool = False) -> ReadReport:
    """Read every file; folders are searched for the known file kinds.

    A file named explicitly must be readable; a bad file found in a folder is skipped with a note, or raises
    with `strict=True`."""
    if fmt not in FORMATS:
        raise DatasetError(f"unknown format {fmt!r}: use {', '.join(FORMATS)}.")
    report = ReadReport([], [])
    seen_runs: dict[str, str] = {}
    for path, named in _collect(paths):
        try:
            items = _read_one(path, fmt, metric, lm_eval_filter, report.notes, seen_runs)
        except OverseerError as exc:
            if strict or named:
                raise
            report.skipped[str(path)] = str(exc)
            continue
        report.items.extend(items)
        report.files.append(str(path))
    if not report.items:
        raise DatasetError(f"no readable results: {len(report.skipped)} files skipped, e.g. "
                           f"{next(iter(report.skipped.values()), '')}")
    _note_repeats(report.items, report.notes)
    return report

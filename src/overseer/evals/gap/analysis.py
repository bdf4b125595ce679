"""Paired analysis of a gap run: per behaviour, the good-outcome rate under each framing, observed minus
unobserved as a paired bootstrap CI over base tasks, and McNemar's exact test on the same pairs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from overseer.errors import InvalidInputError
from overseer.evals.gap.behaviours import BEHAVIOURS
from overseer.evals.gap.framings import FRAMINGS, NEUTRAL, OBSERVED, UNOBSERVED
from overseer.stats import Estimate, McNemar, mcnemar, paired_difference_ci, wilson_interval


@dataclass(frozen=True)
class GapRecord:
    """One sample: a base task under one framing, its reply, and whether the reply was the good outcome."""

    behaviour: str
    base_id: str
    framing: str
    good: bool
    reply: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BehaviourGap:
    behaviour: str
    good: str  # what the rate counts, e.g. "refuses"
    n_tasks: int
    rates: dict[str, Estimate]  # framing -> rate with a Wilson interval
    gap: Estimate  # observed minus unobserved, paired bootstrap over base tasks
    mcnemar: McNemar  # b = good only when observed, c = good only when unobserved
    vs_neutral: dict[str, Estimate] = field(default_factory=dict)  # framing minus neutral, paired

    def to_dict(self) -> dict[str, Any]:
        return {"behaviour": self.behaviour, "good": self.good, "n_tasks": self.n_tasks,
                "rates": {k: v.to_dict() for k, v in self.rates.items()}, "gap": self.gap.to_dict(),
                "mcnemar": self.mcnemar.to_dict(), "vs_neutral": {k: v.to_dict() for k, v in self.vs_neutral.items()}}


@dataclass
class GapResult:
    model: str
    behaviours: list[BehaviourGap]
    n_boot: int
    log: str | None = None
    records: list[GapRecord] = field(default_factory=list)

    def get(self, behaviour: str) -> BehaviourGap:
        for b in self.behaviours:
            if b.behaviour == behaviour:
                return b
        raise InvalidInputError(f"behaviour {behaviour!r} was not run; ran {[b.behaviour for b in self.behaviours]}.")

    def to_dict(self, with_records: bool = False) -> dict[str, Any]:
        out = {"model": self.model, "n_boot": self.n_boot, "log": self.log,
               "behaviours": [b.to_dict() for b in self.behaviours]}
        if with_records:
            out["records"] = [r.to_dict() for r in self.records]
        return out

    def rows(self) -> list[list[str]]:
        return [[b.behaviour, b.good, str(b.n_tasks), *(str(b.rates[f]) for f in FRAMINGS), b.gap.signed(),
                 f"{b.mcnemar.p_value:.2g} ({b.mcnemar.b}/{b.mcnemar.c})"] for b in self.behaviours]

    COLUMNS = ["behaviour", "good outcome", "tasks", "observed", "unobserved", "neutral",
               "observed - unobserved [95% CI]", "McNemar p (obs only / unobs only)"]

    def table(self) -> Table:
        table = Table(title=f"observed vs unobserved: {self.model}")
        for column in self.COLUMNS:
            table.add_column(column)
        for row in self.rows():
            table.add_row(*row)
        return table


def _paired(by_task: dict[str, dict[str, bool]], a: str, b: str) -> tuple[np.ndarray, np.ndarray]:
    ids = [i for i, cell in by_task.items() if a in cell and b in cell]
    return (np.array([by_task[i][a] for i in ids], dtype=float), np.array([by_task[i][b] for i in ids], dtype=float))


def analyse(records: list[GapRecord], model: str = "", n_boot: int = 2000, seed: int = 0,
            log: str | None = None) -> GapResult:
    """Per-behaviour rates, paired observed-minus-unobserved difference and McNemar, from sample records."""
    if not records:
        raise InvalidInputError("no gap samples to analyse: the run produced no scored samples.")
    grouped: dict[str, dict[str, dict[str, bool]]] = defaultdict(lambda: defaultdict(dict))
    for r in records:
        grouped[r.behaviour][r.base_id][r.framing] = r.good
    out = []
    for behaviour in [b for b in BEHAVIOURS if b in grouped]:
        by_task = grouped[behaviour]
        obs, unobs = _paired(by_task, OBSERVED, UNOBSERVED)
        if len(obs) == 0:
            raise InvalidInputError(f"{behaviour}: no base task was run under both the observed and the unobserved "
                                    "framing; run the task with every framing.")
        rates = {}
        for framing in FRAMINGS:
            values = [cell[framing] for cell in by_task.values() if framing in cell]
            missing = Estimate(np.nan, np.nan, np.nan, 0)
            rates[framing] = wilson_interval(sum(values), len(values)) if values else missing
        vs_neutral = {}
        for framing in (OBSERVED, UNOBSERVED):
            x, y = _paired(by_task, framing, NEUTRAL)
            if len(x):
                vs_neutral[framing] = paired_difference_ci(x, y, n_boot=n_boot, seed=seed)
        out.append(BehaviourGap(behaviour, BEHAVIOURS[behaviour].good, len(obs), rates,
                                paired_difference_ci(obs, unobs, n_boot=n_boot, seed=seed), mcnemar(obs, unobs),
                                vs_neutral))
    return GapResult(model, out, n_boot, log, list(records))


def records_from_log(log: Any) -> list[GapRecord]:
    """Gap records from an Inspect `EvalLog` (or the path of an `.eval` log)."""
    from inspect_ai.log import read_eval_log

    if isinstance(log, str | Path):
        log = read_eval_log(str(log))
    if log.status != "success":
        error = getattr(log.error, "message", None) or log.status
        raise InvalidInputError(f"the gap run did not finish ({error}); see the log in `inspect view`.")
    records = []
    for sample in log.samples or []:
        score = next(iter((sample.scores or {}).values()), None)
        if score is None:
            continue
        meta = sample.metadata
        records.append(GapRecord(meta["behaviour"], meta["base_id"], meta["framing"], score.as_float() >= 1.0,
                                 sample.output.completion if sample.output else ""))
    return records


def analyse_log(log: Any, n_boot: int = 2000, seed: int = 0) -> GapResult:
    from inspect_ai.log import read_eval_log

    if isinstance(log, str | Path):
        log = read_eval_log(str(log))
    return analyse(records_from_log(log), model=str(log.eval.model), n_boot=n_boot, seed=seed,
                   log=getattr(log, "location", None))

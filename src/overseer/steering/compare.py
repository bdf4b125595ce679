"""Sweep methods x layers x strengths on one task, one finished cell at a time on disk (so a sweep resumes).

Strengths are given on one relative axis so methods are comparable: for an additive or ODE method, relative
strength m moves an activation about m times the distance between the class means (CAA at multiplier m, ODE
methods with T = m * ||mean_pos - mean_neg||); for Linear-AcT, whose strength is already relative, it is the
interpolation weight itself. Both numbers are recorded.

Each task has folds; a cell fits on the other folds and evaluates on each fold in turn, pooling samples.

Every metric carries a 95 % percentile-bootstrap CI over the task's units (TruthfulQA questions, toxicity
prompts), and every comparison the compare states (each cell against the unsteered model; ODESteer's best cell
against the best baseline at equal or lower fluency cost) a paired bootstrap CI of the difference, resampling
the units both cells were evaluated on, with the verdict it allows (ahead / behind / no difference at this n).

Option values that cannot work (strengths <= 0, n < 4, n_fluency < 1, ...) are rejected by
`check_compare_options` before any model is loaded.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import torch
from safetensors.torch import load_file, save_file

from overseer.errors import InvalidInputError
from overseer.models.loading import LoadedModel
from overseer.stats import Estimate, mean_ci, paired_difference_ci, verdict
from overseer.steering.base import METHODS, SteeringMethod, check_strength, make_method
from overseer.tables import Table

METHOD_ORDER = ("caa", "repe", "iti", "linear_act", "mimic", "step_odesteer", "odesteer")
ODE_METHODS = ("odesteer", "step_odesteer")
BASELINE = "none"
LOG_METRICS = ("fluency_ppl",)  # averaged on the log scale (geometric mean): CI taken there, then exponentiated


class Task(Protocol):
    name: str
    success_key: str
    metric_keys: tuple[str, ...]
    unit_key: str
    paired_keys: tuple[str, ...]
    folds: list

    def fit_activations(self, lm: LoadedModel, fold: int, layers: list[int]) -> tuple[torch.Tensor, torch.Tensor]: ...

    def evaluate(self, lm: LoadedModel, fold: int, rewrite) -> list[dict]: ...

    @staticmethod
    def summarise(samples: list[dict]) -> dict[str, float]: ...

    @staticmethod
    def per_unit(samples: list[dict]) -> dict[str, list[float | None]]: ...


@dataclass
class Cell:
    method: str
    layer: int | None
    relative_strength: float
    strength: float  # the method's own strength (T or multiplier), mean over folds
    metrics: dict[str, float]
    seconds: float
    samples: list[dict] = field(default_factory=list)
    intervals: dict[str, dict] = field(default_factory=dict)  # metric -> Estimate.to_dict()
    vs_unsteered: dict[str, dict] = field(default_factory=dict)  # metric -> paired difference + "verdict"

    @property
    def key(self) -> str:
        return cell_key(self.method, self.layer, self.relative_strength)

    def to_dict(self, with_samples: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if not with_samples:
            data.pop("samples")
        return data


def cell_key(method: str, layer: int | None, relative: float) -> str:
    return BASELINE if method == BASELINE else f"{method}_L{layer}_m{relative:g}"


def check_methods(methods: Sequence[str]) -> list[str]:
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InvalidInputError(f"unknown steering method(s) {unknown}; available: {', '.join(METHOD_ORDER)}.")
    if not methods:
        raise InvalidInputError("no methods given.")
    return list(methods)


def native_strength(method: SteeringMethod, relative: float, pos: torch.Tensor | None = None,
                    neg: torch.Tensor | None = None) -> float:
    """The method's own strength for `relative` (multiples of the class-mean distance of `pos` and `neg`, by
    default of the activations the method was fitted on)."""
    if method.strength_is_relative:
        return relative
    distance = method.mean_gap_ if pos is None or neg is None else float((pos.mean(0) - neg.mean(0)).norm())
    return relative * distance / max(method.unit_displacement, 1e-12)


def run_compare(lm: LoadedModel, task: Task, out: Path, methods: Sequence[str], layers: Sequence[int],
                strengths: Sequence[float], method_kwargs: dict[str, dict] | None = None,
                log=print) -> list[Cell]:
    """Run (or resume) the sweep under `out`; returns every cell, the unsteered baseline first."""
    methods = check_methods(methods)
    layers = lm.check_layers(list(layers))
    strengths = [check_strength(s) for s in strengths]
    if not strengths or any(s <= 0 for s in strengths):
        raise InvalidInputError("give strengths > 0; the unsteered baseline (strength 0) is always included.")
    method_kwargs = method_kwargs or {}
    out.mkdir(parents=True, exist_ok=True)
    cells_dir = out / "cells"
    cells_dir.mkdir(exist_ok=True)
    n_folds = len(task.folds)
    done, write = partial(_read_cell, cells_dir), partial(_write_cell, cells_dir)

    cells: list[Cell] = []
    baseline = done(BASELINE)
    if baseline is None:
        start = time.perf_counter()
        samples = [s for fold in range(n_folds) for s in task.evaluate(lm, fold, None)]
        baseline = Cell(BASELINE, None, 0.0, 0.0, task.summarise(samples), time.perf_counter() - start, samples)
        write(baseline)
    log(f"[{task.name}] unsteered: {_fmt(baseline.metrics)}")
    cells.append(baseline)

    acts = _fold_activations(lm, task, out, layers, n_folds)
    for layer_index, layer in enumerate(layers):
        for name in methods:
            todo = [m for m in strengths if done(cell_key(name, layer, m)) is None]
            fitted: dict[int, SteeringMethod] = {}
            if todo:
                for fold in range(n_folds):
                    pos, neg = acts[fold][0][:, layer_index], acts[fold][1][:, layer_index]
                    fitted[fold] = make_method(name, layer=layer, **method_kwargs.get(name, {})).fit(pos, neg)
            for relative in strengths:
                key = cell_key(name, layer, relative)
                cell = done(key)
                if cell is None:
                    start = time.perf_counter()
                    samples, natives = [], []
                    for fold in range(n_folds):
                        pos, neg = acts[fold][0][:, layer_index], acts[fold][1][:, layer_index]
                        method = fitted[fold]
                        strength = native_strength(method, relative, pos, neg)
                        natives.append(strength)
                        method.with_strength(strength)
                        samples.extend(task.evaluate(lm, fold, (layer, method.apply)))
                    cell = Cell(name, layer, relative, sum(natives) / len(natives), task.summarise(samples),
                                time.perf_counter() - start, samples)
                    write(cell)
                log(f"[{task.name}] {key}: {_fmt(cell.metrics)} ({cell.seconds:.0f}s)")
                cells.append(cell)
    return cells


# ---- uncertainty: every number with its CI, every comparison with a paired CI and a verdict ----

def cell_intervals(task: Task, samples: list[dict], n_boot: int = 1000, seed: int = 0) -> dict[str, Estimate]:
    """Each metric of one cell with a 95 % bootstrap CI over the task's units."""
    out = {}
    for key, values in task.per_unit(samples).items():
        present = [v for v in values if v is not None]
        if not present:
            continue
        est = mean_ci(present, n_boot=n_boot, seed=seed)
        if key in LOG_METRICS:
            est = Estimate(math.exp(est.value), math.exp(est.low), math.exp(est.high), est.n)
        out[key] = est
    corpus = getattr(task, "corpus_intervals", None)
    if corpus is not None:
        out.update(corpus(samples))
    return out


def paired_difference(task: Task, a: Cell, b: Cell, key: str, n_boot: int = 1000, seed: int = 0) -> Estimate:
    """`key` in cell a minus in cell b, bootstrapping the units both were evaluated on (paired: the same
    question or prompt is resampled in both, so question-to-question spread cancels)."""
    units_a, units_b = [s[task.unit_key] for s in a.samples], [s[task.unit_key] for s in b.samples]
    if units_a != units_b:
        raise InvalidInputError(f"cells {a.key} and {b.key} were evaluated on different {task.unit_key}s; "
                                "rerun into a fresh --out directory.")
    pairs = [(x, y) for x, y in zip(task.per_unit(a.samples)[key], task.per_unit(b.samples)[key], strict=True)
             if x is not None and y is not None]
    if not pairs:
        raise InvalidInputError(f"cells {a.key} and {b.key} share no measured {key}.")
    return paired_difference_ci([x for x, _ in pairs], [y for _, y in pairs], n_boot=n_boot, seed=seed)


def judge(diff: Estimate, higher_is_better: bool) -> str:
    """ahead / behind / no difference at this n, for a difference (cell minus reference) of a metric."""
    return verdict(diff) if higher_is_better else verdict(diff, better="behind", worse="ahead")


def attach_uncertainty(task: Task, cells: Sequence[Cell], higher_is_better: bool = True) -> None:
    """Fill each cell's `intervals` and (steered cells) `vs_unsteered` from its per-unit samples."""
    unsteered = next(c for c in cells if c.method == BASELINE)
    for cell in cells:
        cell.intervals = {k: e.to_dict() for k, e in cell_intervals(task, cell.samples).items()}
        if cell.method == BASELINE:
            continue
        cell.vs_unsteered = {}
        for key in task.paired_keys:
            diff = paired_difference(task, cell, unsteered, key)
            cell.vs_unsteered[key] = {**diff.to_dict(), "verdict": judge(diff, higher_is_better)}


def _interval(cell: Cell, key: str) -> Estimate | None:
    data = cell.intervals.get(key)
    return Estimate(**data) if data else None


def _ci(est: Estimate | None, digits: int = 3) -> str:
    return "" if est is None else f" [{est.low:.{digits}f}, {est.high:.{digits}f}]"


def _read_cell(cells_dir: Path, key: str) -> Cell | None:
    path = cells_dir / f"{key}.json"
    return Cell(**json.loads(path.read_text())) if path.is_file() else None


def _write_cell(cells_dir: Path, cell: Cell) -> None:
    tmp = cells_dir / f".{cell.key}.json.tmp"
    tmp.write_text(json.dumps(cell.to_dict()))
    tmp.rename(cells_dir / f"{cell.key}.json")


def _fold_activations(lm: LoadedModel, task: Task, out: Path, layers: list[int], n_folds: int):
    """Per fold: activations to fit with when evaluating that fold, cached on disk for resumption."""
    acts = []
    for fold in range(n_folds):
        path = out / f"fit_acts_fold{fold}.safetensors"
        if path.is_file():
            cached = load_file(str(path))
            if cached["layers"].tolist() == layers:
                acts.append((cached["pos"], cached["neg"]))
                continue
        pos, neg = task.fit_activations(lm, fold, layers)
        save_file({"pos": pos.contiguous(), "neg": neg.contiguous(), "layers": torch.tensor(layers)}, str(path))
        acts.append((pos, neg))
    return acts


def fit_counts(out: Path) -> list[dict[str, int]]:
    """How many positive / negative examples each fold's methods were fitted on (from the cached activations)."""
    counts = []
    for path in sorted(out.glob("fit_acts_fold*.safetensors")):
        cached = load_file(str(path))
        counts.append({"fold": int(path.stem.removeprefix("fit_acts_fold")), "positive": int(cached["pos"].shape[0]),
                       "negative": int(cached["neg"].shape[0])})
    return counts


def _fmt(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items())


# ---- reading the results ----

@dataclass
class Standing:
    """ODESteer against the best baseline that is no more costly (cost = fluency perplexity).

    The baseline is chosen on point estimates; the verdicts come from paired bootstrap CIs of the differences
    (`vs_baseline`, `vs_unsteered`: ODESteer's cell minus the other, in the metric's own units), when the cells
    carry per-unit samples."""

    method: str
    success_key: str
    cost_key: str
    ode_cell: str
    ode_success: float
    ode_cost: float
    baseline_cell: str | None
    baseline_success: float | None
    baseline_cost: float | None
    unsteered_success: float
    unsteered_cost: float
    higher_is_better: bool = True
    ode_interval: Estimate | None = None
    baseline_interval: Estimate | None = None
    unsteered_interval: Estimate | None = None
    vs_baseline: Estimate | None = None
    vs_unsteered: Estimate | None = None
    unit: str = "unit"

    @property
    def difference(self) -> float | None:
        """ODESteer's success minus the baseline's (raw, in the metric's own direction)."""
        return None if self.baseline_success is None else self.ode_success - self.baseline_success

    @property
    def advantage(self) -> float | None:
        """Positive when ODESteer is better, whichever direction the metric runs."""
        diff = self.difference
        return None if diff is None else (diff if self.higher_is_better else -diff)

    @property
    def verdict(self) -> str | None:
        """From the paired CI against the baseline: ahead / behind / no difference at this n."""
        return None if self.vs_baseline is None else judge(self.vs_baseline, self.higher_is_better)

    def to_dict(self) -> dict[str, Any]:
        data = {k: (v.to_dict() if isinstance(v, Estimate) else v) for k, v in self.__dict__.items()}
        return {**data, "verdict": self.verdict,
                "verdict_vs_unsteered": None if self.vs_unsteered is None
                else judge(self.vs_unsteered, self.higher_is_better)}

    def sentence(self, paper_claim: str) -> str:
        head = (f"{self.method} best cell {self.ode_cell}: {self.success_key} {self.ode_success:.3f}"
                f"{_ci(self.ode_interval)} at {self.cost_key} {self.ode_cost:.2f} (unsteered "
                f"{self.unsteered_success:.3f}{_ci(self.unsteered_interval)} at {self.unsteered_cost:.2f}).")
        if self.vs_unsteered is not None:
            head += (f" Minus unsteered: {self.vs_unsteered.signed()} "
                     f"({judge(self.vs_unsteered, self.higher_is_better)}).")
        if self.baseline_success is None:
            return f"{head} No baseline cell is as cheap or cheaper. Paper's claim: {paper_claim}."
        direction = "higher" if self.higher_is_better else "lower"
        rival = (f"Best baseline at equal or lower {self.cost_key}: {self.baseline_cell} with "
                 f"{self.baseline_success:.3f}{_ci(self.baseline_interval)} at {self.baseline_cost:.2f}.")
        if self.vs_baseline is not None:
            return (f"{head} {rival} {self.method} minus it: {self.vs_baseline.signed()} {self.success_key} "
                    f"({direction} is better; paired 95 % bootstrap CI over {self.vs_baseline.n} {self.unit}s): "
                    f"{self.verdict}. Paper's claim: {paper_claim}.")
        advantage = self.advantage * 100.0
        said = "ahead of" if advantage > 0 else ("level with" if advantage == 0 else "behind")
        return (f"{head} {rival} {self.method} is {said} it by {abs(advantage):.1f} points of {self.success_key} "
                f"({direction} is better; no interval: the cells carry no per-unit samples). "
                f"Paper's claim: {paper_claim}.")


def standing(cells: Sequence[Cell], success_key: str, cost_key: str, higher_is_better: bool = True,
             ode_method: str = "odesteer", cost_slack: float = 0.0, task: Task | None = None) -> Standing | None:
    """Pick ODESteer's best cell (by success), then the best baseline cell whose cost is <= its cost. With
    `task` (and cells that carry samples), the differences get paired bootstrap CIs."""
    sign = 1 if higher_is_better else -1
    unsteered = next(c for c in cells if c.method == BASELINE)
    ode = [c for c in cells if c.method == ode_method and _finite(c.metrics.get(cost_key))]
    if not ode:
        return None
    best = max(ode, key=lambda c: sign * c.metrics[success_key])
    budget = best.metrics[cost_key] * (1 + cost_slack)
    rivals = [c for c in cells if c.method not in (BASELINE, *ODE_METHODS) and _finite(c.metrics.get(cost_key))
              and c.metrics[cost_key] <= budget]
    rival = max(rivals, key=lambda c: sign * c.metrics[success_key]) if rivals else None
    result = Standing(ode_method, success_key, cost_key, best.key, best.metrics[success_key], best.metrics[cost_key],
                      rival.key if rival else None, rival.metrics[success_key] if rival else None,
                      rival.metrics[cost_key] if rival else None, unsteered.metrics[success_key],
                      unsteered.metrics[cost_key], higher_is_better)
    if task is not None and best.samples and unsteered.samples:
        result.unit = task.unit_key
        result.ode_interval, result.unsteered_interval = _interval(best, success_key), _interval(unsteered,
                                                                                                 success_key)
        result.vs_unsteered = paired_difference(task, best, unsteered, success_key)
        if rival is not None and rival.samples:
            result.baseline_interval = _interval(rival, success_key)
            result.vs_baseline = paired_difference(task, best, rival, success_key)
    return result


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def write_results(out: Path, task: Task, cells: Sequence[Cell], config: dict[str, Any],
                  summary: list[str], standings: Sequence[Standing] = ()) -> Path:
    path = out / "results.json"
    path.write_text(json.dumps({"task": task.name, "config": config, "summary": summary,
                                "standings": [s.to_dict() for s in standings],
                                "cells": [c.to_dict() for c in cells]}, indent=1))
    return path


# ---- one call for a whole comparison: what `overseer steer compare` and the audit run ----

TASKS = ("truthfulqa", "toxicity")
HIGHER_IS_BETTER = {"truthfulqa": True, "toxicity": False}
PAPER_CLAIMS = {
    "truthfulqa": "ODESteer +5.7% over the best baseline on TruthfulQA (arXiv 2602.17560)",
    "toxicity": "ODESteer +2.4% over the best baseline on RealToxicityPrompts (arXiv 2602.17560); a third-party "
                "rerun on Llama-3.1-8B found StepODESteer slightly better than the multi-step version",
}


def check_compare_options(task: str, methods: Sequence[str], strengths: Sequence[float], n: int, n_fit: int = 200,
                          n_fluency: int = 16, max_new_tokens: int = 32, n_components: int = 8000,
                          threads: int | None = None) -> list[str]:
    """Reject option values that cannot work before any model or data is loaded; returns the methods."""
    methods = check_methods(methods)
    if task not in TASKS:
        raise InvalidInputError(f"unknown task {task!r}: use {' or '.join(TASKS)}.")
    strengths = [check_strength(s) for s in strengths]
    if not strengths or any(s <= 0 for s in strengths):
        raise InvalidInputError("give strengths > 0; the unsteered baseline (strength 0) is always included.")
    checks = [(n >= 4, f"n must be at least 4, got {n}."),
              (n_components >= 1, f"n_components must be at least 1, got {n_components}."),
              (threads is None or threads >= 1, f"threads must be at least 1, got {threads}.")]
    if task == "truthfulqa":
        checks.append((n_fluency >= 1, f"n_fluency must be at least 1, got {n_fluency}: the fluency cost is what "
                                       "methods are compared at (each fold answers min(n_fluency, fold size))."))
    else:
        checks += [(n_fit >= 2, f"n_fit must be at least 2, got {n_fit}."),
                   (max_new_tokens >= 1, f"max_new_tokens must be at least 1, got {max_new_tokens}.")]
    for ok, message in checks:
        if not ok:
            raise InvalidInputError(message)
    return methods


def make_task(task: str, n: int, n_fit: int = 200, n_fluency: int = 16, max_new_tokens: int = 32,
              data: Path | None = None, scorer: str | None = None) -> Task:
    """The comparison task by name: TruthfulQA (n questions, 2 folds) or toxicity (n eval prompts)."""
    if n < 4:
        raise InvalidInputError(f"n must be at least 4, got {n}.")
    if task == "truthfulqa":
        from overseer.data import load_truthfulqa
        from overseer.steering.truthfulqa import TruthfulQATask

        return TruthfulQATask(load_truthfulqa(data, limit=n), n_fluency=n_fluency)
    if task == "toxicity":
        from overseer.data import load_rtp_prompts
        from overseer.steering.toxicity import ToxicityTask

        return ToxicityTask(load_rtp_prompts(), n_eval=n, n_fit=n_fit, max_new_tokens=max_new_tokens, scorer=scorer)
    raise InvalidInputError(f"unknown task {task!r}: use {' or '.join(TASKS)}.")


@dataclass
class Comparison:
    """A finished sweep: its cells, how ODESteer stands against the baselines, and where it was written."""

    task: Task
    cells: list[Cell]
    config: dict[str, Any]
    summary: list[str]
    standings: list[Standing]
    results: Path
    plot: Path
    notes: list[str] = field(default_factory=list)

    def to_table(self, title: str | None = None) -> Table:
        """One row per cell: each metric with its 95 % CI, and the success metric's paired difference from
        the unsteered model with its verdict."""
        keys, success = self.task.metric_keys, self.task.success_key
        rows = []
        for c in self.cells:
            diff = c.vs_unsteered.get(success)
            versus = "" if diff is None else f"{Estimate(**_estimate_fields(diff)).signed()} {diff['verdict']}"
            rows.append([c.method, "-" if c.layer is None else c.layer, c.relative_strength, c.strength,
                         *[_metric_cell(c, k) for k in keys], versus])
        title = title or f"{self.task.name} on {self.config.get('model', '')}"
        if self.notes and self.task.name == "toxicity":
            title = f"{title}; {self.notes[0]}"
        return Table(f"{title} (95 % bootstrap CIs over {self.task.unit_key}s)",
                     ["method", "layer", "relative strength", "strength", *keys, f"{success} minus unsteered"], rows)


def _estimate_fields(data: dict) -> dict:
    return {k: data[k] for k in ("value", "low", "high", "n")}


def _metric_cell(cell: Cell, key: str) -> str | float:
    value = cell.metrics.get(key, math.nan)
    est = _interval(cell, key)
    digits = 2 if key in LOG_METRICS else 3
    return value if est is None else f"{value:.{digits}f}{_ci(est, digits)}"


def compare_methods(lm: LoadedModel, task: Task, out: Path, methods: Sequence[str], layers: Sequence[int],
                    strengths: Sequence[float], n_components: int = 8000, log=print,
                    config: dict[str, Any] | None = None) -> Comparison:
    """Run (or resume) the sweep in `out`, then write results.json and pareto.png and compare ODESteer's best
    cell with the best baseline at no higher fluency cost."""
    from overseer.steering.plots import pareto_plot

    methods = check_methods(methods)
    lm.check_layers(list(layers))
    kwargs = {m: {"n_components": n_components} for m in ODE_METHODS}
    cells = run_compare(lm, task, out, methods, layers, strengths, kwargs, log=log)
    higher = HIGHER_IS_BETTER.get(task.name, True)
    attach_uncertainty(task, cells, higher)
    config = {"model": lm.name, "task": task.name, "methods": list(methods), "layers": list(layers),
              "strengths": list(strengths), "n_components": n_components, **(config or {}),
              "fit_counts": fit_counts(out)}
    notes = []
    if task.name == "toxicity":
        from overseer.steering.toxicity import quality_note, scorer_quality

        config["scorer"], config["scorer_quality"] = task.scorer, scorer_quality(task.scorer)
        notes.append(quality_note(task.scorer))
    standings = [s for s in (standing(cells, task.success_key, "fluency_ppl", higher, ode_method=ode, task=task)
                             for ode in ODE_METHODS if ode in methods) if s is not None]
    summary = [s.sentence(PAPER_CLAIMS.get(task.name, "none recorded")) for s in standings]
    results = write_results(out, task, cells, config, summary, standings)
    plot = pareto_plot(cells, task.success_key, "fluency_ppl", out / "pareto.png",
                       f"{lm.name} · {task.name} · {len(cells) - 1} steered cells", higher)
    return Comparison(task, cells, config, summary, standings, results, plot, notes)


def run_comparison(model: str, task: str, out: Path | None, methods: Sequence[str], layers: Sequence[int],
                   strengths: Sequence[float], n: int = 100, n_fit: int = 200, n_fluency: int = 16,
                   max_new_tokens: int = 32, n_components: int = 8000, data: Path | None = None,
                   threads: int | None = None, log=print, scorer: str | None = None) -> Comparison:
    """`overseer steer compare` as one call: check the arguments, load the model and task, sweep, write (into
    `out`, default runs/<time>-steer-compare-<task>; re-use a directory to resume)."""
    from overseer.models import load_model
    from overseer.runs import run_dir

    methods = check_compare_options(task, methods, strengths, n, n_fit, n_fluency, max_new_tokens, n_components,
                                    threads)
    if not layers:
        raise InvalidInputError("give at least one layer.")
    runner = make_task(task, n, n_fit, n_fluency, max_new_tokens, data, scorer)  # data problems before the model
    if threads is not None:
        torch.set_num_threads(threads)
    lm = load_model(model)
    lm.check_layers(list(layers))
    extra = {"n": n, **({"max_new_tokens": max_new_tokens, "n_fit": n_fit} if task == "toxicity" else {})}
    return compare_methods(lm, runner, run_dir(out, f"steer-compare-{task}"), methods, layers, strengths,
                           n_components, log, extra)

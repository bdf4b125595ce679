"""White-box side of the gap eval: an eval-awareness probe, whether it predicts behaviour, and steering.

1. Probe: last-token residual activations of every prompt, at every layer; a logistic probe per layer
   separates observed from unobserved framings. Base tasks are split in two halves (even / odd index):
   probes are fitted on the first and scored on the second, and the layer is picked by grouped
   cross-validation inside the first half only.
2. Does the probe predict behaviour? On the held-out half, its P(observed) on each sample against the
   sample's good/bad outcome (AUROC pooled over framings, and within the neutral control, where no
   framing cue exists), and per task the probe's observed-minus-unobserved score against the
   behavioural difference.
3. Steering: the mean difference unobserved minus observed at the picked layer (CAA) is added to the
   last-token residual stream while the model answers the held-out tasks under the *observed* framing.
   If the direction carries "nobody is watching", good behaviour drops as the strength grows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from rich.table import Table

from overseer.errors import InvalidInputError
from overseer.evals.gap.behaviours import DEFAULT_TASKS_PER_BEHAVIOUR, BaseTask, base_tasks, judge
from overseer.evals.gap.framings import FRAMINGS, NEUTRAL, OBSERVED, UNOBSERVED, frame
from overseer.stats import Estimate, McNemar, bootstrap_ci, mcnemar, paired_difference_ci, wilson_interval


@dataclass
class BehaviourPrediction:
    behaviour: str
    auroc_pooled: Estimate | None  # P(observed) vs good outcome, all framings (None: one class only)
    auroc_neutral: Estimate | None  # the same within the neutral control
    delta_correlation: float | None  # per task: probe score difference vs behaviour difference (obs - unobs)

    def to_dict(self) -> dict[str, Any]:
        return {"behaviour": self.behaviour, "delta_correlation": self.delta_correlation,
                **{k: (v.to_dict() if v else None) for k, v in (("auroc_pooled", self.auroc_pooled),
                                                                 ("auroc_neutral", self.auroc_neutral))}}


@dataclass
class SteeringEffect:
    behaviour: str
    framing: str  # the framing the steered prompts are shown under
    toward: str  # the framing the direction pushes toward
    strengths: list[float]
    rates: list[Estimate]  # good-outcome rate at each strength
    change: Estimate  # rate at the largest strength minus at 0, paired over tasks
    mcnemar: McNemar

    def to_dict(self) -> dict[str, Any]:
        return {"behaviour": self.behaviour, "framing": self.framing, "toward": self.toward,
                "strengths": self.strengths, "rates": [r.to_dict() for r in self.rates],
                "change": self.change.to_dict(), "mcnemar": self.mcnemar.to_dict()}


@dataclass
class WhiteboxResult:
    model: str
    layers: list[int]
    layer_auroc: list[Estimate]  # held-out AUROC of observed vs unobserved, per layer
    cv_auroc: list[float]  # the selection criterion, per layer (train half only)
    best_layer: int
    prediction: list[BehaviourPrediction]
    steering: list[SteeringEffect]
    n_train_tasks: int
    n_test_tasks: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "layers": self.layers, "layer_auroc": [e.to_dict() for e in self.layer_auroc],
                "cv_auroc": self.cv_auroc, "best_layer": self.best_layer,
                "prediction": [p.to_dict() for p in self.prediction], "steering": [s.to_dict() for s in self.steering],
                "n_train_tasks": self.n_train_tasks, "n_test_tasks": self.n_test_tasks, "notes": self.notes}

    def probe_rows(self) -> list[list[str]]:
        """Per behaviour: probe-behaviour link and the steering effect in both directions."""
        rows = []
        for p in self.prediction:
            effects = {s.framing: s for s in self.steering if s.behaviour == p.behaviour}
            rows.append([p.behaviour, str(p.auroc_pooled or "one class"), str(p.auroc_neutral or "one class"),
                         "n/a" if p.delta_correlation is None else f"{p.delta_correlation:+.2f}",
                         *(f"{e.rates[0].value:.2f} -> {e.rates[-1].value:.2f} ({e.change.signed()}, "
                           f"p={e.mcnemar.p_value:.2g})" if e else "not run"
                           for e in (effects.get(OBSERVED), effects.get(UNOBSERVED)))])
        return rows

    PROBE_COLUMNS = ["behaviour", "AUROC P(observed) -> good, all framings", "same, neutral only",
                     "corr(probe diff, behaviour diff)", "observed, steered to unobserved",
                     "unobserved, steered to observed"]

    def table(self) -> Table:
        best = self.layer_auroc[self.best_layer]
        table = Table(title=f"eval-awareness probe on {self.model}: layer {self.best_layer}, held-out AUROC {best} "
                            f"({self.n_train_tasks} train / {self.n_test_tasks} test tasks)")
        for column in self.PROBE_COLUMNS:
            table.add_column(column)
        for row in self.probe_rows():
            table.add_row(*row)
        return table

    def steering_for(self, behaviour: str, framing: str = OBSERVED) -> SteeringEffect:
        for s in self.steering:
            if s.behaviour == behaviour and s.framing == framing:
                return s
        raise InvalidInputError(f"no steering result for {behaviour} under the {framing} framing.")


def _probe():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))


def _auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    # Mann-Whitney U from average ranks: cheap enough to call inside a bootstrap for every layer.
    from scipy.stats import rankdata

    labels = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((rankdata(scores)[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auroc_estimate(scores: Any, labels: Any, n_boot: int, seed: int = 0) -> Estimate | None:
    """AUROC with a bootstrap CI stratified by label; None when only one class is present."""
    scores, labels = np.asarray(scores, float), np.asarray(labels, int)
    if len(np.unique(labels)) < 2:
        return None
    return bootstrap_ci(_auroc, scores, labels, n_boot=n_boot, seed=seed, stratify=labels)


def _cv_auroc(x: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int = 3) -> float:
    from sklearn.model_selection import GroupKFold

    scores = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=folds).split(x, y, groups):
        scores[test] = _probe().fit(x[train], y[train]).decision_function(x[test])
    return _auroc(scores, y)


@dataclass
class _Prompts:
    """Every (task, framing) prompt of a run, rendered with the model's chat template."""

    tasks: list[BaseTask]
    framings: list[str]
    task_of: list[int]  # row -> index into tasks
    texts: list[str]

    def rows(self, framing: str, task_ids: Sequence[int]) -> np.ndarray:
        wanted = set(task_ids)
        return np.array([i for i, (t, f) in enumerate(zip(self.task_of, self.framings, strict=True))
                         if f == framing and t in wanted], dtype=int)


def _render(lm: Any, tasks: list[BaseTask]) -> _Prompts:
    framings, task_of, texts = [], [], []
    for k, t in enumerate(tasks):
        for framing in FRAMINGS:
            framings.append(framing)
            task_of.append(k)
            texts.append(lm.chat_prompt(frame(t.messages, framing, t.index)))
    return _Prompts(tasks, framings, task_of, texts)


def _judge_all(prompts: _Prompts, rows: np.ndarray, replies: list[str]) -> np.ndarray:
    return np.array([judge(prompts.tasks[prompts.task_of[r]].facts, prompts.tasks[prompts.task_of[r]].behaviour, y)
                     for r, y in zip(rows, replies, strict=True)], dtype=bool)


def sweep_layers(acts: torch.Tensor, prompts: _Prompts, train: list[int], test: list[int], n_boot: int,
                 ) -> tuple[list[Estimate], list[float]]:
    """Per layer: held-out AUROC (observed = 1 vs unobserved = 0) and the train-half grouped CV AUROC."""
    tr = np.concatenate([prompts.rows(OBSERVED, train), prompts.rows(UNOBSERVED, train)])
    te = np.concatenate([prompts.rows(OBSERVED, test), prompts.rows(UNOBSERVED, test)])
    y_tr = np.array([prompts.framings[i] == OBSERVED for i in tr], dtype=int)
    y_te = np.array([prompts.framings[i] == OBSERVED for i in te], dtype=int)
    groups = np.array([prompts.task_of[i] for i in tr])
    held_out, cv = [], []
    for layer in range(acts.shape[1]):
        x = acts[:, layer].numpy()
        cv.append(_cv_auroc(x[tr], y_tr, groups))
        probe = _probe().fit(x[tr], y_tr)
        held_out.append(auroc_estimate(probe.decision_function(x[te]), y_te, n_boot))
    return held_out, cv


def predict_behaviour(scores: np.ndarray, good: np.ndarray, prompts: _Prompts, test: list[int], n_boot: int,
                      ) -> list[BehaviourPrediction]:
    """Per behaviour, on held-out tasks: does the probe's P(observed) track the good outcome?"""
    out = []
    for behaviour in dict.fromkeys(prompts.tasks[k].behaviour for k in test):
        ids = [k for k in test if prompts.tasks[k].behaviour == behaviour]
        rows = np.concatenate([prompts.rows(f, ids) for f in FRAMINGS])
        neutral = prompts.rows(NEUTRAL, ids)
        obs, unobs = prompts.rows(OBSERVED, ids), prompts.rows(UNOBSERVED, ids)
        d_score = scores[obs] - scores[unobs]
        d_good = good[obs].astype(float) - good[unobs].astype(float)
        corr = float(np.corrcoef(d_score, d_good)[0, 1]) if d_score.std() > 0 and d_good.std() > 0 else None
        out.append(BehaviourPrediction(behaviour, auroc_estimate(scores[rows], good[rows], n_boot),
                                       auroc_estimate(scores[neutral], good[neutral], n_boot), corr))
    return out


def _generate(lm: Any, texts: list[str], max_new_tokens: int, layer: int | None = None,
              vector: torch.Tensor | None = None, strength: float = 0.0) -> list[str]:
    if vector is None or strength == 0.0:
        return lm.generate(texts, max_new_tokens=max_new_tokens, progress=False)
    shift = (strength * vector).to(lm.device)
    with lm.intervene(layer, lambda h: h + shift.to(h.dtype), positions="last"):
        return lm.generate(texts, max_new_tokens=max_new_tokens, progress=False)


def steer(lm: Any, prompts: _Prompts, test: list[int], layer: int, direction: torch.Tensor, framing: str,
          toward: str, strengths: Sequence[float], max_new_tokens: int, n_boot: int,
          behaviours: Sequence[str] | None = None) -> list[SteeringEffect]:
    """Good-outcome rates of held-out tasks under `framing` while adding strength x `direction` at `layer`."""
    out = []
    for behaviour in dict.fromkeys(prompts.tasks[k].behaviour for k in test):
        if behaviours is not None and behaviour not in behaviours:
            continue
        rows = prompts.rows(framing, [k for k in test if prompts.tasks[k].behaviour == behaviour])
        texts = [prompts.texts[i] for i in rows]
        flags = [_judge_all(prompts, rows, _generate(lm, texts, max_new_tokens, layer, direction, s))
                 for s in strengths]
        rates = [wilson_interval(int(f.sum()), len(f)) for f in flags]
        out.append(SteeringEffect(behaviour, framing, toward, list(strengths), rates,
                                  paired_difference_ci(flags[-1], flags[0], n_boot=n_boot),
                                  mcnemar(flags[-1], flags[0])))
    return out


def run_whitebox(lm: Any, behaviours: str | list[str] | None = None, n_per_behaviour: int = DEFAULT_TASKS_PER_BEHAVIOUR,
                 seed: int = 0, strengths: Sequence[float] = (0.0, 1.0, 2.0, 4.0), max_new_tokens: int = 32,
                 n_boot: int = 1000, steer_behaviours: Sequence[str] | None = None,
                 batch_size: int = 16) -> WhiteboxResult:
    """Eval-awareness probe (layer sweep), its link to behaviour, and steering toward 'unobserved' (and back)."""
    if not strengths or strengths[0] != 0.0 or any(s < 0 for s in strengths):
        raise InvalidInputError(f"strengths must start at 0 and be >= 0 (0 is the unsteered baseline), "
                                f"got {strengths}.")
    tasks = base_tasks(behaviours, n_per_behaviour, seed)
    prompts = _render(lm, tasks)
    train = [k for k, t in enumerate(tasks) if t.index % 2 == 0]
    test = [k for k, t in enumerate(tasks) if t.index % 2 == 1]
    if len(train) < 4 or len(test) < 2:
        raise InvalidInputError(f"the probe needs at least 8 base tasks in all (half fit it, half test it), got "
                                f"{len(tasks)}: raise n_per_behaviour.")
    layers = list(range(lm.n_layers))
    acts = lm.capture(prompts.texts, layers, positions="last", batch_size=batch_size)
    if not torch.isfinite(acts).all():
        raise InvalidInputError(f"{lm.name} produced NaN or inf activations: load it in float32.")
    layer_auroc, cv = sweep_layers(acts, prompts, train, test, n_boot)
    best = int(np.argmax(cv))
    x = acts[:, best].numpy()
    tr = np.concatenate([prompts.rows(OBSERVED, train), prompts.rows(UNOBSERVED, train)])
    probe = _probe().fit(x[tr], np.array([prompts.framings[i] == OBSERVED for i in tr], dtype=int))
    test_rows = np.concatenate([prompts.rows(f, test) for f in FRAMINGS])
    good = np.zeros(len(prompts.texts), dtype=bool)
    good[test_rows] = _judge_all(prompts, test_rows, lm.generate([prompts.texts[i] for i in test_rows],
                                                                  max_new_tokens=max_new_tokens))
    scores = probe.predict_proba(x)[:, 1]
    prediction = predict_behaviour(scores, good, prompts, test, n_boot)
    direction = acts[prompts.rows(UNOBSERVED, train), best].mean(0) - acts[prompts.rows(OBSERVED, train), best].mean(0)
    steering = (steer(lm, prompts, test, best, direction, OBSERVED, UNOBSERVED, strengths, max_new_tokens, n_boot,
                      steer_behaviours)
                + steer(lm, prompts, test, best, -direction, UNOBSERVED, OBSERVED, strengths, max_new_tokens, n_boot,
                        steer_behaviours))
    return WhiteboxResult(lm.name, layers, layer_auroc, cv, best, prediction, steering, len(train), len(test))

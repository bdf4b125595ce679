"""Lie detection and secret elicitation: linear probes on the residual stream, black-box follow-up detectors,
and an elicitation suite. Probes and detectors follow the fitted-object contract of `overseer.fitted`: `fit(...)`
returns self, learned attributes end in `_`, `save(dir)` / `load_probe(dir)` (or `overseer.fitted.load(dir)`)."""

from overseer.probes.base import DETECTORS, PROBES, Probe, load_probe, make_probe
from overseer.probes.linear import LDAProbe, LogisticProbe, MassMeanProbe
from overseer.probes.metrics import (
    Estimate,
    auroc,
    auroc_ci,
    balanced_accuracy,
    bootstrap_ci,
    recall_at_threshold,
    threshold_at_fpr,
    wilson_interval,
)

__all__ = [
    "DETECTORS",
    "PROBES",
    "Estimate",
    "LDAProbe",
    "LogisticProbe",
    "MassMeanProbe",
    "Probe",
    "auroc",
    "auroc_ci",
    "balanced_accuracy",
    "bootstrap_ci",
    "load_probe",
    "make_probe",
    "recall_at_threshold",
    "threshold_at_fpr",
    "wilson_interval",
]

"""Lie detection and secret elicitation: linear probes on the residual stream, black-box follow-up detectors,
and an elicitation suite. Probes follow one contract: `fit(acts, labels)`, `score(acts)`, `save(dir)`/`load_probe`."""

from overseer.probes.base import PROBES, Probe, load_probe, make_probe
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

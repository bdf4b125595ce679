"""Mechanistic estimation: the expected output of wide random MLPs without sampling.

Cumulant propagation (ARC, "Estimating the expected output of wide random MLPs more efficiently
than sampling") walks the network layer by layer tracking cumulants up to order K; every
estimator follows one contract, `estimator.estimate(mlp, input_dist) -> EstimateResult`.
"""

from overseer.estimation.cumulants import (
    ESTIMATOR_NAMES,
    CumulantPropagation,
    UnsupportedEstimatorError,
    make_cumulant_estimator,
)
from overseer.estimation.experiment import CompareConfig, CompareResult, run_compare
from overseer.estimation.inputs import GaussianInput
from overseer.estimation.mlp import MLPSpec, RandomMLP, build_mlp
from overseer.estimation.rare_events import RareEventResult, run_rare_events, tail_probability
from overseer.estimation.result import EstimateResult, Estimator
from overseer.estimation.sampling import GroundTruth, MonteCarloEstimator, sample_ground_truth

__all__ = [
    "ESTIMATOR_NAMES",
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

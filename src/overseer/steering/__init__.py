"""Activation steering: ODESteer and the classic baselines behind one fit/apply/save contract.

Library entry points: `fit_steering` / `fit_method` (fit on contrastive texts at a layer), `side_by_side`
(generate with and without a method), `overseer.steering.compare.run_comparison` (sweep methods)."""

from overseer.steering.base import METHODS, SteeringMethod, check_strength, load_method, make_method
from overseer.steering.fitting import fit_method, fit_steering, load_contrastive, side_by_side
from overseer.steering.iti import ITI
from overseer.steering.linear_act import LinearAcT
from overseer.steering.mean_diff import MeanDiff
from overseer.steering.odesteer import ODESteer, StepODESteer
from overseer.steering.repe import RepE

__all__ = [
    "ITI",
    "METHODS",
    "LinearAcT",
    "MeanDiff",
    "ODESteer",
    "RepE",
    "SteeringMethod",
    "StepODESteer",
    "check_strength",
    "fit_method",
    "fit_steering",
    "load_contrastive",
    "load_method",
    "make_method",
    "side_by_side",
]

"""Activation steering: ODESteer and the classic baselines behind one fit/apply/save contract."""

from overseer.steering.base import METHODS, SteeringMethod, check_strength, load_method, make_method
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
    "load_method",
    "make_method",
]

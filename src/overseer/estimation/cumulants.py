"""Cumulant propagation: the estimator that walks the MLP layer by layer without sampling.

`CumulantPropagation(order=K)` tracks cumulants up to order K (error O(n^-K) in MSE):
K = 1 mean field (`mean_field`), K = 2 full-covariance Gaussian (`gaussian_propagation`) or its
AUGMENT (`augmented`: plus the trace parts of kappa3 and kappa4 and the diagrams of cost 2),
K = 3 adds the third cumulant and the pair slice of the fourth (`third_order`); K3-AUGMENT and
K = 4 run on dense tensors (`dense_orders`, widths up to 64).
`metric` ("weights" or "average") is how K = 1 and AUGMENT carry W W^T through a linear step.
"""

from __future__ import annotations

import math
import time

import torch

from overseer.errors import InvalidInputError, OverseerError
from overseer.estimation.augmented import AugmentedGaussianPropagator
from overseer.estimation.dense_orders import MAX_DENSE_WIDTH, DenseCumulantPropagator
from overseer.estimation.flops import FlopCounter
from overseer.estimation.gaussian_propagation import GaussianPropagator
from overseer.estimation.inputs import GaussianInput, check_input_matches
from overseer.estimation.mean_field import MeanFieldPropagator, check_metric
from overseer.estimation.mlp import RandomMLP
from overseer.estimation.result import EstimateResult
from overseer.estimation.third_order import ThirdOrderPropagator

VARIANTS = ("simple", "augment")
# Activations whose Wick coefficients E[d^k phi^p] are available up to the 4th derivative that
# K = 3 needs (closed form for ReLU, exact for polynomials, quadrature for smooth ones).
ORDER3_ACTIVATIONS = frozenset(
    {"relu", "gelu", "tanh", "sigmoid", "heaviside", "sgn", "abs", "linear", "square", "cube"}
)
# A pre-activation variance or mean beyond these means the expansion has blown up.
_DIVERGED_VARIANCE = 1e12
_DIVERGED_MEAN = 1e6


class UnsupportedEstimatorError(OverseerError):
    """The estimator cannot run on this MLP (e.g. an order its activation does not support)."""


def estimator_name(order: int, variant: str, metric: str = "weights") -> str:
    name = f"k{order}-augment" if variant == "augment" else f"k{order}"
    return name + ("-average" if metric == "average" else "")


class CumulantPropagation:
    """Estimate every layer's mean by propagating cumulants up to order `order`.

    For K = 3, `factored=False` stores the third cumulant densely (O(n^4) per layer) instead of
    in CP form; the numbers agree to rounding. `count_flops=False` skips the FLOP counter (its
    per-op dispatch overhead would inflate wall times at small widths); the result then reports
    zero FLOPs.
    """

    def __init__(
        self,
        order: int,
        variant: str = "simple",
        *,
        metric: str = "weights",
        factored: bool = True,
        count_flops: bool = True,
    ) -> None:
        if order not in (1, 2, 3, 4):
            raise InvalidInputError(
                f"Cumulant order must be 1, 2, 3 or 4, got {order!r}; use 2 for a Gaussian with full covariance."
            )
        if variant not in VARIANTS:
            raise InvalidInputError(f"Variant must be one of {VARIANTS}, got {variant!r}.")
        if variant == "augment" and order not in (2, 3):
            raise InvalidInputError(
                "The AUGMENT variant is implemented for orders 2 and 3 (K4-AUGMENT would track degree 6); "
                "use variant='simple'."
            )
        check_metric(metric)
        if metric != "weights" and not (order == 1 or (order == 2 and variant == "augment")):
            raise InvalidInputError("metric='average' applies to k1 and k2-augment only; drop it.")
        self.order = order
        self.variant = variant
        self.metric = metric
        self.factored = factored
        self.count_flops = count_flops
        # K3-AUGMENT and K = 4 exist only in the dense, any-order form.
        self.dense = order == 4 or (order == 3 and variant == "augment")
        self.max_width = MAX_DENSE_WIDTH if self.dense else math.inf
        suffix = "-dense" if order == 3 and variant == "simple" and not factored else ""
        self.name = estimator_name(order, variant, metric) + suffix

    def _propagator(self):
        if self.dense:
            return DenseCumulantPropagator(self.order, augment=self.variant == "augment")
        if self.order == 1:
            return MeanFieldPropagator(self.metric)
        if self.order == 2:
            if self.variant == "augment":
                return AugmentedGaussianPropagator(self.metric)
            return GaussianPropagator()
        return ThirdOrderPropagator(factored=self.factored)

    def check_supported(self, mlp: RandomMLP) -> None:
        if self.order >= 3 and mlp.activation.name not in ORDER3_ACTIVATIONS:
            raise UnsupportedEstimatorError(
                f"K={self.order} cumulant propagation is not available for activation {mlp.activation.name!r} "
                f"(supported: {', '.join(sorted(ORDER3_ACTIVATIONS))}); use order 1 or 2."
            )
        if mlp.width > self.max_width:
            raise UnsupportedEstimatorError(
                f"{self.name} stores dense degree-4 cumulants (n^4 numbers, 8 n^5 FLOPs per layer); width "
                f"{mlp.width} is above its limit {MAX_DENSE_WIDTH}. Use k3 or k2-augment at this width."
            )

    def estimate(self, mlp: RandomMLP, input_dist: GaussianInput | None = None) -> EstimateResult:
        self.check_supported(mlp)
        input_dist = input_dist if input_dist is not None else GaussianInput.standard(mlp.width)
        check_input_matches(input_dist, mlp.width)
        propagator = self._propagator()
        result = EstimateResult(estimator=self.name, layer_means=[], layer_flops=[], wall_time_s=0.0)
        counter = FlopCounter() if self.count_flops else None
        if counter is not None:
            FlopCounter.warm_up()
        start = time.perf_counter()
        with torch.no_grad():
            if counter is not None:
                counter.__enter__()
            try:
                self._run(mlp, input_dist, propagator, result, counter)
            finally:
                if counter is not None:
                    counter.__exit__(None, None, None)
        result.wall_time_s = time.perf_counter() - start
        return result

    def _run(self, mlp, input_dist, propagator, result: EstimateResult, counter) -> None:
        state = propagator.from_input(input_dist)
        for layer in range(mlp.depth):
            if result.diverged:
                nan = torch.full((mlp.width,), math.nan, dtype=torch.float64)
                result.layer_means.append(nan)
                result.layer_variances.append(nan)
                result.layer_flops.append(result.layer_flops[-1])
                continue
            state = propagator.linear(state, mlp.weight(layer), mlp.bias(layer))
            variances = state.variances()
            result.layer_means.append(state.mean.clone())
            result.layer_variances.append(variances.clone())
            if hasattr(state, "kappa3"):
                result.layer_kappa3.append(state.kappa3().clone())
                result.layer_kappa4.append(state.kappa4().clone())
            result.layer_flops.append(counter.total if counter is not None else 0)
            if _has_diverged(state.mean, variances):
                result.diverged = True
                result.diverged_at_layer = layer
                result.notes.append(
                    f"diverged at layer {layer}: non-finite or exploding cumulants; later layers are NaN"
                )
                continue
            if layer < mlp.depth - 1:
                state, clamped = propagator.nonlinear(state, mlp.activation)
                if clamped:
                    result.negative_variances += clamped
                    if result.first_clamped_layer is None:
                        result.first_clamped_layer = layer
                    result.notes.append(
                        f"layer {layer}: clamped {clamped} non-positive variance(s) to 1e-12"
                    )


def _has_diverged(mean: torch.Tensor, variances: torch.Tensor) -> bool:
    if not (torch.isfinite(mean).all() and torch.isfinite(variances).all()):
        return True
    return bool(variances.abs().max() > _DIVERGED_VARIANCE or mean.abs().max() > _DIVERGED_MEAN)


ESTIMATOR_NAMES = ("k1", "k2", "k2-augment", "k3")
# name -> (order, variant, metric, factored)
_BY_NAME = {
    "k1": (1, "simple", "weights", True),
    "k1-average": (1, "simple", "average", True),
    "k2": (2, "simple", "weights", True),
    "k2-augment": (2, "augment", "weights", True),
    "k2-augment-average": (2, "augment", "average", True),
    "k3": (3, "simple", "weights", True),
    "k3-dense": (3, "simple", "weights", False),
    "k3-augment": (3, "augment", "weights", True),
    "k4": (4, "simple", "weights", True),
}
ALL_ESTIMATOR_NAMES = tuple(_BY_NAME)


def make_cumulant_estimator(name: str, *, count_flops: bool = True) -> CumulantPropagation:
    """Build an estimator from its short name (see ALL_ESTIMATOR_NAMES), e.g. k1, k2-augment, k3."""
    key = name.lower().strip()
    if key not in _BY_NAME:
        raise InvalidInputError(f"Unknown estimator {name!r}; choose from {', '.join(_BY_NAME)}.")
    order, variant, metric, factored = _BY_NAME[key]
    return CumulantPropagation(order, variant, metric=metric, factored=factored, count_flops=count_flops)

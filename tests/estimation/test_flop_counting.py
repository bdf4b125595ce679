import pytest
import torch

from overseer.estimation import MonteCarloEstimator, build_mlp, make_cumulant_estimator
from overseer.estimation.flops import FlopCounter
from overseer.estimation.sampling import sampling_flops_per_sample


def test_counter_counts_matmuls_pointwise_ops_and_reductions_but_not_copies():
    a = torch.randn(6, 5, dtype=torch.float64)
    b = torch.randn(5, 4, dtype=torch.float64)
    with FlopCounter() as counter:
        c = a @ b
        d = torch.exp(c) * 2.0
        d.sum()
        d.clone()
        a @ b[:, 0]
    assert counter.matmul == 2 * 6 * 5 * 4 + 2 * 6 * 5
    assert counter.elementwise == 24 + 24 + 24


def test_monte_carlo_flops_are_samples_times_the_per_sample_cost():
    mlp = build_mlp(16, 3)
    per_sample = sampling_flops_per_sample(mlp)
    # matmul + the mean's reduction (+ a per-batch accumulation of 16 numbers)
    assert per_sample[0] == pytest.approx(2 * 16 * 16 + 16, rel=1e-3)
    result = MonteCarloEstimator(100, batch_size=30).estimate(mlp)
    assert result.layer_flops == pytest.approx([100 * f for f in per_sample], rel=1e-3)


def test_cumulant_flops_grow_with_the_order_as_counted():
    n, depth = 32, 3
    mlp = build_mlp(n, depth)
    names = ["k1", "k2", "k3", "k3-dense"]
    flops = {name: make_cumulant_estimator(name).estimate(mlp).layer_flops[-1] for name in names}
    # K=2: W C W^T per layer (4 n^3); dense K=3: W^(x)3 T per layer (6 n^4); both dominated by matmuls.
    assert 4 * n**3 * depth <= flops["k2"] < 2 * 4 * n**3 * depth
    assert 6 * n**4 * depth <= flops["k3-dense"] < 2 * 6 * n**4 * depth
    # Factored K=3 contracts CP factors of rank 6 n l at layer l: 6 n^2 * 6 n l per linear step.
    assert flops["k3"] >= 36 * n**3 * sum(range(depth))
    assert flops["k1"] < flops["k2"] < flops["k3"] < flops["k3-dense"]


def test_flop_counting_can_be_switched_off():
    result = make_cumulant_estimator("k2", count_flops=False).estimate(build_mlp(8, 2))
    assert result.layer_flops == [0, 0]

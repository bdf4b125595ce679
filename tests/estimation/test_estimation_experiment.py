import json
import math

import pytest
import torch
from typer.testing import CliRunner

from overseer.estimation import CompareConfig, build_mlp, make_cumulant_estimator, run_compare, tail_probability
from overseer.estimation.cli import app
from overseer.estimation.metrics import layer_error
from overseer.estimation.plots import plot_error_vs_flops, plot_mse_vs_width
from overseer.estimation.rare_events import run_rare_events

runner = CliRunner()


@pytest.fixture(scope="module")
def small_compare():
    config = CompareConfig(widths=(8, 16, 32), seeds=2, depth=5, gt_samples=20_000, mc_samples=(8,))
    return run_compare(config)


def test_compare_scores_every_estimator_at_every_layer(small_compare):
    result = small_compare
    names = set(result.estimators_run())
    assert {"k1", "k2", "k2-augment", "k3", "mc(N=8)"} <= names
    agg = result.aggregate(32, "k2", 4)
    assert agg is not None and agg.n_seeds == 2 and agg.flops > 0
    assert agg.sampling_mse_over_var == pytest.approx(
        sum(r.sampling_mse_over_var for r in result.rows if (r.width, r.estimator, r.layer) == (32, "k2", 4)) / 2
    )
    assert "layer 4" in result.statement
    json.dumps(result.to_dict())


def test_monte_carlo_runs_land_on_the_sampling_line(small_compare):
    mc = small_compare.aggregate(32, "mc(N=8)", 4)
    # MSE/Var of an 8-sample mean is about 1/8, the sampling line's value at its FLOPs.
    assert mc.sampling_mse_over_var == pytest.approx(1 / 8, rel=0.05)
    assert mc.mse_over_var == pytest.approx(1 / 8, rel=0.6)


def test_plots_are_written(small_compare, tmp_path):
    assert plot_error_vs_flops(small_compare, tmp_path / "a.png").stat().st_size > 10_000
    assert plot_mse_vs_width(small_compare, tmp_path / "b.png").stat().st_size > 10_000


def test_noise_corrected_mse_subtracts_the_ground_truth_variance():
    truth = torch.zeros(400)
    se = torch.full((400,), 0.1)
    exact = layer_error(torch.zeros(400), truth + 0.1 * torch.randn(400), se, variance=1.0)
    assert abs(exact.mse) < 3 * exact.null_sd and not exact.resolved
    off = layer_error(torch.full((400,), 0.5), truth, se, variance=2.0)
    assert off.mse == pytest.approx(0.25 - 0.01) and off.resolved
    assert off.mse_over_var == pytest.approx((0.25 - 0.01) / 2)


def test_gaussian_tail_is_exact_on_the_first_layer():
    mlp = build_mlp(6, 2, seed=2)
    result = make_cumulant_estimator("k2").estimate(mlp)
    sigma = (mlp.weight(0) @ mlp.weight(0).T).diagonal().sqrt()
    expected = 0.5 * torch.erfc(1.5 / sigma / math.sqrt(2))
    assert torch.allclose(tail_probability(result, 0, 1.5), expected, atol=1e-14)


def test_rare_event_run_reports_every_method():
    result = run_rare_events(width=32, hidden_layers=2, threshold=2.5, gt_samples=40_000)
    assert [m.name for m in result.methods] == ["k1", "k2", "k2-augment", "k3"]
    assert all(m.flops > 0 and m.sampling_mse > 0 for m in result.methods)
    assert "P(z > 2.5)" in result.statement()
    json.dumps(result.to_dict())


def test_cli_mlp_prints_every_estimator():
    out = runner.invoke(app, ["mlp", "--width", "16", "--depth", "3", "--order", "3", "--gt-samples", "4000"])
    assert out.exit_code == 0, out.output
    for name in ["ground truth", "k1", "k2", "k3", "mc(N="]:
        assert name in out.output


def test_cli_compare_writes_results_and_figures(tmp_path):
    args = ["compare", "--widths", "8,16", "--seeds", "1", "--depth", "3", "--gt-samples", "4000",
            "--estimators", "k1,k2", "--out", str(tmp_path)]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    for name in ["results.json", "error_vs_flops.png", "mse_vs_width.png"]:
        assert (tmp_path / name).exists()
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["main_layer"] == 2 and data["statement"]


def test_cli_rare_runs():
    out = runner.invoke(app, ["rare", "--width", "16", "--hidden-layers", "1", "--gt-samples", "4000",
                              "--estimators", "k2,k3"])
    assert out.exit_code == 0, out.output
    assert "P(z > 3)" in out.output


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["mlp", "--order", "5"], "order"),
        (["mlp", "--width", "0"], "width"),
        (["mlp", "--act", "swish", "--width", "4"], "Unknown activation"),
        (["compare", "--widths", "8,x"], "comma-separated"),
        (["mlp", "--width", "4", "--gt-samples", "1"], "at least 2 samples"),
    ],
)
def test_cli_reports_bad_arguments_as_one_clear_line(args, fragment):
    out = runner.invoke(app, args)
    assert out.exit_code == 1
    assert "error:" in out.output and fragment in out.output


def test_every_estimator_follows_the_one_contract():
    from overseer.estimation import Estimator, MonteCarloEstimator

    mlp = build_mlp(8, 3, "gelu", seed=1)
    estimators = [make_cumulant_estimator(n) for n in ["k1", "k2", "k2-augment", "k3", "k3-dense"]]
    for est in [*estimators, MonteCarloEstimator(16)]:
        assert isinstance(est, Estimator)
        result = est.estimate(mlp)
        assert len(result.layer_means) == len(result.layer_flops) == 3
        assert result.layer_flops == sorted(result.layer_flops) and result.layer_flops[0] > 0
        record = json.loads(json.dumps(result.to_dict(include_means=True)))
        assert record["estimator"] == result.estimator and len(record["layer_means"]) == 3

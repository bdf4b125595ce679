import json

import pytest
from typer.testing import CliRunner

from overseer.errors import InvalidInputError
from overseer.estimation.benchmark import BenchConfig, run_benchmark
from overseer.estimation.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def small_bench():
    config = BenchConfig(widths=(16, 32), gt_samples=(20_000, 4_000), seeds=2, layer=2, costly_above=16,
                         estimators=("k1-average", "k1", "k2", "k2-augment", "k3"))
    return run_benchmark(config)


def test_benchmark_reports_every_order_at_every_width(small_bench):
    for width in (16, 32):
        title, columns, rows = small_bench.table(width)
        assert f"width {width}" in title and "noise floor" in title
        assert [r[0] for r in rows] == list(small_bench.config.estimators)
        assert columns[-3:] == ["F/F_mc(1)", "F/F_mc(16)", "F/F_mc(256)"]
    k3_wide = next(s for s in small_bench.summaries if (s.width, s.estimator) == (32, "k3"))
    assert k3_wide.n_seeds == 1  # costly orders run on one seed above `costly_above`
    json.dumps(small_bench.to_dict())


def test_benchmark_ratios_follow_from_the_measured_errors(small_bench):
    for s in small_bench.summaries:
        assert s.error_ratio == pytest.approx((s.sample_flops / s.flops) / s.upper)
        for m, fraction in s.match_fraction.items():
            if s.upper <= 1 / m:
                assert fraction == pytest.approx(s.flops / (m * s.sample_flops))
            else:
                assert fraction is None
    k1 = next(s for s in small_bench.summaries if (s.width, s.estimator) == (16, "k1"))
    assert k1.resolved and k1.mse_over_var.low <= k1.mse_over_var.value <= k1.mse_over_var.high


def test_benchmark_config_needs_one_ground_truth_size_per_width():
    with pytest.raises(InvalidInputError, match="per width"):
        BenchConfig(widths=(16, 32), gt_samples=(1000,)).validate()


def test_cli_mlp_runs_named_estimators_on_a_critical_abs_net():
    args = ["mlp", "--width", "16", "--depth", "3", "--act", "abs", "--init", "critical", "--gt-samples", "4000",
            "--estimators", "k1,k1-average,k2-augment"]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    for name in ["k1-average", "k2-augment", "init critical"]:
        assert name in out.output


def test_cli_rejects_an_unknown_estimator_with_the_choices():
    out = runner.invoke(app, ["mlp", "--width", "8", "--estimators", "k5"])
    assert out.exit_code == 1 and "k2-augment" in out.output


def test_benchmark_skips_dense_orders_above_their_width_and_fits_slopes():
    config = BenchConfig(widths=(8, 70), gt_samples=(20_000, 400), seeds=1, layer=1, estimators=("k1", "k4"),
                         slope_min_width=8)
    result = run_benchmark(config)
    assert any(line.startswith("k4 at width 70") for line in result.skipped)
    assert {s.estimator for s in result.summaries if s.width == 70} == {"k1"}
    assert set(result.slopes()) <= {"k1"}

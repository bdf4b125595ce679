"""`overseer estimate ...`: cumulant propagation versus sampling on random MLPs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from overseer.cli_errors import fail
from overseer.errors import InvalidInputError, OverseerError
from overseer.estimation.cumulants import ESTIMATOR_NAMES, make_cumulant_estimator
from overseer.estimation.experiment import CompareConfig, run_compare
from overseer.estimation.mlp import build_mlp
from overseer.estimation.plots import plot_error_vs_flops, plot_mse_vs_width
from overseer.estimation.rare_events import run_rare_events
from overseer.estimation.sampling import MonteCarloEstimator, sample_ground_truth, sampling_flops_per_sample
from overseer.runs import run_dir

app = typer.Typer(
    help="Estimate the expected output of wide random MLPs by cumulant propagation, and compare with sampling.",
    no_args_is_help=True,
)
console = Console()


def _set_threads(threads: int | None) -> None:
    if threads is not None:
        if threads < 1:
            raise InvalidInputError(f"--threads must be >= 1, got {threads}.")
        torch.set_num_threads(threads)


def _parse_ints(text: str, what: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError as err:
        raise InvalidInputError(f"{what} must be comma-separated integers, e.g. 8,16,32; got {text!r}.") from err
    if not values:
        raise InvalidInputError(f"Give at least one value for {what}.")
    return values


def _fmt(x: float, spec: str = ".3g") -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


@app.command("mlp")
def mlp_command(
    width: int = typer.Option(256, help="Neurons per layer."),
    depth: int = typer.Option(4, help="Linear layers (depth - 1 hidden activations)."),
    act: str = typer.Option("relu", help="relu, gelu, tanh or sigmoid (linear, square, cube for checks)."),
    order: int = typer.Option(2, help="Highest cumulant order K to run (1, 2 or 3); all lower ones run too."),
    seed: int = typer.Option(0, help="Seed of the random MLP."),
    bias: bool = typer.Option(False, help="Give the layers random biases."),
    gt_samples: int = typer.Option(200_000, help="Samples for the ground truth."),
    threads: int | None = typer.Option(None, help="torch threads (default: torch's choice)."),
) -> None:
    """Estimate E[f(x)] of one random MLP with every estimator up to ORDER; print value, error, FLOPs."""
    try:
        _set_threads(threads)
        if order not in (1, 2, 3):
            raise InvalidInputError(f"--order must be 1, 2 or 3, got {order}.")
        names = [n for n in ESTIMATOR_NAMES if int(n[1]) <= order]
        estimators = [make_cumulant_estimator(n) for n in names]
        mlp = build_mlp(width, depth, act, bias=bias, seed=seed)
        for est in estimators:
            est.check_supported(mlp)
        results = [est.estimate(mlp) for est in estimators]
        per_sample = sampling_flops_per_sample(mlp)[-1]
        mc_samples = max(2, round(results[-1].layer_flops[-1] / per_sample))
        results.append(MonteCarloEstimator(mc_samples, seed=seed + 1).estimate(mlp))
        with console.status(f"sampling the ground truth ({gt_samples:,} samples)"):
            truth = sample_ground_truth(mlp, n_samples=gt_samples)
    except OverseerError as err:
        fail(err)

    last = depth - 1
    table = Table(
        title=f"E\\[f(x)] of a random {act} MLP (width {width}, depth {depth}, seed {seed}), x ~ N(0, I)"
    )
    for col in ("estimator", "mean_i E\\[f_i]", "MSE/Var", "FLOPs", "advantage", "time (s)", "flags"):
        table.add_column(col, justify="left" if col == "estimator" else "right")
    table.add_row(
        "ground truth",
        f"{float(truth.means[last].mean()):.5f}",
        f"s.e. {float(truth.std_errors[last].mean()):.1e}",
        f"N={truth.n_samples:,}",
        "",
        f"{truth.seconds:.2f}",
        "",
    )
    for result in results:
        err = truth.error(result.layer_means[last], last)
        flops = result.layer_flops[last]
        upper = err.mse_over_var if err.resolved else max(err.mse_over_var, 0) + 3 * err.null_sd / err.variance
        advantage = (per_sample / flops) / upper if upper > 0 else math.inf
        flags = []
        if not err.resolved:
            flags.append("below noise")
        if result.negative_variances:
            flags.append(f"{result.negative_variances} var clamped")
        if result.diverged:
            flags.append(f"diverged@{result.diverged_at_layer}")
        table.add_row(
            result.estimator,
            f"{float(result.layer_means[last].mean()):.5f}",
            _fmt(err.mse_over_var, ".2e"),
            f"{flops:.3g}",
            ("≥" if not err.resolved else "") + _fmt(advantage, ".3g"),
            f"{result.wall_time_s:.3f}",
            ", ".join(flags),
        )
    console.print(table)
    console.print(
        "MSE/Var: mean over output neurons of (estimate - ground truth)^2, minus the ground truth's own "
        "noise, over Var(f). advantage: MSE of sampling with the same FLOPs (Var x F_sample / F) over "
        "the estimator's MSE; > 1 beats sampling."
    )


@app.command("compare")
def compare_command(
    widths: str = typer.Option("8,16,32,64,128,256", help="Comma-separated widths."),
    seeds: int = typer.Option(5, help="Random MLPs per width."),
    depth: int = typer.Option(16, help="Linear layers."),
    act: str = typer.Option("relu", help="Activation."),
    bias: bool = typer.Option(False, help="Random biases."),
    gt_samples: int = typer.Option(1_000_000, help="Ground-truth samples per MLP."),
    batch_size: int = typer.Option(10_000, help="Sampling batch size."),
    estimators: str = typer.Option(",".join(ESTIMATOR_NAMES), help="Comma-separated: k1,k2,k2-augment,k3."),
    k3_max_width: int = typer.Option(256, help="Skip K=3 above this width (O(n^4) FLOPs, O(n^3) memory)."),
    main_layer: int = typer.Option(4, help="Layer of the main panel (pre-activation after this many hidden layers)."),
    slope_min_width: int = typer.Option(16, help="Smallest width in the MSE-vs-width slope fits."),
    out: Path | None = typer.Option(None, help="Output directory (default runs/<UTC time>-estimate-compare)."),
    threads: int | None = typer.Option(None, help="torch threads."),
) -> None:
    """Run the paper's error-vs-FLOPs comparison; write results.json and two figures."""
    try:
        _set_threads(threads)
        config = CompareConfig(
            widths=_parse_ints(widths, "--widths"),
            seeds=seeds,
            depth=depth,
            activation=act,
            bias=bias,
            gt_samples=gt_samples,
            batch_size=batch_size,
            estimators=tuple(e.strip() for e in estimators.split(",") if e.strip()),
            k3_max_width=k3_max_width,
            main_layer=main_layer,
            slope_min_width=slope_min_width,
        )
        config.validate()
        out_dir = run_dir(out, "estimate-compare")
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("MLPs (width x seed)", total=len(config.widths) * config.seeds)
            result = run_compare(config, on_task=lambda desc: progress.update(task, advance=1, description=desc))
    except OverseerError as err:
        fail(err)

    (out_dir / "results.json").write_text(json.dumps(result.to_dict(), indent=1, default=float))
    plot_error_vs_flops(result, out_dir / "error_vs_flops.png")
    plot_mse_vs_width(result, out_dir / "mse_vs_width.png")

    layer = config.layer
    names = [n for n in result.estimators_run() if not n.startswith("mc")]
    table = Table(title=f"MSE/Var at layer {layer} (advantage over sampling at equal FLOPs)")
    table.add_column("width", justify="right")
    for name in names:
        table.add_column(name, justify="right")
    for width in sorted(config.widths):
        cells = []
        for name in names:
            agg = result.aggregate(width, name, layer)
            if agg is None:
                cells.append("—")
                continue
            mark = "" if agg.resolved else "<"
            adv = ("≥" if not agg.resolved else "") + _fmt(agg.advantage, ".3g")
            flag = " !" if agg.flagged_seeds else ""
            cells.append(f"{mark}{_fmt(agg.upper_mse_over_var, '.2e')} ({adv}x){flag}")
        table.add_row(str(width), *cells)
    console.print(table)
    console.print("<: below the ground truth's noise (upper bound); !: some seeds clamped a negative variance "
                  "or diverged before this layer.")
    if result.slopes:
        slopes = Table(title="MSE/Var ~ width^slope")
        for col in ("estimator", "slope", "± s.e.", "widths fitted"):
            slopes.add_column(col)
        for s in result.slopes:
            slopes.add_row(s.estimator, f"{s.slope:.2f}", _fmt(s.stderr, ".2f"), ",".join(map(str, s.widths)))
        console.print(slopes)
    console.print(result.statement)
    console.print(f"wrote {out_dir}/results.json, error_vs_flops.png, mse_vs_width.png ({result.seconds:.0f} s)")


@app.command("rare")
def rare_command(
    width: int = typer.Option(256, help="Neurons per layer."),
    hidden_layers: int = typer.Option(3, help="Hidden activation layers before the layer scored."),
    threshold: float = typer.Option(3.0, help="Estimate P(z_i > threshold)."),
    act: str = typer.Option("relu", help="Activation."),
    seeds: int = typer.Option(1, help="Random MLPs."),
    gt_samples: int = typer.Option(2_000_000, help="Ground-truth samples per MLP."),
    estimators: str = typer.Option(",".join(ESTIMATOR_NAMES), help="Comma-separated estimators."),
    out: Path | None = typer.Option(None, help="Write the result as JSON to this file."),
    threads: int | None = typer.Option(None, help="torch threads."),
) -> None:
    """Rare events: P(z_i > t) from propagated cumulants (Gaussian / Edgeworth tail) versus sampling."""
    try:
        _set_threads(threads)
        if seeds < 1:
            raise InvalidInputError(f"--seeds must be >= 1, got {seeds}.")
        with console.status("sampling the ground truth and propagating cumulants"):
            result = run_rare_events(
                width=width,
                hidden_layers=hidden_layers,
                threshold=threshold,
                activation=act,
                seeds=tuple(range(seeds)),
                gt_samples=gt_samples,
                estimators=tuple(e.strip() for e in estimators.split(",") if e.strip()),
            )
    except OverseerError as err:
        fail(err)
    table = Table(title=f"P(z > {threshold:g}) after {hidden_layers} {act} layers, width {width}")
    for col in ("estimator", "MSE", "relative RMSE", "FLOPs", "sampling MSE\nsame FLOPs", "advantage"):
        table.add_column(col, justify="right" if col != "estimator" else "left")
    for m in result.methods:
        table.add_row(
            m.name, f"{m.mse:.2e}", f"{m.relative_rmse:.1%}", f"{m.flops:.3g}", f"{m.sampling_mse:.2e}",
            ("" if m.resolved else "≥") + f"{m.advantage:.3g}",
        )
    console.print(table)
    console.print(f"ground truth: {result.gt_samples:,} samples per MLP, mean p = {result.mean_probability:.2e}")
    console.print(result.statement())
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result.to_dict(), indent=1, default=float))
        console.print(f"wrote {out}")

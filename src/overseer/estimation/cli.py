"""`overseer estimate ...`: cumulant propagation versus sampling on random MLPs.

Each command parses its options, calls one library function and prints the result's tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from overseer.cli_errors import fail
from overseer.errors import InvalidInputError, OverseerError
from overseer.estimation.cumulants import ESTIMATOR_NAMES
from overseer.estimation.experiment import CompareConfig, run_compare
from overseer.estimation.mlp import MLPSpec
from overseer.estimation.plots import write_compare_outputs
from overseer.estimation.rare_events import run_rare_events
from overseer.estimation.single import estimate_one_mlp
from overseer.runs import run_dir

app = typer.Typer(
    help="Estimate the expected output of wide random MLPs by cumulant propagation, and compare with sampling.",
    no_args_is_help=True,
)
console = Console()
ESTIMATOR_HELP = "Comma-separated: k1, k1-average, k2, k2-augment, k2-augment-average, k3, k3-dense, k3-augment, k4."


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


def _names(text: str) -> tuple[str, ...]:
    return tuple(e.strip() for e in text.split(",") if e.strip())


def _print_table(table_spec: tuple[str, list[str], list[list[str]]]) -> None:
    title, columns, rows = table_spec
    table = Table(title=title.replace("[", "\\["))
    for i, col in enumerate(columns):
        table.add_column(col.replace("[", "\\["), justify="left" if i == 0 else "right", no_wrap=i == 0)
    for row in rows:
        table.add_row(*row)
    console.print(table)


@app.command("mlp")
def mlp_command(
    width: int = typer.Option(256, help="Neurons per layer."),
    depth: int = typer.Option(4, help="Linear layers (depth - 1 hidden activations)."),
    act: str = typer.Option("relu", help="relu, gelu, tanh, sigmoid, heaviside, sgn, abs (linear, square, cube)."),
    order: int = typer.Option(2, help="Highest cumulant order K (1-4; 4 and k3-augment: width <= 64); lower ones too."),
    estimators: str | None = typer.Option(None, help=ESTIMATOR_HELP + " Overrides --order."),
    seed: int = typer.Option(0, help="Seed of the random MLP."),
    init: str = typer.Option("he", help="he, or critical (edge of chaos at --q-star)."),
    q_star: float = typer.Option(1.0, help="Fixed-point pre-activation variance for --init critical."),
    bias: bool = typer.Option(False, help="Give the layers random biases N(bias-mean, 0.1^2)."),
    bias_mean: float = typer.Option(0.0, help="Mean of every layer's biases."),
    bias_var: float | None = typer.Option(None, help="Variance of every layer's biases."),
    gt_samples: int = typer.Option(200_000, help="Samples for the ground truth."),
    threads: int | None = typer.Option(None, help="torch threads (default: torch's choice)."),
) -> None:
    """Estimate E[f(x)] of one random MLP with every estimator up to ORDER; print value, error, FLOPs."""
    try:
        _set_threads(threads)
        spec = MLPSpec(width=width, depth=depth, activation=act, bias=bias, seed=seed, init=init, q_star=q_star,
                       bias_mean=bias_mean, bias_var=bias_var)
        names = list(_names(estimators)) if estimators else None
        with console.status(f"estimating and sampling the ground truth ({gt_samples:,} samples)"):
            result = estimate_one_mlp(spec, order=order, estimators=names, gt_samples=gt_samples)
    except OverseerError as err:
        fail(err)
    _print_table(result.table())
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
    estimators: str = typer.Option(",".join(ESTIMATOR_NAMES), help=ESTIMATOR_HELP),
    k3_max_width: int = typer.Option(256, help="Skip K=3 above this width (O(n^3 l^2) FLOPs)."),
    main_layer: int = typer.Option(4, help="Layer of the main panel (pre-activation after this many hidden layers)."),
    slope_min_width: int = typer.Option(16, help="Smallest width in the MSE-vs-width slope fits."),
    out: Path | None = typer.Option(None, help="Output directory (default runs/<UTC time>-estimate-compare)."),
    threads: int | None = typer.Option(None, help="torch threads."),
) -> None:
    """Run the paper's error-vs-FLOPs comparison; write results.json and two figures."""
    try:
        _set_threads(threads)
        config = CompareConfig(
            widths=_parse_ints(widths, "--widths"), seeds=seeds, depth=depth, activation=act, bias=bias,
            gt_samples=gt_samples, batch_size=batch_size, estimators=_names(estimators),
            k3_max_width=k3_max_width, main_layer=main_layer, slope_min_width=slope_min_width,
        )
        config.validate()
        out_dir = run_dir(out, "estimate-compare")
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("MLPs (width x seed)", total=len(config.widths) * config.seeds)
            result = run_compare(config, on_task=lambda desc: progress.update(task, advance=1, description=desc))
    except OverseerError as err:
        fail(err)
    written = write_compare_outputs(result, out_dir)
    _print_table(result.table())
    console.print("<: below the ground truth's noise (upper bound); !: some seeds clamped a negative variance "
                  "or diverged before this layer.")
    if result.slopes:
        _print_table(result.slope_table())
    console.print(result.statement)
    console.print(f"wrote {', '.join(str(p) for p in written)} ({result.seconds:.0f} s)")


@app.command("rare")
def rare_command(
    width: int = typer.Option(256, help="Neurons per layer."),
    hidden_layers: int = typer.Option(3, help="Hidden activation layers before the layer scored."),
    threshold: float = typer.Option(3.0, help="Estimate P(z_i > threshold)."),
    act: str = typer.Option("relu", help="Activation."),
    seeds: int = typer.Option(1, help="Random MLPs."),
    gt_samples: int = typer.Option(2_000_000, help="Ground-truth samples per MLP."),
    estimators: str = typer.Option(",".join(ESTIMATOR_NAMES), help=ESTIMATOR_HELP),
    out: Path | None = typer.Option(None, help="Write the result as JSON to this file."),
    threads: int | None = typer.Option(None, help="torch threads."),
) -> None:
    """Rare events: P(z_i > t) from propagated cumulants (Gaussian / Edgeworth tail) versus sampling."""
    try:
        _set_threads(threads)
        if seeds < 1:
            raise InvalidInputError(f"--seeds must be >= 1, got {seeds}.")
        with console.status("sampling the ground truth and propagating cumulants"):
            result = run_rare_events(width=width, hidden_layers=hidden_layers, threshold=threshold, activation=act,
                                     seeds=tuple(range(seeds)), gt_samples=gt_samples, estimators=_names(estimators))
    except OverseerError as err:
        fail(err)
    _print_table(result.table())
    console.print(f"ground truth: {result.gt_samples:,} samples per MLP, mean p = {result.mean_probability:.2e}")
    console.print(result.statement())
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result.to_dict(), indent=1, default=float))
        console.print(f"wrote {out}")

"""`overseer steer`: fit a steering method, generate with it, and compare methods side by side.

Each command parses its options, calls one function of `overseer.steering` and prints or saves the result."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from overseer.cli_errors import fail
from overseer.cli_helpers import parse_floats, parse_ints, parse_names, wide_console
from overseer.errors import OverseerError
from overseer.runs import run_dir

app = typer.Typer(help="Activation steering: ODESteer and the classic baselines.", no_args_is_help=True)
console = wide_console()


@app.command()
def fit(
    model: str = typer.Option("smollm2", help="embedded name, local directory or Hub id"),
    method: str = typer.Option("odesteer", help="caa, repe, iti, linear_act, step_odesteer, odesteer"),
    layer: int = typer.Option(..., help="decoder block whose output is steered"),
    pairs: Path | None = typer.Option(None, help="JSONL/CSV of {positive, negative} pairs"),
    dataset: str | None = typer.Option(None, help="or a built-in source: truthfulqa, a Geometry-of-Truth set, or "
                                       "organism:CONCEPT (sentiment, politeness, truth, honesty, observed)"),
    limit: int = typer.Option(200, help="at most this many questions / statements from --dataset"),
    strength: float = typer.Option(1.0, help="default strength saved with the method (T for ODE methods)"),
    data: Path | None = typer.Option(None, help="shared data directory (default $OVERSEER_DATA or ../shared/data)"),
    out: Path | None = typer.Option(None, help="directory to save the fitted method into"),
) -> None:
    """Fit one method on contrastive texts and save it (safetensors + JSON, with its layer)."""
    from overseer.steering.fitting import fit_steering

    try:
        steerer = fit_steering(model, method, layer, pairs, dataset, limit, strength, data)
        target = steerer.save(run_dir(out, f"steer-fit-{method}"))
    except OverseerError as exc:
        fail(exc)
    console.print(f"fitted {method} at layer {steerer.layer} on {steerer.n_pos_} positive / {steerer.n_neg_} "
                  f"negative texts -> {target}")


@app.command()
def generate(
    method_dir: Path = typer.Argument(..., help="directory written by `overseer steer fit`"),
    prompt: list[str] = typer.Option(..., "--prompt", help="prompt (repeat for several)"),
    model: str | None = typer.Option(None, help="defaults to the model the method was fitted on"),
    layer: int | None = typer.Option(None, help="defaults to the layer the method was fitted at"),
    strength: float | None = typer.Option(None, help="override the saved strength"),
    max_new_tokens: int = typer.Option(48),
    temperature: float = typer.Option(0.0),
    chat: bool = typer.Option(True, help="wrap prompts in the model's chat template"),
) -> None:
    """Generate with and without steering, side by side."""
    from overseer.steering.fitting import steered_generations

    try:
        result = steered_generations(method_dir, prompt, model, layer, strength, max_new_tokens=max_new_tokens,
                                     temperature=temperature, chat=chat)
    except OverseerError as exc:
        fail(exc)
    console.print(result.to_table().to_rich())


@app.command()
def compare(
    model: str = typer.Option("smollm2"),
    task: str = typer.Option("truthfulqa", help="truthfulqa or toxicity"),
    methods: str = typer.Option("caa,repe,iti,linear_act,step_odesteer,odesteer"),
    layers: str = typer.Option("10,15", help="comma-separated layer indices"),
    strengths: str = typer.Option("0.5,1,2", help="relative strengths > 0 (multiples of the class-mean distance); "
                                  "the unsteered model is always included"),
    n: int = typer.Option(100, help="questions (truthfulqa, split into 2 folds) or eval prompts (toxicity)"),
    n_fit: int = typer.Option(200, help="toxicity: prompts whose sampled continuations are used for fitting"),
    n_fluency: int = typer.Option(16, help="truthfulqa: questions per fold answered greedily to measure fluency "
                                  "(>= 1: fluency cost is what methods are compared at)"),
    max_new_tokens: int = typer.Option(32, help="toxicity: continuation length"),
    scorer: str | None = typer.Option(None, help="toxicity: profanity-check, lexicon, profanity-check+lexicon or "
                                      "hub:MODEL_ID (needs network); default: the best measured offline scorer"),
    n_components: int = typer.Option(8000, help="ODESteer sketch size"),
    data: Path | None = typer.Option(None, help="shared data directory"),
    out: Path | None = typer.Option(None, help="run directory (re-use one to resume)"),
    threads: int | None = typer.Option(None, help="torch CPU threads (1 is fastest on a busy shared machine)"),
) -> None:
    """Sweep methods x layers x strengths; print a table, write results.json and pareto.png.

    Every metric has a 95 % bootstrap CI over questions (truthfulqa) or prompts (toxicity); every stated
    comparison a paired bootstrap CI and a verdict (ahead / behind / no difference at this n). Options that
    cannot work are rejected before the model is loaded."""
    from overseer.steering.compare import run_comparison

    try:
        result = run_comparison(model, task, out, parse_names(methods),
                                parse_ints(layers, "layers"), parse_floats(strengths, "strengths"), n, n_fit,
                                n_fluency, max_new_tokens, n_components, data, threads,
                                log=lambda line: console.print(escape(line), highlight=False), scorer=scorer)
    except OverseerError as exc:
        fail(exc)
    console.print(result.to_table(f"{task} on {model}").to_rich())
    for line in [*result.notes, *result.summary]:
        console.print(line, highlight=False)
    console.print(f"wrote {result.results} and {result.plot}")

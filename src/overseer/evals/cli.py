"""CLI for black-box evals: `overseer nsg run`, `overseer jagged profile`, `overseer serve`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from overseer.cli_errors import fail
from overseer.errors import OverseerError
from overseer.runs import run_dir

nsg_app = typer.Typer(help="Normalized Simulatability Gain: do a model's self-explanations help predict it?",
                      no_args_is_help=True)
jagged_app = typer.Typer(help="Jaggedness: how uneven is a model's skill profile across domains?",
                         no_args_is_help=True)


@nsg_app.callback()
def _nsg() -> None:
    """Normalized Simulatability Gain (Mayne et al. 2026)."""


@jagged_app.callback()
def _jagged() -> None:
    """Jaggedness of skill profiles (Morris et al. 2026)."""


console = Console()

BUILTIN_DATA = ("builtin", "breast_cancer")


def _fmt(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def default_cache() -> Path:
    from overseer.models.embedded import cache_root

    return cache_root() / "chat-cache.sqlite"


ORGANISM_DATA = "organism"


@nsg_app.command("run")
def nsg_run(
    reference: str | None = typer.Option(None, help="model whose explanations are tested (spec, e.g. local:smollm2, "
                                                    "openai-compatible:http://127.0.0.1:8000/v1#smollm2, "
                                                    "openai:gpt-4o-mini); --data organism defaults to local:organism"),
    predictor: list[str] | None = typer.Option(None, help="model that predicts the reference (repeat for several); "
                                                          "'simulator' = the rule-following simulator (default for "
                                                          "--data organism)"),
    data: str = typer.Option("builtin", help="builtin (= breast_cancer), organism (the organism's loan rule: "
                                             "faithful vs unfaithful explanations) or a CSV/JSONL table"),
    n_groups: int = typer.Option(20, help="centre cases (each with 5-10 counterfactuals)"),
    seed: int = typer.Option(0, help="seed for choosing groups and for sampling"),
    label_column: str = typer.Option("label", help="label column of a user table"),
    question: str | None = typer.Option(None, help="the question the reference answers about each row"),
    subject: str = typer.Option("case", help="what one row of a user table is, e.g. applicant"),
    temperature: float = typer.Option(0.0),
    explanation_max_tokens: int = typer.Option(300),
    answer_max_tokens: int = typer.Option(24),
    answer_from: str = typer.Option("text", help="read answers from the reply's text, or from the log-probabilities "
                                                 "of its first answer token (logprobs)"),
    calibration: str = typer.Option("none", help="with --answer-from logprobs: 'balanced' offsets each option so a "
                                                 "model's mean probability of every option is equal over a batch "
                                                 "(for models whose text answer never changes)"),
    n_boot: int = typer.Option(2000, help="bootstrap resamples for the CI"),
    concurrency: int = typer.Option(4, help="requests in flight per model"),
    max_retries: int = typer.Option(5),
    cache: Path | None = typer.Option(None, help="SQLite response cache (default ~/.cache/overseer/"
                                                 "chat-cache.sqlite); reruns and resumed runs reuse it"),
    no_cache: bool = typer.Option(False, "--no-cache", help="send every request, store nothing"),
    out: Path | None = typer.Option(None, help="output directory (default runs/<timestamp>-nsg)"),
    progress: bool = typer.Option(True),
) -> None:
    """Run NSG end to end and write per-sample records as JSON."""
    from overseer.errors import ConfigurationError
    from overseer.evals.nsg import run_nsg
    from overseer.evals.nsg_readout import AnswerReadout
    from overseer.evals.organism_task import builtin_model, organism_loans, run_organism_nsg
    from overseer.evals.tabular import breast_cancer, load_table
    from overseer.models.chat import ResponseCache, chat_model

    organism = data == ORGANISM_DATA
    try:
        if organism:
            reference = reference or "local:organism"
            predictor = predictor or ["simulator"]
        elif reference is None or not predictor:
            raise ConfigurationError("pass --reference and at least one --predictor (only --data organism has "
                                     "defaults).")
        readout = AnswerReadout(answer_from, calibration)
        if organism:
            dataset = organism_loans(n_groups=n_groups, seed=seed)
        elif data in BUILTIN_DATA:
            dataset = breast_cancer(n_groups=n_groups, seed=seed)
        else:
            dataset = load_table(data, label_column=label_column, question=question, subject=subject,
                                 n_groups=n_groups, seed=seed)
        shared = None if no_cache else ResponseCache(cache or default_cache())
        kwargs = {"cache": shared, "max_concurrency": concurrency, "max_retries": max_retries}
        ref = chat_model(builtin_model(reference) or reference, **kwargs)
        preds = [chat_model(builtin_model(spec) or spec, **kwargs) for spec in predictor]
        settings = {"temperature": temperature, "seed": seed, "explanation_max_tokens": explanation_max_tokens,
                    "answer_max_tokens": answer_max_tokens, "n_boot": n_boot, "progress": progress}
        if organism:
            if readout.uses_logprobs:
                raise ConfigurationError("--data organism reads answers from text; drop --answer-from.")
            comparison = run_organism_nsg(dataset, ref, preds, **settings)
            results = {"faithful (auditor setting)": comparison.faithful,
                       "unfaithful (customer setting)": comparison.unfaithful}
        else:
            results = {"": run_nsg(dataset, ref, preds, readout=readout, **settings)}
    except OverseerError as exc:
        fail(exc)
    target = run_dir(out, "nsg")
    payload = comparison.to_dict() if organism else results[""].to_dict()
    (target / "nsg.json").write_text(json.dumps(payload, indent=2))
    (target / "dataset.json").write_text(json.dumps(dataset.to_dict(), indent=2))
    figure = None
    if not organism and readout.uses_logprobs:
        from overseer.evals.nsg_plots import reference_lean_figure

        figure = reference_lean_figure(results[""], dataset, target / "reference_lean.png")
    first = next(iter(results.values()))
    table = Table(title=f"NSG of {first.reference} on {first.task} ({first.n_groups} centres, "
                        f"{first.n_counterfactuals} counterfactuals)")
    for column in (*(["explanations"] if organism else []), "predictor", "NSG", "95% CI", "acc with expl.",
                   "acc without", "n"):
        table.add_column(column)
    for label, result in results.items():
        rows = [*result.per_predictor.items()] + ([("all predictors", result.overall)] if len(preds) > 1 else [])
        for name, score in rows:
            table.add_row(*([label] if organism else []), name, _fmt(score.nsg),
                          f"[{_fmt(score.ci_low)}, {_fmt(score.ci_high)}]", _fmt(score.acc_with),
                          _fmt(score.acc_without), str(score.n))
    console.print(table)
    for label, result in results.items():
        rate = {k: f"{result.parsing[k]['parsed']}/{result.parsing[k]['total']}"
                for k in ("centre_answers", "counterfactual_answers", "predictions")}
        console.print(f"{label + ': ' if label else ''}egregiously misleading rate: {_fmt(result.egregious_rate)}; "
                      f"parsed: centre answers {rate['centre_answers']}, counterfactual answers "
                      f"{rate['counterfactual_answers']}, predictions {rate['predictions']}; excluded: "
                      f"{result.excluded}", soft_wrap=True)
        if result.settings.get("readout", {}).get("source") == "logprobs":
            console.print(f"answers read from first-token log-probabilities, calibration "
                          f"{result.settings['readout']['calibration']}; reference answers read: "
                          f"{result.parsing['reference_answer_counts']}; its replies said: "
                          f"{result.parsing['reference_text_answer_counts']}", soft_wrap=True)
        if result.overall.n and result.overall.acc_without >= 1.0:
            console.print(f"NSG is undefined: without explanations the predictors already match every answer "
                          f"(reference answers: {result.parsing['reference_answer_counts']}). If the reference "
                          "gives one answer throughout, try --answer-from logprobs --calibration balanced.",
                          soft_wrap=True)
    if organism:
        diff = comparison.difference
        console.print(f"faithful - unfaithful NSG: {_fmt(diff.difference)} [{_fmt(diff.ci_low)}, "
                      f"{_fmt(diff.ci_high)}] (paired bootstrap over centres); stated rules: "
                      f"{comparison.stated_rule_rates}", soft_wrap=True)
    if shared is not None:
        console.print(f"cache: {shared.hits} hits, {shared.misses} misses ({shared.path})")
    console.print(f"wrote {target / 'nsg.json'}" + (f" and {figure}" if figure is not None else ""))


def serve(
    model: str = typer.Option(..., help="embedded name (smollm2, organism), local model directory or Hub id"),
    steer: Path | None = typer.Option(None, help="saved steering method directory (overseer steer fit)"),
    layer: int | None = typer.Option(None, help="layer to steer at (default: the one the method records)"),
    name: str | None = typer.Option(None, help="model id to serve under (default: the model name)"),
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    device: str = typer.Option("cpu"),
) -> None:
    """Serve a local (optionally steered) model as an OpenAI-compatible /v1/chat/completions endpoint."""
    from overseer.models.chat.local import LocalChatModel
    from overseer.serve import create_app, serve_forever

    try:
        chat = LocalChatModel(model, steer=steer, steer_layer=layer, device=device, name=name)
    except OverseerError as exc:
        fail(exc)
    console.print(f"serving {chat.model} at http://{host}:{port}/v1  (spec: openai-compatible:"
                  f"http://{host}:{port}/v1#{chat.model})")
    serve_forever(create_app(chat), host=host, port=port)


@jagged_app.command("profile")
def jagged_profile(
    files: list[Path] = typer.Argument(..., help="overseer .json, lm-eval samples_*.jsonl, Inspect .eval, or folders"),
    fmt: str = typer.Option("auto", "--format", help="auto, overseer, lm-eval or inspect"),
    metric: str | None = typer.Option(None, help="lm-eval metric key or Inspect scorer name (default: first found)"),
    human_baseline: Path | None = typer.Option(None, help='JSON {"domain": [mean, sd], ...}; default: the '
                                                          "other models are the reference population"),
    clip: float = typer.Option(3.0, help="winsorise z to [-clip, clip]"),
    n_boot: int = typer.Option(1000),
    irt: bool = typer.Option(True, help="fit the 2PL capability/difficulty model"),
    out: Path | None = typer.Option(None, help="output directory (default runs/<timestamp>-jagged)"),
) -> None:
    """Per-domain z-profiles, jaggedness J with bootstrap CIs, IRT fit, difficulty inversions and a figure."""
    from overseer.errors import DatasetError
    from overseer.evals.jaggedness import jaggedness, profile_figure
    from overseer.evals.readers import read_results

    try:
        items = read_results(files, fmt, metric)
        baseline = None
        if human_baseline is not None:
            try:
                raw = json.loads(human_baseline.read_text())
                baseline = {str(k): (float(v[0]), float(v[1])) for k, v in raw.items()}
            except (OSError, ValueError, TypeError, IndexError, AttributeError) as exc:
                raise DatasetError(f"{human_baseline} must be JSON mapping domain -> [mean, sd] ({exc}).") from exc
        result = jaggedness(items, baseline, clip=clip, n_boot=n_boot, irt=irt)
    except OverseerError as exc:
        fail(exc)
    target = run_dir(out, "jagged")
    (target / "jaggedness.json").write_text(json.dumps(result.to_dict(), indent=2))
    figure = profile_figure(result, target / "profile.png")
    table = Table(title=f"Jaggedness ({len(result.domains)} domains; reference: {result.reference})")
    for column in ("model", "J", "95% CI", "capability (IRT)", "inversion rate", *result.domains):
        table.add_column(column)
    for model in result.models:
        low, high = result.jaggedness_ci[model]
        cap = _fmt(result.irt.capability[model]) if result.irt else "-"
        table.add_row(model, _fmt(result.jaggedness[model]), f"[{_fmt(low)}, {_fmt(high)}]", cap,
                      _fmt(result.inversion_rate[model]), *(f"{result.scores[model][d]:.2f}" for d in result.domains))
    console.print(table)
    console.print(f"wrote {target / 'jaggedness.json'} and {figure}")

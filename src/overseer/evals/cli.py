"""CLI for black-box evals: `overseer nsg run`, `overseer jagged profile`."""

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


ORGANISM_DATA = "organism"


@nsg_app.command("run")
def nsg_run(
    reference: str | None = typer.Option(None, help="model whose explanations are tested (spec, e.g. local:smollm2, "
                                                    "openai-compatible:http://127.0.0.1:8000/v1#smollm2, "
                                                    "openai:gpt-4o-mini); --data organism defaults to local:organism"),
    predictor: list[str] | None = typer.Option(None, help="model that predicts the reference (repeat for several); "
                                                          "'simulator' = the rule-following simulator (default for "
                                                          "--data organism)"),
    data: str = typer.Option("builtin", help="builtin (= breast_cancer), breast_cancer_recurrence (the paper's "
                                             "UCI table), organism (the organism's loan rule: faithful vs "
                                             "unfaithful explanations), a CSV/JSONL table, or the paper's "
                                             "counterfactual set (.parquet)"),
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
                                                 "(for models whose text answer never changes; runs outside Inspect)"),
    n_boot: int = typer.Option(2000, help="bootstrap resamples for the CI (the reference draws 1000)"),
    protocol: str | None = typer.Option(None, help="how the reference is asked: answer-first (the paper's "
                                                   "single prompt, default), answer-last, constrained (one word, "
                                                   "then a follow-up for the explanation; the default with "
                                                   "--answer-from logprobs) or inline"),
    predictor_prompt: str | None = typer.Option(None, help="paper (default: role-play, explanation and most "
                                                           "important factors, [ANSWER]/[CONFIDENCE]) or one-word "
                                                           "(default for logprobs and the organism)"),
    unparsed: str = typer.Option("drop", help="a record whose guess did not parse: drop (the reference) or wrong"),
    at_ceiling: str = typer.Option("zero", help="NSG when Acc_without = 1: zero (the reference) or nan"),
    egregious: str = typer.Option("paper", help="egregious rate over every counterfactual (paper) or over "
                                                "scored ones with parsed guesses (scored)"),
    bootstrap: str = typer.Option("reference", help="reference (numpy's legacy generator, seed 42, as the "
                                                    "paper's code) or overseer (seed 0)"),
    construction: str | None = typer.Option(None, help="counterfactual groups of a table: paper (default: "
                                                       "overlapping Hamming balls) or nearest"),
    concurrency: int = typer.Option(4, help="requests in flight per remote model"),
    max_retries: int = typer.Option(5),
    cache: Path | None = typer.Option(None, help="SQLite response cache (default ~/.cache/overseer/"
                                                 "chat-cache.sqlite); reruns and resumed runs reuse it"),
    no_cache: bool = typer.Option(False, "--no-cache", help="send every request, store nothing"),
    out: Path | None = typer.Option(None, help="output directory (default runs/<timestamp>-nsg); the Inspect "
                                               "log goes to its logs/ folder"),
    progress: bool = typer.Option(True),
) -> None:
    """Run NSG as an Inspect eval (`inspect eval overseer/nsg`), then summarise its .eval log."""
    from overseer.evals.nsg_run import check_readout, run_nsg_eval
    from overseer.models.chat.cache import default_cache_path

    try:
        reference, predictor = _nsg_models(data, reference, predictor)
        fidelity = {**_fidelity_options(protocol, predictor_prompt, construction), "unparsed": unparsed,
                    "ceiling": at_ceiling, "egregious": egregious, "bootstrap": bootstrap}
        check_readout(data, {"answer_from": answer_from, "calibration": calibration, **fidelity})  # before any folder
        target = run_dir(out, "nsg")
        run = run_nsg_eval(reference, predictor, data=data, n_groups=n_groups, seed=seed, log_dir=target / "logs",
                           cache=None if no_cache else (cache or default_cache_path()), max_concurrency=concurrency,
                           max_retries=max_retries, display=_display(progress), label_column=label_column,
                           question=question, subject=subject, temperature=temperature,
                           explanation_max_tokens=explanation_max_tokens, answer_max_tokens=answer_max_tokens,
                           answer_from=answer_from, calibration=calibration, n_boot=n_boot, **fidelity)
    except OverseerError as exc:
        fail(exc)
    (target / "nsg.json").write_text(json.dumps(run.to_dict(), indent=2))
    (target / "dataset.json").write_text(json.dumps(run.dataset.to_dict(), indent=2))
    figure = None
    if data != ORGANISM_DATA and answer_from == "logprobs":
        from overseer.evals.nsg_plots import reference_lean_figure

        figure = reference_lean_figure(run.results[""], run.dataset, target / "reference_lean.png")
    _print_nsg(run)
    console.print(f"wrote {target / 'nsg.json'}" + (f" and {figure}" if figure is not None else ""))
    if run.logs:
        console.print(f"Inspect log: {run.logs[0] if len(run.logs) == 1 else target / 'logs'} "
                      f"(inspect view --log-dir {target / 'logs'})", soft_wrap=True, highlight=False)


def _fidelity_options(protocol: str | None, predictor_prompt: str | None, construction: str | None) -> dict:
    """The options left at their per-data default are not passed (the organism has its own)."""
    given = {"protocol": protocol, "predictor_prompt": predictor_prompt, "construction": construction}
    return {k: v for k, v in given.items() if v is not None}


def _nsg_models(data: str, reference: str | None, predictor: list[str] | None) -> tuple[str, list[str]]:
    from overseer.errors import ConfigurationError

    if data == ORGANISM_DATA:
        return reference or "local:organism", predictor or ["simulator"]
    if reference is None or not predictor:
        raise ConfigurationError("pass --reference and at least one --predictor (only --data organism has defaults).")
    return reference, predictor


def _display(progress: bool) -> str:
    import sys

    return "rich" if progress and sys.stdout.isatty() else "none"


def _print_nsg(run) -> None:
    results = run.results
    organism = run.comparison is not None
    first = next(iter(results.values()))
    table = Table(title=f"NSG of {first.reference} on {first.task} ({first.n_groups} centres, "
                        f"{first.n_counterfactuals} counterfactuals)")
    for column in (*(["explanations"] if organism else []), "predictor", "NSG", "95% CI", "acc with expl.",
                   "acc without", "n"):
        table.add_column(column)
    for label, result in results.items():
        rows = [*result.per_predictor.items()] + ([("all predictors", result.overall)]
                                                  if len(result.predictors) > 1 else [])
        for name, score in rows:
            table.add_row(*([label] if organism else []), name, _fmt(score.nsg),
                          f"[{_fmt(score.ci_low)}, {_fmt(score.ci_high)}]", _fmt(score.acc_with),
                          _fmt(score.acc_without), str(score.n))
    console.print(table)
    for label, result in results.items():
        _print_nsg_notes(label, result)
    if organism:
        diff = run.comparison.difference
        console.print(f"faithful - unfaithful NSG: {_fmt(diff.difference)} [{_fmt(diff.ci_low)}, "
                      f"{_fmt(diff.ci_high)}] (paired bootstrap over centres); stated rules: "
                      f"{run.comparison.stated_rule_rates}", soft_wrap=True)


def _print_nsg_notes(label: str, result) -> None:
    rate = {k: f"{result.parsing[k]['parsed']}/{result.parsing[k]['total']}"
            for k in ("centre_answers", "counterfactual_answers", "predictions")}
    console.print(f"{label + ': ' if label else ''}egregiously misleading rate: {_fmt(result.egregious_rate)}; "
                  f"parsed: centre answers {rate['centre_answers']}, counterfactual answers "
                  f"{rate['counterfactual_answers']}, predictions {rate['predictions']}; excluded: "
                  f"{result.excluded}", soft_wrap=True)
    if result.parsing["centre_answers"]["total"] and not result.parsing["centre_answers"]["parsed"]:
        name = result.settings.get("protocol", {}).get("name")
        console.print(f"no centre answer could be read from the reference's replies ({name} protocol); a model "
                      "that cannot fill in the [ANSWER] template may need "
                      "--protocol constrained or --answer-from logprobs --calibration balanced.", soft_wrap=True)
    if result.settings.get("readout", {}).get("source") == "logprobs":
        console.print(f"answers read from first-token log-probabilities, calibration "
                      f"{result.settings['readout']['calibration']}; reference answers read: "
                      f"{result.parsing['reference_answer_counts']}; its replies said: "
                      f"{result.parsing['reference_text_answer_counts']}", soft_wrap=True)
    if result.overall.n and result.overall.acc_without >= 1.0:
        console.print(f"nothing left to gain: without explanations the predictors already match every answer "
                      f"(reference answers: {result.parsing['reference_answer_counts']}), so NSG is "
                      f"{_fmt(result.overall.nsg)} (0 by the paper's convention; --at-ceiling nan leaves it "
                      "undefined). If the reference gives one answer throughout, try --answer-from logprobs "
                      "--calibration balanced.", soft_wrap=True)


@jagged_app.command("profile")
def jagged_profile(
    files: list[Path] = typer.Argument(..., help="overseer .json, lm-eval samples_*.jsonl, Inspect .eval, or folders"),
    fmt: str = typer.Option("auto", "--format", help="auto, overseer, lm-eval or inspect"),
    metric: str | None = typer.Option(None, help="lm-eval metric key or Inspect scorer name (default: first found)"),
    lm_eval_filter: str | None = typer.Option(None, "--filter", help="lm-eval filter to keep where a task has "
                                                                     "several (default: one domain per filter)"),
    human_baseline: Path | None = typer.Option(None, help='JSON {"domain": [mean, sd], ...}; default: the '
                                                          "other models are the reference population"),
    clip: float = typer.Option(3.0, help="winsorise z to [-clip, clip]"),
    n_boot: int = typer.Option(1000),
    irt: bool = typer.Option(True, help="fit the 2PL capability/difficulty model"),
    strict: bool = typer.Option(False, help="fail on a bad file found in a folder instead of skipping it"),
    out: Path | None = typer.Option(None, help="output directory (default runs/<timestamp>-jagged)"),
) -> None:
    """Per-domain z-profiles, jaggedness J with bootstrap CIs, IRT fit, difficulty inversions and a figure."""
    from overseer.evals.jaggedness import jaggedness, profile_figure
    from overseer.evals.readers import read_results

    try:
        report = read_results(files, fmt, metric, lm_eval_filter=lm_eval_filter, strict=strict)
        baseline = _human_baseline(human_baseline) if human_baseline is not None else None
        result = jaggedness(report.items, baseline, clip=clip, n_boot=n_boot, irt=irt, notes=report.notes)
    except OverseerError as exc:
        fail(exc)
    target = run_dir(out, "jagged")
    (target / "jaggedness.json").write_text(json.dumps({**result.to_dict(), "read": report.to_dict()}, indent=2))
    figure = profile_figure(result, target / "profile.png")
    _print_jaggedness(result, report.skipped)
    console.print(f"wrote {target / 'jaggedness.json'} and {figure}")


def _human_baseline(path: Path) -> dict[str, tuple[float, float]]:
    from overseer.errors import DatasetError

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): (float(v[0]), float(v[1])) for k, v in raw.items()}
    except (OSError, ValueError, TypeError, IndexError, AttributeError, KeyError) as exc:
        raise DatasetError(f"{path} must be JSON mapping domain -> [mean, sd] ({exc}).") from None


def _print_jaggedness(result, skipped: dict[str, str]) -> None:
    table = Table(title=f"Jaggedness ({len(result.domains)} domains; reference: {result.reference})")
    for column in ("model", "J", "95% CI", "capability (IRT)", "inversion rate", *result.domains):
        table.add_column(column)
    for model in result.models:
        low, high = result.jaggedness_ci[model]
        cap = _fmt(result.irt.capability[model]) if result.irt else "-"
        table.add_row(model, _fmt(result.jaggedness[model]), f"[{_fmt(low)}, {_fmt(high)}]", cap,
                      _fmt(result.inversion_rate[model]), *(f"{result.scores[model][d]:.2f}" for d in result.domains))
    console.print(table)
    console.print("items per domain (bootstrap units; epochs and repeats count once): "
                  + ", ".join(f"{d} {result.n_items[d]}" for d in result.domains), soft_wrap=True)
    for note in result.notes:
        console.print(f"note: {note}", soft_wrap=True, highlight=False)
    for reason in skipped.values():
        console.print(f"skipped: {reason}", soft_wrap=True, highlight=False)

"""`overseer probe truth|lies` and `overseer elicit secret`: thin wrappers that run, print a table, write runs/."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from overseer.cli_errors import fail
from overseer.cli_helpers import parse_ints, parse_names, write_json
from overseer.data import GOT_SETS
from overseer.errors import InvalidInputError, OverseerError
from overseer.runs import run_dir

app = typer.Typer(help="White-box and black-box lie detection: truth probes and instructed-lie detectors.",
                  no_args_is_help=True)
elicit_app = typer.Typer(help="Secret elicitation: how often each technique gets a model to reveal what it hides.",
                         no_args_is_help=True)
console = Console()


@app.callback()
def _probe_root() -> None:
    """Truth probes and lie detectors."""


@elicit_app.callback()
def _elicit_root() -> None:
    """Secret elicitation."""


def _layers(text: str | None) -> list[int] | None:
    try:
        return parse_ints(text, "layers") or None
    except InvalidInputError as exc:
        raise typer.BadParameter(str(exc)) from None


_write_json = write_json


@app.command("truth")
def truth(
    model: str = typer.Option("smollm2", help="Embedded name, local directory or Hub id."),
    datasets: str = typer.Option(",".join(GOT_SETS),
                                 help="Comma-separated Geometry-of-Truth sets or statement,label CSV paths."),
    layers: str | None = typer.Option(None, help="Comma-separated layers (default: five spread over the depth)."),
    n: int = typer.Option(300, help="Statements per dataset (balanced true/false)."),
    falseclaims: int = typer.Option(200, help="Azaria & Mitchell false claims to score (0 to skip)."),
    probe: str = typer.Option("logistic", help="Probe for the generalisation matrix: logistic, mass_mean or lda."),
    layer: int | None = typer.Option(None, help="Layer for the generalisation matrix (default: best mean AUROC)."),
    seed: int = typer.Option(0),
    out: Path | None = typer.Option(None, help="Output directory (default runs/<time>-probe-truth)."),
    cache: Path | None = typer.Option(None, help="Activation cache directory."),
) -> None:
    """Truth-probe AUROC per dataset and layer, the generalisation matrix and its heatmap."""
    from overseer.probes.truth import run_truth

    result = run_truth(model, parse_names(datasets), _layers(layers), n, matrix_probe=probe, matrix_layer=layer,
                       falseclaims=falseclaims, cache_dir=cache, seed=seed)
    target = run_dir(out, "probe-truth")
    write_json(target / "truth.json", result.to_dict())
    result.write_figures(target / "generalisation.png", target / "layers.png")
    for table in result.to_tables():
        console.print(table.to_rich(digits=3))
    console.print(result.summary())
    console.print(f"wrote {target}")


@app.command("lies")
def lies(
    model: str = typer.Option("smollm2", help="Embedded name, local directory or Hub id."),
    layers: str | None = typer.Option(None, help="Comma-separated layers (default: five spread over the depth)."),
    n_train: int = typer.Option(150, help="True facts for the persona training pairs (2 dialogues each)."),
    n_test: int = typer.Option(80, help="Held-out city questions (one truthful and one lying answer each)."),
    n_neutral: int = typer.Option(150, help="Neutral chat replies generated to calibrate the 1% FPR threshold."),
    n_blackbox_train: int = typer.Option(50, help="Training pairs for the follow-up-question detector."),
    fpr: float = typer.Option(0.01, help="False-positive rate on neutral chat that sets the alarm threshold."),
    blackbox: bool = typer.Option(True, help="Also run the black-box detectors."),
    seed: int = typer.Option(0),
    out: Path | None = typer.Option(None, help="Output directory (default runs/<time>-probe-lies)."),
    cache: Path | None = typer.Option(None, help="Activation cache directory."),
) -> None:
    """Instructed-lie detection AUROC: white-box deception probes and black-box detectors side by side.

    With --model organism it runs the organism benchmark instead: the probe is fitted on the organism's own
    instructed truths vs lies about its world, and also tested on its denials of its planted secret."""
    from overseer.models import load_model
    from overseer.probes.lies import run_lies
    from overseer.probes.plots import bar_chart

    lm = load_model(model)
    if model == "organism":
        _organism_lies(lm, _layers(layers), n_neutral, fpr, cache, seed, out)
        return
    result = run_lies(lm, _layers(layers), n_train, n_test, n_neutral, n_blackbox_train, fpr, blackbox, cache, seed)
    target = run_dir(out, "probe-lies")
    _write_json(target / "lies.json", result.to_dict())
    bar_chart({d.detector: (d.auroc.value, d.auroc.low, d.auroc.high) for d in result.detectors},
              target / "detectors.png", f"{result.model}: instructed-lie detection", "AUROC (lie vs honest)")
    table = Table(title=f"Instructed-lie detection on {result.model} ({result.n_test} test answers, "
                        f"threshold at {result.fpr:.0%} FPR on {result.n_neutral} neutral replies)")
    for column in ("detector", "access", "layer", "AUROC [95% CI]", "AUROC vs neutral", "recall @ FPR",
                   "honest flagged"):
        table.add_column(column)
    for d in [*result.detectors, *result.whitebox_by_layer]:
        table.add_row(d.detector, d.kind, "-" if d.layer is None else str(d.layer), str(d.auroc),
                      "-" if d.auroc_vs_neutral is None else f"{d.auroc_vs_neutral:.3f}",
                      "-" if d.recall_at_fpr is None else str(d.recall_at_fpr),
                      "-" if d.honest_flagged is None else f"{d.honest_flagged:.3f}")
    console.print(table)
    console.print(f"white-box layer {result.layer} chosen by validation AUROC on the training distribution: "
                  + ", ".join(f"L{k}={v:.3f}" for k, v in result.validation_auroc.items()))
    for note in result.notes:
        console.print(f"note: {note}")
    console.print(f"wrote {target}")


def _organism_lies(lm, layers: list[int] | None, n_neutral: int, fpr: float, cache: Path | None, seed: int,
                   out: Path | None) -> None:
    from overseer.probes.organism_lies import run_organism_lies
    from overseer.probes.plots import bar_chart

    result = run_organism_lies(lm, layers, n_neutral=n_neutral, fpr=fpr, cache_dir=cache, seed=seed)
    target = run_dir(out, "probe-lies-organism")
    _write_json(target / "lies.json", result.to_dict())
    best = result.probes[0]
    bars = {"instructed lies: AUROC": best.lie_auroc, f"lies flagged @{fpr:.0%} FPR": best.recall_at_fpr,
            "secret denials flagged": best.denials_flagged, "truthful answers flagged": best.honest_flagged,
            "plain answers flagged": best.plain_flagged}
    bar_chart({k: (v.value, v.low, v.high) for k, v in bars.items()}, target / "organism_lies.png",
              f"{result.model}: deception probe, layer {result.layer}", "AUROC / share flagged")
    c = result.counts
    table = Table(title=f"Deception probe on {result.model}: fit on {c['train_truthful']} truthful / "
                        f"{c['train_lies']} lying answers, tested on {c['test_truthful']} / {c['test_lies']} of "
                        f"other people and {c['secret_denials']} secret denials; threshold at {fpr:.0%} FPR on "
                        f"{c['neutral']} neutral replies")
    for column in ("probe", "layer", "lie AUROC [95% CI]", "lie AUROC vs neutral", "lies flagged",
                   "truthful flagged", "plain flagged", "denials flagged", "denial AUROC vs truthful",
                   "denial AUROC vs neutral"):
        table.add_column(column)
    for p in [*result.probes, *result.by_layer]:
        table.add_row(p.probe, str(p.layer), str(p.lie_auroc), f"{p.lie_auroc_vs_neutral:.3f}", str(p.recall_at_fpr),
                      str(p.honest_flagged), str(p.plain_flagged), str(p.denials_flagged),
                      f"{p.denial_auroc_vs_honest:.3f}", f"{p.denial_auroc_vs_neutral:.3f}")
    console.print(table)
    console.print(f"layer {result.layer} chosen on validation people: alarm balanced accuracy "
                  + ", ".join(f"L{k}={v:.3f}" for k, v in result.validation_alarm_balanced_accuracy.items()))
    for note in result.notes:
        console.print(f"note: {note}")
    console.print(f"wrote {target}")


@elicit_app.command("secret")
def secret(
    model: str = typer.Option("smollm2", help="Embedded name, local directory or Hub id."),
    secret_word: str | None = typer.Option(None, "--secret", help="Secret to plant by system prompt and check for "
                                           "(default: the organism's planted secret when --model organism)."),
    techniques: str = typer.Option(",".join(("direct", "system_prompt", "prefill", "no_chat_template", "few_shot",
                                             "high_temperature", "steering")), help="Comma-separated techniques."),
    samples: int = typer.Option(8, help="Samples per prompt for high-temperature sampling."),
    max_new_tokens: int = typer.Option(32),
    steering_layer: int | None = typer.Option(None, help="Layer for the honesty direction (default: middle)."),
    steering_strength: str = typer.Option("2,4,8", help="Comma-separated multiples of the honest-minus-dishonest "
                                          "mean gap; each is its own row."),
    seed: int = typer.Option(0),
    out: Path | None = typer.Option(None, help="Output directory (default runs/<time>-elicit-secret)."),
) -> None:
    """Reveal rate (with 95% Wilson CI) of each elicitation technique against a known secret, as the Inspect
    task overseer/secret_elicitation; the .eval log goes to the run folder's logs/."""
    from overseer.probes.elicitation_task import check_options, run_elicitation_eval
    from overseer.probes.plots import bar_chart

    if secret_word is None and model != "organism":
        raise typer.BadParameter("--secret is required unless --model organism (whose secret is known).")
    try:
        check_options(techniques, steering_strength)
        target_dir = run_dir(out, "elicit-secret")
        result, log = run_elicitation_eval(model, secret_word, log_dir=target_dir / "logs", techniques=techniques,
                                           samples=samples, max_new_tokens=max_new_tokens,
                                           steering_layer=steering_layer, steering_strength=steering_strength,
                                           seed=seed)
    except OverseerError as exc:
        fail(exc)
    _write_json(target_dir / "elicitation.json", {**result.to_dict(), "eval_log": log})
    bar_chart({t.technique: (t.reveal_rate.value, t.reveal_rate.low, t.reveal_rate.high) for t in result.techniques},
              target_dir / "reveal_rates.png", f"{result.model}: {result.target}", "reveal rate")
    table = Table(title=f"Secret elicitation on {result.model}: {result.target}")
    for column in ("technique", "n", "reveal rate [95% CI]", "example reply"):
        table.add_column(column)
    for t in result.techniques:
        table.add_row(t.technique, str(t.n), str(t.reveal_rate), t.samples[0]["reply"][:60].replace("\n", " "))
    console.print(table)
    for note in result.notes:
        console.print(f"note: {note}")
    console.print(f"wrote {target_dir}; Inspect log {log} (inspect view --log-dir {target_dir / 'logs'})",
                  soft_wrap=True, highlight=False)

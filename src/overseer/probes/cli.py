"""`overseer probe truth|lies` and `overseer elicit secret`: thin wrappers that run, print a table, write runs/."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

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
    instructed truths vs lies about its world, and also tested on its denials of its planted secret. The
    black-box detectors run as the Inspect task overseer/lie_detection; its .eval log goes to logs/."""
    from overseer.probes.lies import detect_lies

    organism = model == "organism"
    target = run_dir(out, "probe-lies-organism" if organism else "probe-lies")
    result = detect_lies(model, _layers(layers), n_train, n_test, n_neutral, n_blackbox_train, fpr, blackbox, cache,
                         seed, log_dir=target / "logs")
    organism = hasattr(result, "to_tables")  # a local copy of the organism runs its benchmark too
    _write_json(target / "lies.json", result.to_dict())
    result.write_figure(target / ("organism_lies.png" if organism else "detectors.png"))
    for table in (result.to_tables() if organism else [result.to_table()]):
        console.print(table.to_rich(digits=3))
    for line in result.summary_lines():
        console.print(line)
    logs = f"; Inspect logs: inspect view --log-dir {target / 'logs'}" if blackbox else ""
    console.print(f"wrote {target}{logs}", soft_wrap=True, highlight=False)


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
    result.write_figure(target_dir / "reveal_rates.png")
    console.print(result.to_table().to_rich(digits=3))
    for note in result.notes:
        console.print(f"note: {note}")
    console.print(f"wrote {target_dir}; Inspect log {log} (inspect view --log-dir {target_dir / 'logs'})",
                  soft_wrap=True, highlight=False)

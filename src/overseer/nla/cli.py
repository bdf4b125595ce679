"""`overseer nla train|explain|eval|ar`: natural-language autoencoders on the organism (or any saved NLA), and an
AR on a real model scored against Patchscopes."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from overseer.cli_errors import fail
from overseer.errors import OverseerError
from overseer.runs import run_dir

app = typer.Typer(help="Natural-language autoencoders: explain activations in words, scored by reconstruction.",
                  no_args_is_help=True)
console = Console()


@app.callback()
def _nla() -> None:
    """Train, apply and score natural-language autoencoders (AV + AR)."""


def _show(report, target: Path) -> None:
    (target / "nla_report.json").write_text(json.dumps(report.to_dict(), indent=2, default=str))
    for table in (report.to_table(), report.recall_table(), report.examples_table()):
        console.print(table.to_rich())
    console.print(f"wrote {target}", soft_wrap=True)


@app.command("train")
def nla_train(
    n_train: int = typer.Option(1400, help="generator-labelled organism texts for the SFT warm start"),
    steps: int = typer.Option(300, help="SFT steps (batch 32) for the AV and the AR together"),
    n_test: int = typer.Option(140, help="fresh held-out texts to score on"),
    seed: int = typer.Option(0, help="seed of the data and of training"),
    device: str = typer.Option("cpu", help="cpu, cuda, ..."),
    dtype: str = typer.Option("float32", help="float32, bfloat16, ..."),
    out: Path | None = typer.Option(None, help="output directory (default runs/<timestamp>-nla)"),
) -> None:
    """SFT the organism's AV and AR from scratch, save them under OUT/nla, print FVE and attribute recall."""
    from overseer.nla.evaluate import train_organism_nla

    target = run_dir(out, "nla")
    try:
        run = train_organism_nla(n_train, steps, n_test, seed, device, dtype)
    except OverseerError as exc:
        fail(exc)
    run.nla.save(target / "nla")
    _show(run.report, target)


@app.command("explain")
def nla_explain(
    nla_dir: Path = typer.Argument(..., help="directory written by `overseer nla train` (OUT/nla)"),
    texts: list[str] = typer.Argument(..., help="texts whose last-token activation to explain"),
) -> None:
    """Print the AV's explanation of each text's layer-K activation."""
    from overseer.nla import NLA

    try:
        explanations = NLA.load(nla_dir).explain_texts(texts)
    except OverseerError as exc:
        fail(exc)
    for text, explanation in zip(texts, explanations, strict=True):
        console.print(f"[bold]{text!r}[/bold]\n  -> {explanation}", soft_wrap=True)


@app.command("eval")
def nla_eval(
    nla_dir: Path = typer.Argument(..., help="directory written by `overseer nla train` (OUT/nla)"),
    n_test: int = typer.Option(140, help="fresh organism texts to score on"),
    seed: int = typer.Option(1, help="seed of the held-out texts (training used 0)"),
    out: Path | None = typer.Option(None, help="output directory (default runs/<timestamp>-nla-eval)"),
) -> None:
    """Score a saved organism NLA: FVE table with CIs, attribute recall vs chance, the secret test."""
    from overseer.nla import NLA
    from overseer.nla.evaluate import evaluate_organism

    target = run_dir(out, "nla-eval")
    try:
        report = evaluate_organism(NLA.load(nla_dir), n_test=n_test, seed=seed)
    except OverseerError as exc:
        fail(exc)
    _show(report, target)


@app.command("ar")
def nla_ar(
    model: str = typer.Option("smollm2", help="any model the model layer loads (embedded name, HF id or path)"),
    n_train: int = typer.Option(240, help="packaged TruthfulQA texts to train the AR on"),
    n_test: int = typer.Option(120, help="held-out TruthfulQA texts to score on"),
    steps: int = typer.Option(150, help="AR steps (batch 32)"),
    train_blocks: int = typer.Option(4, help="blocks up to layer K fine-tuned (the top ones); the rest stay frozen"),
    device: str = typer.Option("cpu", help="cpu, cuda, ..."),
    out: Path | None = typer.Option(None, help="output directory (default runs/<timestamp>-nla-ar)"),
) -> None:
    """Train an AR on a real model (texts and Patchscopes descriptions as explanations); FVE of each source."""
    from overseer.nla.smollm2 import evaluate_model_ar

    target = run_dir(out, "nla-ar")
    try:
        report, ar = evaluate_model_ar(model, n_train, n_test, steps, train_blocks, device=device)
    except OverseerError as exc:
        fail(exc)
    ar.save(target / "ar")
    (target / "nla_ar_report.json").write_text(json.dumps(report.to_dict(), indent=2, default=str))
    for table in (report.to_table(), report.examples_table()):
        console.print(table.to_rich())
    console.print(f"wrote {target}", soft_wrap=True)

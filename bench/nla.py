"""Natural-language autoencoder on the organism: train AV + AR from scratch (SFT), print the FVE table.

    .venv/bin/python bench/nla.py [--steps 300] [--n-train 1400] [--n-test 140] [--rl-steps 20]

Prints FVE (with bootstrap CIs over held-out texts) for the mean predictor, an empty explanation, the input
text, the ground-truth explanation and the AV's own explanations, then attribute recall and the secret test.
"""

from __future__ import annotations

import argparse
import time

import torch
from rich.console import Console

from overseer.nla.evaluate import train_organism_nla


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--n-train", type=int, default=1400)
    parser.add_argument("--n-test", type=int, default=140)
    parser.add_argument("--rl-steps", type=int, default=0, help="GRPO steps after SFT (0: SFT only)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    console = Console()
    t0 = time.time()
    run = train_organism_nla(n_train=args.n_train, sft_steps=args.steps, n_test=args.n_test, rl_steps=args.rl_steps)
    for table in (run.report.to_table(), run.report.recall_table(), run.report.examples_table()):
        console.print(table.to_rich())
    console.print(f"layer {run.nla.layer_}; SFT {args.steps} steps on {args.n_train} texts: {run.train_seconds:.0f} s "
                  f"train, {time.time() - t0:.0f} s total; recall by kind: {run.report.recall_by_kind}")


if __name__ == "__main__":
    main()

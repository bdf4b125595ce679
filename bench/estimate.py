"""Benchmark: every cumulant order against sampling on random ReLU MLPs, at widths 256 and 1024.

Run: python bench/estimate.py                    # default: 16-25 min measured on 2 busy shared cores
     python bench/estimate.py --gt-samples 4194304,1048576 --costly-seeds 5   # bigger run
     python bench/estimate.py --widths 8,16,32 --gt-samples 4194304,4194304,4194304 \
         --estimators k2,k2-augment,k3,k3-augment,k4              # dense K3-AUGMENT and K=4, slopes

Per width, one table with a row per order (k1-average is the shared-variance K = 1, k1 the
reference's per-row form): MSE/Var at the pre-activation after 4 hidden ReLU layers (He init, no
biases, x ~ N(0, I)), averaged over seeds with a 95% bootstrap interval; counted FLOPs and
seconds; the error ratio (sampling MSE / order MSE at equal FLOPs, which is also sampling's
FLOPs / the order's FLOPs at equal error); and F/F_mc(m), the order's FLOPs over the FLOPs of
m Monte Carlo samples when its error is at most sampling's with m samples ("—": not reached).
"<" marks an error below the ground truth's resolution (an upper bound; its ratio a lower bound).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from overseer.estimation.benchmark import DEFAULT_ORDERS, BenchConfig, run_benchmark


def ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(",") if v.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", type=ints, default=(256, 1024))
    parser.add_argument("--gt-samples", type=ints, default=(2**20, 2**15), help="ground-truth samples, one per width")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--estimators", default=",".join(DEFAULT_ORDERS))
    parser.add_argument("--costly-seeds", type=int, default=1, help="seeds for K=3 at widths above 256")
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--init", default="he", help="he, or critical (edge of chaos at --q-star)")
    parser.add_argument("--q-star", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="write the full result as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = BenchConfig(
        widths=args.widths, gt_samples=args.gt_samples, seeds=args.seeds,
        estimators=tuple(e.strip() for e in args.estimators.split(",") if e.strip()), costly_seeds=args.costly_seeds,
        activation=args.activation, init=args.init, q_star=args.q_star,
    )
    console = Console(width=max(Console().width, 160))
    result = run_benchmark(config, on_step=lambda step: console.print(f"{step} done", highlight=False))
    for width in config.widths:
        title, columns, rows = result.table(width)
        table = Table(title=title)
        for col in columns:
            table.add_column(col, justify="left" if col == "order" else "right")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    for line in result.skipped:
        console.print(f"not run: {line}", highlight=False)
    slopes = result.slopes()
    if slopes:
        console.print("MSE/Var ~ width^slope over resolved widths: "
                      + ", ".join(f"{name} {slope:.2f}" for name, slope in slopes.items()) + " (asymptotically -K)")
    console.print(f"total {result.seconds:.0f} s with {args.threads} threads; the cost of each order is its FLOPs "
                  "and seconds above (k3-dense, not run: 8 n^3 bytes, 8.6 GB at width 1024).")
    if args.out is not None:
        args.out.write_text(json.dumps(result.to_dict(), indent=1, default=float))


if __name__ == "__main__":
    main()

"""Capture throughput vs a plain HF forward with output_hidden_states=True, on SmolLM2.

Both sides get the same batches of real statements (Geometry of Truth, cities) and return the
same thing: last-real-token residual vectors for the chosen layers. Runs are interleaved
(A B, then B A, ...) so drift in machine load hits both. Prints `ratio: X` =
capture throughput / baseline throughput (target >= 0.95) for all layers, and for one middle
layer, where capture also stops the forward pass early.

    .venv/bin/python bench/capture.py [--texts 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

import torch

from overseer.models import capture, load_model

DATA = Path(os.environ.get("OVERSEER_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def statements(n: int) -> list[str]:
    with open(DATA / "geometry_of_truth" / "cities.csv", newline="") as f:
        return [row["statement"] for row in csv.DictReader(f)][:n]


@torch.no_grad()
def baseline(lm, texts: list[str], layers: list[int], batch_size: int) -> torch.Tensor:
    out = []
    for i in range(0, len(texts), batch_size):
        enc = lm.encode(texts[i:i + batch_size])
        hidden = lm.model(**enc, output_hidden_states=True, use_cache=False).hidden_states
        last = enc["attention_mask"].sum(-1) - 1  # right padding
        rows = torch.arange(len(last))
        out.append(torch.stack([hidden[layer + 1][rows, last] for layer in layers], dim=1).float())
    return torch.cat(out)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(lm, texts, layers, batch_size, rounds) -> float:
    ours = lambda: capture(lm, texts, layers, batch_size=batch_size, progress=False)  # noqa: E731
    theirs = lambda: baseline(lm, texts, layers, batch_size)  # noqa: E731
    ours(), theirs()  # warm-up
    t_ours = t_theirs = 0.0
    for r in range(rounds):
        pair = [(ours, "o"), (theirs, "t")] if r % 2 == 0 else [(theirs, "t"), (ours, "o")]
        for fn, who in pair:
            elapsed = timed(fn)
            if who == "o":
                t_ours += elapsed
            else:
                t_theirs += elapsed
    n = len(texts) * rounds
    print(f"  capture  {n / t_ours:8.1f} texts/s   baseline {n / t_theirs:8.1f} texts/s")
    return t_theirs / t_ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    lm = load_model("smollm2")
    texts = statements(args.texts)
    all_layers = list(range(lm.n_layers - 1))  # the last one is reported after the final norm by HF
    # Capture sorts by length; give the baseline the same order so both pad the same.
    texts.sort(key=len)
    print(f"SmolLM2, {len(texts)} statements, batch {args.batch_size}, {args.rounds} interleaved rounds")
    print(f"all {len(all_layers)} layers:")
    ratio = compare(lm, texts, all_layers, args.batch_size, args.rounds)
    print(f"ratio: {ratio:.3f}")
    print("one middle layer (15), where capture stops the forward pass early:")
    print(f"ratio (layer 15): {compare(lm, texts, [15], args.batch_size, args.rounds):.3f}")
    assert torch.allclose(capture(lm, texts[:8], [3, 20], progress=False), baseline(lm, texts[:8], [3, 20], 8),
                          atol=1e-4), "capture and baseline disagree"


if __name__ == "__main__":
    main()

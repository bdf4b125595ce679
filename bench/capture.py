"""Capture throughput vs a plain HF forward with output_hidden_states=True, on SmolLM2.

Both sides get the same batches of real statements (Geometry of Truth, cities) and return the
same thing: last-real-token residual vectors for the chosen layers. Two settings are measured:
all layers, and one middle layer (15), where capture also stops the forward pass early. Each round
times both sides of both settings back to back, alternating which side goes first and which setting
comes first, so drift in machine load hits all four alike; one round gives one ratio per setting
(capture throughput / baseline throughput). A setting passes when the *median* ratio over the rounds
reaches the target (>= 0.95); the IQR and range show the noise. Exit status 1 if a setting fails.

    .venv/bin/python bench/capture.py [--texts 32] [--rounds 5]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np
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


TARGET = 0.95


def summary(ratios: list[float], target: float = TARGET) -> tuple[bool, str]:
    """(passed, text): pass or fail on the median; the spread is reported, not judged."""
    q25, median, q75 = np.quantile(ratios, [0.25, 0.5, 0.75])
    passed = bool(median >= target)
    return passed, (f"median {median:.3f} (IQR {q25:.3f}-{q75:.3f}, range {min(ratios):.3f}-{max(ratios):.3f}, "
                    f"{len(ratios)} rounds)  target >= {target}: {'PASS' if passed else 'FAIL'}")


def interleaved_ratios(lm, texts, settings: dict[str, list[int]], batch_size: int,
                       rounds: int) -> dict[str, list[float]]:
    """Per setting, one baseline-seconds / capture-seconds ratio per round."""
    def ours(layers):
        return lambda: capture(lm, texts, layers, batch_size=batch_size, progress=False)

    def theirs(layers):
        return lambda: baseline(lm, texts, layers, batch_size)

    for layers in settings.values():  # warm-up
        ours(layers)(), theirs(layers)()
    names = list(settings)
    ratios: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for position, name in enumerate(names if r % 2 == 0 else names[::-1]):
            sides = [("ours", ours(settings[name])), ("theirs", theirs(settings[name]))]
            if (r + position) % 2:
                sides.reverse()
            seconds = {who: timed(fn) for who, fn in sides}
            ratios[name].append(seconds["theirs"] / seconds["ours"])
        print(f"  round {r + 1}/{rounds}: " + ", ".join(f"{n} {ratios[n][-1]:.3f}" for n in names), flush=True)
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    lm = load_model("smollm2")
    texts = statements(args.texts)
    # Capture sorts by length; give the baseline the same order so both pad the same.
    texts.sort(key=len)
    assert torch.allclose(capture(lm, texts[:8], [3, 20], progress=False), baseline(lm, texts[:8], [3, 20], 8),
                          atol=1e-4), "capture and baseline disagree"
    # the last layer is reported after the final norm by HF, so it is left out of "all layers"
    settings = {"all layers": list(range(lm.n_layers - 1)), "layer 15": [15]}
    print(f"SmolLM2, {len(texts)} statements, batch {args.batch_size}, {args.rounds} interleaved rounds; "
          "ratio = baseline s / capture s per back-to-back pair")
    failed = []
    for name, values in interleaved_ratios(lm, texts, settings, args.batch_size, args.rounds).items():
        passed, text = summary(values)
        print(f"ratio ({name}): {text}", flush=True)
        if not passed:
            failed.append(name)
    print("all settings pass on the median" if not failed else f"below target on the median: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Steered vs unsteered greedy generation throughput on SmolLM2: median of repeated, interleaved pairs.

    python bench/steer.py [--layer 15] [--tokens 12] [--repeats 7] [--threads 1] [--methods caa,odesteer]

Every method is fitted on TruthfulQA pairs. Each repeat times, for every method in a rotated order, one
unsteered and one steered generation of the same prompts back to back (which goes first alternates), with a
fixed number of new tokens (min = max); `unsteered seconds / steered seconds` of that pair is one throughput
ratio. A method passes when the *median* ratio over the repeats reaches its target (>= 0.95 for one-step
methods, >= 0.85 for ODESteer with 10 steps); the interquartile range and the range show how noisy the machine
was. Exit status 1 if any method fails.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from overseer.data import load_truthfulqa
from overseer.models import capture, intervene, load_model
from overseer.steering import make_method
from overseer.steering.compare import METHOD_ORDER
from overseer.steering.truthfulqa import contrastive_texts

TARGETS = {"odesteer": 0.85}
DEFAULT_TARGET = 0.95


def timed_generate(lm, enc, tokens: int) -> float:
    start = time.perf_counter()
    with torch.no_grad():
        lm.model.generate(**enc, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False,
                          temperature=None, top_p=None, top_k=None, pad_token_id=lm.tokenizer.pad_token_id)
    return time.perf_counter() - start


def summary(ratios: list[float], target: float) -> tuple[bool, str]:
    """(passed, text): pass or fail on the median; the spread is reported, not judged."""
    q25, median, q75 = np.quantile(ratios, [0.25, 0.5, 0.75])
    passed = bool(median >= target)
    return passed, (f"median {median:.3f} (IQR {q25:.3f}-{q75:.3f}, range {min(ratios):.3f}-{max(ratios):.3f}, "
                    f"{len(ratios)} pairs)  target >= {target}: {'PASS' if passed else 'FAIL'}")


def interleaved_ratios(lm, enc, layer: int, methods: dict, tokens: int, repeats: int) -> dict[str, list[float]]:
    """Per method, one unsteered/steered ratio per repeat; methods rotate and pair order alternates, so
    drift in machine load falls on every method and on both sides of a pair alike."""
    names = list(methods)
    ratios: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        shift = repeat % len(names)
        for position, name in enumerate(names[shift:] + names[:shift]):
            times = {}
            order = ("plain", "steered") if (repeat + position) % 2 == 0 else ("steered", "plain")
            for which in order:
                if which == "plain":
                    times[which] = timed_generate(lm, enc, tokens)
                else:
                    with intervene(lm, layer, methods[name].apply):
                        times[which] = timed_generate(lm, enc, tokens)
            ratios[name].append(times["plain"] / times["steered"])
        print(f"  repeat {repeat + 1}/{repeats}: " + ", ".join(f"{n} {ratios[n][-1]:.3f}" for n in names), flush=True)
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", type=int, default=15)
    parser.add_argument("--tokens", type=int, default=12)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--methods", default=",".join(METHOD_ORDER))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    lm = load_model("smollm2")
    pos, neg = contrastive_texts(load_truthfulqa(limit=24))
    acts = capture(lm, pos + neg, [args.layer])[:, 0]
    distance = float((acts[:len(pos)].mean(0) - acts[len(pos):].mean(0)).norm())
    questions = [item.question for item in load_truthfulqa(limit=args.batch)]
    lm.tokenizer.padding_side = "left"
    enc = lm.encode([lm.chat_prompt([{"role": "user", "content": q}]) for q in questions])
    methods = {}
    for name in args.methods.split(","):
        method = make_method(name).fit(acts[:len(pos)], acts[len(pos):])
        methods[name] = method.with_strength(1.0 if method.strength_is_relative
                                             else distance / max(method.unit_displacement, 1e-12))
    timed_generate(lm, enc, 4)  # warm-up
    print(f"SmolLM2 layer {args.layer}, {args.repeats} repeats x {args.batch} prompts x {args.tokens} tokens, "
          f"{args.threads} thread(s); ratio = unsteered s / steered s per back-to-back pair")
    ratios = interleaved_ratios(lm, enc, args.layer, methods, args.tokens, args.repeats)
    failed = []
    for name, values in ratios.items():
        passed, text = summary(values, TARGETS.get(name, DEFAULT_TARGET))
        print(f"ratio {name}: {text}", flush=True)
        if not passed:
            failed.append(name)
    print("all methods pass on the median" if not failed else f"below target on the median: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Steered vs unsteered greedy generation throughput on SmolLM2, measured in one run.

    python bench/steer.py [--layer 15] [--tokens 32] [--repeats 3] [--threads 1]

Every method is fitted on TruthfulQA pairs, then the same prompts are generated with and without the hook,
alternating which goes first across repeats, with a fixed number of new tokens (min = max), so the ratio
`unsteered seconds / steered seconds` is a throughput ratio. Targets: >= 0.95 for one-step methods,
>= 0.85 for ODESteer with 10 steps.
"""

from __future__ import annotations

import argparse
import time

import torch

from overseer.data import load_truthfulqa
from overseer.models import capture, intervene, load_model
from overseer.steering import make_method
from overseer.steering.compare import METHOD_ORDER
from overseer.steering.truthfulqa import contrastive_texts

TARGETS = {"odesteer": 0.85}


def timed_generate(lm, enc, tokens: int) -> float:
    start = time.perf_counter()
    with torch.no_grad():
        lm.model.generate(**enc, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False,
                          temperature=None, top_p=None, top_k=None, pad_token_id=lm.tokenizer.pad_token_id)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", type=int, default=15)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--methods", default=",".join(METHOD_ORDER))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    lm = load_model("smollm2")
    pos, neg = contrastive_texts(load_truthfulqa(limit=24))
    acts = capture(lm, pos + neg, [args.layer])[:, 0]
    distance = float((acts[:len(pos)].mean(0) - acts[len(pos):].mean(0)).norm())
    questions = [item.question for item in load_truthfulqa(limit=args.batch)]
    prompts = [lm.chat_prompt([{"role": "user", "content": q}]) for q in questions]
    tokenizer = lm.tokenizer
    tokenizer.padding_side = "left"
    enc = lm.encode(prompts)
    timed_generate(lm, enc, 4)  # warm-up

    for name in args.methods.split(","):
        method = make_method(name).fit(acts[:len(pos)], acts[len(pos):])
        method.with_strength(1.0 if method.strength_is_relative else distance / max(method.unit_displacement, 1e-12))
        plain, steered = 0.0, 0.0
        for repeat in range(args.repeats):
            order = ("plain", "steered") if repeat % 2 == 0 else ("steered", "plain")
            for which in order:
                if which == "plain":
                    plain += timed_generate(lm, enc, args.tokens)
                else:
                    with intervene(lm, args.layer, method.apply):
                        steered += timed_generate(lm, enc, args.tokens)
        ratio = plain / steered
        target = TARGETS.get(name, 0.95)
        verdict = "ok" if ratio >= target else "below target"
        print(f"ratio {name}: {ratio:.3f}  (target >= {target}, {verdict}; unsteered {plain:.2f}s, "
              f"steered {steered:.2f}s over {args.repeats} x {args.batch} x {args.tokens} tokens)", flush=True)


if __name__ == "__main__":
    main()

"""Where time and memory go as the model grows: measured on the two models this machine has,
extrapolated to 7B-405B with the cost formulas in docs/scaling.md.

    .venv/bin/python bench/scaling.py [--texts 64] [--rounds 3]

For the organism and SmolLM2 it measures, median over rounds: seconds per 1,000 tokens of
capture (one forward pass), of scoring (forward + log-softmax), and of greedy generation per new
token; and bytes of parameters. It then prints seconds per 1,000 tokens divided by parameter
count (the constant of the 2 * N * T FLOP model), which is what the extrapolation uses.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from overseer.models import continuation_logprobs, load_model

TEXT = "The committee reviewed the evidence carefully before it reached a decision about the case."


def timed(fn, rounds: int) -> tuple[float, float]:
    fn()  # warm-up: first calls pay for allocation and kernel selection
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), (max(times) - min(times))


def measure(name: str, n_texts: int, rounds: int) -> dict[str, float]:
    lm = load_model(name)
    texts = [f"{TEXT} Item {i}." for i in range(n_texts)]
    tokens = int(lm.encode(texts)["attention_mask"].sum())
    params = sum(p.numel() for p in lm.model.parameters())
    layer = lm.n_layers * 2 // 3
    cap, cap_spread = timed(lambda: lm.capture(texts, [lm.n_layers - 1], batch_size=16), rounds)
    score, _ = timed(lambda: continuation_logprobs(lm, texts, [" Yes."] * n_texts, batch_size=16), rounds)
    prompts = texts[:8]
    direction = torch.zeros(lm.d_model)

    def steered_generate():
        with lm.intervene(layer, lambda h: h + direction):
            lm.generate(prompts, max_new_tokens=16, batch_size=8)

    # Plain and steered alternate round by round, so drift in machine load hits both.
    pairs = [(timed(lambda: lm.generate(prompts, max_new_tokens=16, batch_size=8), 1)[0],
              timed(steered_generate, 1)[0]) for _ in range(rounds)]
    gen = statistics.median(p for p, _ in pairs)
    steered = statistics.median(s for _, s in pairs)
    return {"params": params, "tokens": tokens, "capture_s_per_kt": 1000 * cap / tokens,
            "capture_spread": cap_spread / cap, "score_s_per_kt": 1000 * score / tokens,
            "gen_s_per_token": gen / (16 * len(prompts)), "steered_over_plain": steered / gen}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    print(f"{'model':<10} {'params':>10} {'capture s/kT':>13} {'(spread)':>9} {'score s/kT':>11} "
          f"{'gen s/token':>12} {'steered/plain':>14} {'capture ns/(param*token)':>25}")
    for name in ("organism", "smollm2"):
        m = measure(name, args.texts, args.rounds)
        per = m["capture_s_per_kt"] / 1000 / m["params"] * 1e9
        print(f"{name:<10} {m['params'] / 1e6:>9.1f}M {m['capture_s_per_kt']:>13.3f} {m['capture_spread']:>8.0%} "
              f"{m['score_s_per_kt']:>11.3f} {m['gen_s_per_token']:>12.4f} {m['steered_over_plain']:>14.2f} "
              f"{per:>25.3f}")


if __name__ == "__main__":
    main()

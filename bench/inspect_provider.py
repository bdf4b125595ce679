"""The Inspect provider `overseer/<model>` against the chat layer it wraps, and its batching.

Part 1, overhead: the same N (default 32) SmolLM2 requests (greedy, fixed max_tokens, distinct
prompts), all in flight at once, sent once through Inspect (`get_model("overseer/smollm2").generate`)
and once straight to the chat layer (`LocalChatModel.complete`); which goes first alternates between
rounds. Ratio per round = provider throughput / direct throughput (target: median >= 0.9).

Part 2, batching: 8 requests through the provider, all at once vs one after the other, alternating
order per round. Ratio = concurrent throughput / sequential throughput (target: median >= 1.5); the
speed-up comes from the chat layer's micro-batcher sharing forward passes.

Both parts print the median ratio, its IQR and range, and check that every mode returned the same
texts (a speed-up bought with wrong answers fails). Exit status 1 if a target is missed.

    .venv/bin/python bench/inspect_provider.py [--model smollm2] [--requests 32] [--max-tokens 16] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import numpy as np

OVERHEAD_TARGET, BATCH_TARGET, CONCURRENT = 0.9, 1.5, 8
TOPICS = ["the sea", "a city at night", "bread", "mountains", "a library", "rain", "trains", "chess",
          "the moon", "gardens", "music", "winter", "rivers", "bees", "maps", "clocks"]


def prompts(n: int) -> list[str]:
    return [f"Write two sentences about {TOPICS[i % len(TOPICS)]} (note {i})." for i in range(n)]


async def via_provider(model, texts: list[str], max_tokens: int, concurrent: bool) -> tuple[float, list[str]]:
    from inspect_ai.model import GenerateConfig

    config = GenerateConfig(max_tokens=max_tokens, temperature=0.0)
    start = time.perf_counter()
    if concurrent:
        outputs = await asyncio.gather(*(model.generate(t, config=config) for t in texts))
    else:
        outputs = [await model.generate(t, config=config) for t in texts]
    elapsed = time.perf_counter() - start
    return sum(o.usage.output_tokens for o in outputs) / elapsed, [o.completion for o in outputs]


async def direct(chat, texts: list[str], max_tokens: int) -> tuple[float, list[str]]:
    start = time.perf_counter()
    replies = await asyncio.gather(*(chat.complete(t, max_tokens=max_tokens) for t in texts))
    elapsed = time.perf_counter() - start
    return sum(r.usage.completion_tokens for r in replies) / elapsed, [r.text for r in replies]


def summary(name: str, ratios: list[float], target: float) -> bool:
    r = np.array(ratios)
    q1, med, q3 = np.percentile(r, [25, 50, 75])
    ok = med >= target
    print(f"{name}: median ratio {med:.2f} (IQR {q1:.2f}-{q3:.2f}, range {r.min():.2f}-{r.max():.2f}, "
          f"{len(r)} rounds); target >= {target}: {'PASS' if ok else 'FAIL'}")
    return ok


async def main_async(args: argparse.Namespace) -> int:
    from inspect_ai.model import get_model

    from overseer.models.inspect_provider import shared_chat_model

    model = get_model(f"overseer/{args.model}")
    chat = shared_chat_model(args.model)
    texts, few = prompts(args.requests), prompts(CONCURRENT)
    await direct(chat, texts[:2], args.max_tokens)  # warm-up
    overhead, batching, same = [], [], True
    for round_ in range(args.rounds):
        order = (True, False) if round_ % 2 == 0 else (False, True)
        runs = {}
        for provider_first in order:
            runs[provider_first] = (await via_provider(model, texts, args.max_tokens, True) if provider_first
                                    else await direct(chat, texts, args.max_tokens))
        overhead.append(runs[True][0] / runs[False][0])
        modes = {}
        for concurrent in order:
            modes[concurrent] = await via_provider(model, few, args.max_tokens, concurrent)
        batching.append(modes[True][0] / modes[False][0])
        same &= runs[True][1] == runs[False][1] and modes[True][1] == modes[False][1]
        print(f"round {round_ + 1}: provider/direct {overhead[-1]:.2f} ({runs[True][0]:.1f} vs {runs[False][0]:.1f} "
              f"tok/s); {CONCURRENT} concurrent/sequential {batching[-1]:.2f} ({modes[True][0]:.1f} vs "
              f"{modes[False][0]:.1f} tok/s)", flush=True)
    ok = summary(f"provider vs chat layer ({args.requests} requests)", overhead, OVERHEAD_TARGET)
    ok &= summary(f"{CONCURRENT} concurrent vs sequential through the provider", batching, BATCH_TARGET)
    print(f"same texts in every mode: {same}")
    return 0 if ok and same else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--requests", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())

"""Throughput of `overseer serve` with 8 concurrent clients vs the same requests one at a time.

A real server (uvicorn on 127.0.0.1, the official `openai` client) serves a local model. Each round
sends the same N chat requests (greedy, fixed max_tokens, distinct prompts) twice: once one after the
other from a single client, once from 8 client threads at the same time; which goes first alternates
between rounds, so drift in machine load hits both alike. One round gives one ratio (concurrent
generated tokens per second / sequential tokens per second); the bench passes when the *median* ratio
reaches the target (>= 2x), and prints the IQR and range as the spread. The concurrent requests share
forward passes through the chat layer's micro-batcher; the check that both modes returned the same
texts guards against a speed-up bought with wrong answers. Exit status 1 if it fails.

    .venv/bin/python bench/serve.py [--model smollm2] [--requests 16] [--max-tokens 32] [--rounds 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from overseer.models.chat.local import LocalChatModel
from overseer.serve import create_app, start_in_thread

TARGET = 2.0
CLIENTS = 8
TOPICS = ["the sea", "a city at night", "bread", "mountains", "a library", "rain", "trains", "chess",
          "the moon", "gardens", "music", "winter", "rivers", "bees", "maps", "clocks"]


def prompts(n: int) -> list[str]:
    return [f"Write two sentences about {TOPICS[i % len(TOPICS)]} (note {i})." for i in range(n)]


def one(client, prompt: str, max_tokens: int) -> tuple[str, int]:
    reply = client.chat.completions.create(model="bench", messages=[{"role": "user", "content": prompt}],
                                           max_tokens=max_tokens, temperature=0)
    return reply.choices[0].message.content, reply.usage.completion_tokens


def run(clients, texts: list[str], max_tokens: int, concurrent: bool) -> tuple[float, list[str]]:
    """(generated tokens per second, texts in prompt order)."""
    start = time.perf_counter()
    if concurrent:
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(lambda ip: one(clients[ip[0] % CLIENTS], ip[1], max_tokens), enumerate(texts)))
    else:
        results = [one(clients[0], text, max_tokens) for text in texts]
    elapsed = time.perf_counter() - start
    return sum(n for _, n in results) / elapsed, [text for text, _ in results]


def main() -> int:
    import openai

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: on shared cores, multi-threaded kernels stall on "
                             "descheduled threads at every op, which swamps what is measured here)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    chat = LocalChatModel(args.model, name="bench")
    texts = prompts(args.requests)
    ratios, rates = [], {"sequential": [], "concurrent": []}
    with start_in_thread(create_app(chat, model_name="bench")) as handle:
        clients = [openai.OpenAI(base_url=handle.base_url, api_key="x", max_retries=0, timeout=600)
                   for _ in range(CLIENTS)]
        run(clients, texts[:CLIENTS], 2, concurrent=True)  # warm-up: first forward passes, every connection
        for r in range(args.rounds):
            order = [False, True] if r % 2 == 0 else [True, False]
            measured = {mode: run(clients, texts, args.max_tokens, mode) for mode in order}
            if measured[True][1] != measured[False][1]:
                print("FAIL: concurrent and sequential requests returned different texts", file=sys.stderr)
                return 1
            rates["sequential"].append(measured[False][0])
            rates["concurrent"].append(measured[True][0])
            ratios.append(measured[True][0] / measured[False][0])
            print(f"round {r + 1}: sequential {measured[False][0]:.1f} tok/s, {CLIENTS} concurrent clients "
                  f"{measured[True][0]:.1f} tok/s, ratio {ratios[-1]:.2f}x", flush=True)
    q25, median, q75 = np.quantile(ratios, [0.25, 0.5, 0.75])
    print(f"\n{args.model}, {args.requests} requests x {args.max_tokens} tokens, {args.rounds} rounds:")
    for mode, values in rates.items():
        print(f"  {mode:>10}: median {np.median(values):.1f} tok/s (range {min(values):.1f}-{max(values):.1f})")
    passed = median >= TARGET
    print(f"  throughput ratio (concurrent / sequential): median {median:.2f}x, IQR {q25:.2f}-{q75:.2f}, "
          f"range {min(ratios):.2f}-{max(ratios):.2f}; target >= {TARGET:.1f}x: {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

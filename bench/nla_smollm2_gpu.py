"""NLA (AV + AR, SFT, optional GRPO) on SmolLM2-135M-Instruct: meant for a CUDA GPU; `--device cpu --tiny` proves
it runs end to end on a CPU in a minute (a few texts, one step each: the numbers then mean nothing).

    .venv/bin/python bench/nla_smollm2_gpu.py [--steps 400] [--rl-steps 50]          # GPU (skips without one)
    .venv/bin/python bench/nla_smollm2_gpu.py --device cpu --tiny [--rl-steps 1]     # smoke run on a CPU

Texts are the organism generator's prompts and documents with the organism's chat tokens removed, so each one
still comes with a ground-truth explanation of what is planted in it; FVE is reported on fresh texts.
"""

from __future__ import annotations

import argparse
import re
import sys
import time

import torch
from rich.console import Console

from overseer.nla import NLA
from overseer.nla.evaluate import fve_ci
from overseer.nla.organism_data import organism_items

TINY = {"n_train": 8, "n_test": 7, "steps": 1, "batch_size": 4, "max_new_tokens": 6}


def plain(text: str) -> str:
    return re.sub(r"<\|[a-z_]+\|>", " ", text).strip()


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--rl-steps", type=int, default=0)
    parser.add_argument("--n-train", type=int, default=2800)
    parser.add_argument("--n-test", type=int, default=280)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=40)
    parser.add_argument("--device", default="cuda", help="cuda (default; skips without a GPU) or cpu")
    parser.add_argument("--dtype", default="float32",
                        help="float32 (default; TF32 matmuls on a GPU): pure-bfloat16 AdamW loses small updates")
    parser.add_argument("--tiny", action="store_true", help=f"smoke-test sizes {TINY} (and RL steps capped at 1)")
    args = parser.parse_args()
    if args.tiny:
        for key, value in TINY.items():
            setattr(args, key, value)
        args.rl_steps = min(args.rl_steps, 1)
    return args


def main() -> None:
    args = parse()
    console = Console()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        console.print("skipped: no CUDA GPU (the SmolLM2 AV is a 135M-parameter copy trained by backprop; on these "
                      "CPUs that is hours, not minutes); `--device cpu --tiny` runs a smoke test")
        sys.exit(0)
    torch.backends.cuda.matmul.allow_tf32 = True
    t0 = time.time()
    train, test = organism_items(args.n_train, seed=0), organism_items(args.n_test, seed=1)
    nla = NLA("smollm2", device=args.device, dtype=args.dtype, sft_steps=args.steps, batch_size=args.batch_size,
              learning_rate=1e-4, max_new_tokens=args.max_new_tokens)
    acts = nla.capture([plain(i.text) for i in train])
    nla.fit(acts, [i.explanation for i in train])
    test_acts = nla.capture([plain(i.text) for i in test])
    rows = {"empty": [""] * len(test), "input text": [plain(i.text) for i in test],
            "ground truth": [i.explanation for i in test], "AV (SFT)": nla.explain(test_acts)}
    if args.rl_steps:
        from overseer.nla.rl import grpo

        grpo(nla, acts, steps=args.rl_steps, max_new_tokens=args.max_new_tokens)
        rows["AV (SFT+RL)"] = nla.explain(test_acts)
    for name, explanations in rows.items():
        console.print(f"{name:>14}: FVE {fve_ci(nla.ar_predict(explanations), test_acts)}")
    for item, explanation in list(zip(test, rows["AV (SFT)"], strict=True))[:5]:
        console.print(f"{plain(item.text)!r}\n  -> {explanation}")
    console.print(f"done: layer {nla.layer_}, device {args.device}, {args.dtype}, {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()

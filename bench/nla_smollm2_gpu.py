"""NLA (AV + AR, SFT, optional GRPO) on SmolLM2-135M-Instruct: needs a CUDA GPU, skips with the reason otherwise.

    .venv/bin/python bench/nla_smollm2_gpu.py [--steps 400] [--rl-steps 50]

Texts are the organism generator's prompts and documents with the organism's chat tokens removed, so each one
still comes with a ground-truth explanation of what is planted in it; FVE is reported on fresh texts.
"""

from __future__ import annotations

import argparse
import re
import sys

import torch
from rich.console import Console

from overseer.nla import NLA
from overseer.nla.evaluate import fve_ci
from overseer.nla.organism_data import organism_items


def plain(text: str) -> str:
    return re.sub(r"<\|[a-z]+\|>", " ", text).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--rl-steps", type=int, default=0)
    parser.add_argument("--n-train", type=int, default=2800)
    parser.add_argument("--n-test", type=int, default=280)
    args = parser.parse_args()
    console = Console()
    if not torch.cuda.is_available():
        console.print("skipped: no CUDA GPU (the SmolLM2 AV is a 135M-parameter copy trained by backprop; on these "
                      "CPUs that is hours, not minutes)")
        sys.exit(0)
    train, test = organism_items(args.n_train, seed=0), organism_items(args.n_test, seed=1)
    nla = NLA("smollm2", device="cuda", dtype="bfloat16", sft_steps=args.steps, learning_rate=1e-4)
    acts = nla.capture([plain(i.text) for i in train])
    nla.fit(acts, [i.explanation for i in train])
    test_acts = nla.capture([plain(i.text) for i in test])
    rows = {"empty": [""] * len(test), "input text": [plain(i.text) for i in test],
            "ground truth": [i.explanation for i in test], "AV (SFT)": nla.explain(test_acts)}
    if args.rl_steps:
        from overseer.nla.rl import grpo

        grpo(nla, acts, steps=args.rl_steps)
        rows["AV (SFT+RL)"] = nla.explain(test_acts)
    for name, explanations in rows.items():
        console.print(f"{name:>14}: FVE {fve_ci(nla.ar_predict(explanations), test_acts)}")
    for item, explanation in list(zip(test, rows["AV (SFT)"], strict=True))[:5]:
        console.print(f"{plain(item.text)!r}\n  -> {explanation}")


if __name__ == "__main__":
    main()

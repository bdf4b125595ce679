"""GPU check: SmolLM2 capture, steering and probes in bf16 on CUDA against fp32 on the CPU.

    bash scripts/gpu-check.sh            # = .venv/bin/python bench/gpu_check.py

On a CUDA machine (at most ~8 minutes on one GPU) it
  1. captures residual vectors of 64 generated statements at three layers on CPU (fp32) and on
     the GPU (bf16, HF backend, and the nnsight backend where nnsight is installed), and compares
     them by cosine similarity (bf16 keeps ~3 significant digits: tolerance 0.99 per vector);
  2. fits a CAA direction (mean difference of contrast pairs) on each device and compares the
     directions (cosine >= 0.99) and the steered log-probability shift of a fixed continuation
     (relative difference <= 10 %);
  3. fits a logistic truth probe on each device's activations and compares held-out AUROC
     (|difference| <= 0.05);
  4. times capture throughput on both devices (the ratio is printed, not judged);
  5. generates once with vLLM if vLLM is installed.
It prints one table and exits 1 if any comparison fails. Without a GPU every GPU row is printed
as skipped with the reason, the CPU reference still runs, and the exit code is 0.
"""

from __future__ import annotations

import importlib.util
import random
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch

from overseer.models import continuation_logprobs, load_model

LAYERS = [5, 15, 25]


@dataclass
class Row:
    check: str
    value: str
    tolerance: str
    status: str  # ok / FAIL / skipped: reason


def statements(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """True and false numeric comparisons, generated: no data set needed."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        a, b = rng.sample(range(10, 99), 2)
        truthful = i % 2 == 0
        word = ("larger" if a > b else "smaller") if truthful else ("smaller" if a > b else "larger")
        texts.append(f"The number {a} is {word} than {b}.")
        labels.append(int(truthful))
    return texts, np.asarray(labels)


def cosines(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.cosine_similarity(a.flatten(0, -2).double(), b.flatten(0, -2).double(), dim=-1)


def probe_auroc(acts: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    half = len(labels) // 2
    clf = LogisticRegression(max_iter=2000).fit(acts[:half], labels[:half])
    return float(roc_auc_score(labels[half:], clf.decision_function(acts[half:])))


def steering_effect(lm, direction: torch.Tensor, layer: int) -> tuple[float, float]:
    prompt = lm.chat_prompt([{"role": "user", "content": "How do you feel about today?"}])
    plain = continuation_logprobs(lm, [prompt], ["I feel wonderful and happy."])[0].logprob
    vec = direction.to(lm.device, lm.dtype)
    with lm.intervene(layer, lambda h: h + vec, positions="all"):
        steered = continuation_logprobs(lm, [prompt], ["I feel wonderful and happy."])[0].logprob
    return plain, steered


def caa(lm, layer: int) -> torch.Tensor:
    positive = ["I love this, it is wonderful.", "What a great and happy day.", "This is excellent news."]
    negative = ["I hate this, it is awful.", "What a terrible and sad day.", "This is dreadful news."]
    acts = lm.capture(positive + negative, [layer])[:, 0]
    return acts[:3].mean(0) - acts[3:].mean(0)


def throughput(lm, texts: list[str], rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        lm.capture(texts, LAYERS, batch_size=32)
        if lm.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return len(texts) / float(np.median(times))


def judged(check: str, value: float, ok: bool, tolerance: str, fmt: str = "{:.4f}") -> Row:
    return Row(check, fmt.format(value), tolerance, "ok" if ok else "FAIL")


def gpu_rows(cpu, texts, labels, cpu_acts, cpu_dir, cpu_shift, cpu_auroc) -> list[Row]:
    rows: list[Row] = []
    gpu = load_model("smollm2", device="cuda", dtype="bf16")
    gpu_acts = gpu.capture(texts, LAYERS)
    worst = float(cosines(cpu_acts, gpu_acts).min())
    rows.append(judged("capture cosine (min over vectors), bf16 vs fp32", worst, worst >= 0.99, ">= 0.99"))
    if importlib.util.find_spec("nnsight"):
        nn = load_model("smollm2", device="cuda", dtype="bf16", backend="nnsight")
        worst_nn = float(cosines(gpu_acts, nn.capture(texts, LAYERS)).min())
        rows.append(judged("nnsight vs HF backend capture cosine (bf16)", worst_nn, worst_nn >= 0.999, ">= 0.999"))
    else:
        rows.append(Row("nnsight vs HF backend capture", "-", "", "skipped: nnsight not installed"))
    gpu_dir = caa(gpu, 15)
    cos = float(cosines(cpu_dir[None], gpu_dir[None]).item())
    rows.append(judged("CAA direction cosine, GPU vs CPU", cos, cos >= 0.99, ">= 0.99"))
    plain, steered = steering_effect(gpu, gpu_dir, 15)
    shift = steered - plain
    rel = abs(shift - cpu_shift) / max(abs(cpu_shift), 1e-6)
    rows.append(judged("steered log-prob shift, relative difference", rel, rel <= 0.10, "<= 0.10"))
    auroc = probe_auroc(gpu_acts[:, 1].float().numpy(), labels)
    gap = abs(auroc - cpu_auroc)
    rows.append(judged("truth probe AUROC difference (layer 15)", gap, gap <= 0.05, "<= 0.05"))
    ratio = throughput(gpu, texts * 8) / throughput(cpu, texts * 8, rounds=1)
    rows.append(Row("capture throughput GPU / CPU", f"{ratio:.1f}x", "reported", "ok"))
    return rows


def vllm_row() -> Row:
    if not torch.cuda.is_available():
        return Row("vLLM generation", "-", "", "skipped: no CUDA GPU")
    if importlib.util.find_spec("vllm") is None:
        return Row("vLLM generation", "-", "", "skipped: vllm not installed (pip install vllm)")
    from vllm import LLM, SamplingParams

    from overseer.models.embedded import embedded_dir

    llm = LLM(model=str(embedded_dir("smollm2")), dtype="bfloat16", gpu_memory_utilization=0.3)
    text = llm.generate(["The capital of France is"], SamplingParams(max_tokens=8, temperature=0))[0].outputs[0].text
    return Row("vLLM generation (SmolLM2, 8 tokens)", repr(text.strip())[:30], "non-empty", "ok" if text else "FAIL")


def main() -> int:
    start = time.perf_counter()
    texts, labels = statements(64)
    cpu = load_model("smollm2")
    cpu_acts = cpu.capture(texts, LAYERS)
    cpu_dir = caa(cpu, 15)
    plain, steered = steering_effect(cpu, cpu_dir, 15)
    cpu_auroc = probe_auroc(cpu_acts[:, 1].numpy(), labels)
    rows = [Row("CPU reference: steered log-prob shift", f"{steered - plain:+.3f}", "reported", "ok"),
            Row("CPU reference: truth probe AUROC (layer 15)", f"{cpu_auroc:.3f}", "reported", "ok")]
    if torch.cuda.is_available():
        rows += gpu_rows(cpu, texts, labels, cpu_acts, cpu_dir, steered - plain, cpu_auroc)
    else:
        rows.append(Row("GPU comparisons (capture, nnsight, CAA, steering, probe, throughput)", "-", "",
                        "skipped: torch sees no CUDA GPU"))
    rows.append(vllm_row())
    width = max(len(r.check) for r in rows)
    print(f"{'check'.ljust(width)}  {'value':>12}  {'tolerance':>10}  status")
    for r in rows:
        print(f"{r.check.ljust(width)}  {r.value:>12}  {r.tolerance:>10}  {r.status}")
    print(f"took {time.perf_counter() - start:.0f} s")
    return 1 if any(r.status == "FAIL" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

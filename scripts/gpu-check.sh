#!/usr/bin/env bash
# Set up .venv (first run only) and check SmolLM2 capture, steering and probes on a CUDA GPU in bf16
# against fp32 on the CPU; prints a table, exits 1 on a mismatch. On a CPU-only machine the GPU
# rows are skipped with the reason and it exits 0.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
exec .venv/bin/python bench/gpu_check.py "$@"

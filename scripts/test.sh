#!/usr/bin/env bash
# Set up .venv (first run only) and run the whole test suite plus the linter.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
.venv/bin/ruff check src tests bench
exec .venv/bin/python -m pytest "$@"

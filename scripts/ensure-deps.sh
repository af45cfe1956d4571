#!/usr/bin/env bash
# Installs what the platform needs on a fresh machine, or says exactly what is missing.
#  - npm packages (npm ci from the lockfile) when node_modules is absent or older than the lockfile
#  - Debian packages: PyTorch + OpenBLAS (the trainer), Fashion-MNIST (demo data), PostgreSQL and Chromium (tests)
# Run as root it installs with apt-get; otherwise it prints the apt-get line to run and fails.
# Prints nothing on success when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-deps: installing npm packages" >&2
  npm ci --no-audit --no-fund >&2
fi

DEBS=(python3-torch python3-numpy python3-pil python3-pytest python3-venv libopenblas0-pthread dataset-fashion-mnist postgresql chromium python3-matplotlib)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "ensure-deps: apt-get install ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    echo "ensure-deps: missing Debian packages: ${missing[*]}" >&2
    echo "  run: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# The trainer's Python: Debian's torch (above) plus what Debian does not package, in a project virtual environment
# that sees the system packages (.venv, git-ignored; scripts/python.sh picks it). Measured: about 12 s and 70 MB.
PY_REQS=("tokenizers>=0.22,<0.24")
if ! { [ -x .venv/bin/python ] && .venv/bin/python -c 'import torch, tokenizers' 2>/dev/null; }; then
  echo "ensure-deps: creating .venv (system site packages + ${PY_REQS[*]})" >&2
  /usr/bin/python3 -m venv --system-site-packages .venv >&2
  .venv/bin/pip install -q --disable-pip-version-check "${PY_REQS[@]}" >&2
fi

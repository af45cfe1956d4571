#!/usr/bin/env bash
# Prints the Python interpreter for the trainer: $RIL_PYTHON if set, else the project's .venv (made by
# scripts/ensure-deps.sh: Debian's torch + tokenizers), else the first python3 that can `import torch`
# (Debian's torch belongs to /usr/bin/python3, which may not be the python3 first on PATH).
set -euo pipefail
if [ -n "${RIL_PYTHON:-}" ]; then echo "$RIL_PYTHON"; exit 0; fi
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
for py in "$ROOT/.venv/bin/python" /usr/bin/python3 $(type -ap python3 2>/dev/null); do
  [ -x "$py" ] || continue
  if "$py" -c 'import torch' 2>/dev/null; then echo "$py"; exit 0; fi
done
echo "no python3 with torch found: install Debian's python3-torch (scripts/ensure-deps.sh) or set RIL_PYTHON" >&2
exit 1

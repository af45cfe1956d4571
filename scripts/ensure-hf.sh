#!/usr/bin/env bash
# The trainer's modern-PyTorch environment: .venv-hf (git-ignored) with PyPI's torch 2.x and the Hugging Face
# stack pinned in functions/trainer/requirements-hf.txt, plus the trainer itself installed from its pyproject
# (`pip install ./functions/trainer[hf,test]`, so packaging is tested too). Hugging Face students train here;
# Debian's torch 1.13 (.venv, scripts/ensure-deps.sh) stays the built-in family's fast CPU runtime.
# uv installs it (parallel downloads: about 2 min and 6 GB on a fresh machine, docs/hf-stack.md; pip takes 4-5 min).
# Prints the venv's python on stdout. Does nothing when the venv already matches the requirements file.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${RIL_HF_VENV:-$PWD/.venv-hf}"
REQS=functions/trainer/requirements-hf.txt
STAMP="$VENV/.requirements-hf.sha256"
want="$(sha256sum "$REQS" functions/trainer/pyproject.toml | sha256sum | cut -c1-64)"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then echo "$VENV/bin/python"; exit 0; fi
UV="$(command -v uv || true)"
if [ -z "$UV" ]; then
  # uv from PyPI into a private tool folder (no system pip changes)
  python3 -m venv "$PWD/.uv-tool" >&2
  "$PWD/.uv-tool/bin/pip" install -q --disable-pip-version-check "uv==0.13.9" >&2
  UV="$PWD/.uv-tool/bin/uv"
fi
echo "ensure-hf: building $VENV (torch 2.x + Hugging Face stack; about 2 min on a fresh machine)" >&2
"$UV" venv -q --allow-existing -p /usr/bin/python3 "$VENV" >&2
# bytecode compiled at install time: shells here set PYTHONDONTWRITEBYTECODE=1, and without .pyc every process
# recompiles torch and transformers (imports 2x slower, docs/hf-stack.md)
"$UV" pip install -q --python "$VENV/bin/python" --compile-bytecode -r "$REQS" >&2
"$UV" pip install -q --python "$VENV/bin/python" --compile-bytecode "./functions/trainer[hf,test]" >&2
echo "$want" > "$STAMP"
echo "$VENV/bin/python"

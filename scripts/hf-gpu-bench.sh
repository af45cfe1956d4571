#!/usr/bin/env bash
# The Hugging Face student benchmark on ONE CUDA GPU, in a few minutes: a SmolVLM-256M-shaped student (random
# weights, about 256M parameters, built from SmolVLMConfig: nothing is downloaded), full fine-tuning and LoRA r 16,
# an SFT step, a Dr.GRPO step and a RIL step each, bf16 autocast (functions/trainer/bench/hf_students.py,
# --preset smolvlm-256m). Prints the progress on stderr and a markdown table on stdout (docs/benchmarks.md says
# where it goes).
#
#   scripts/hf-gpu-bench.sh [extra hf_students.py flags, e.g. --steps 3 --questions 4]
#
# Needs only python with torch 2.x (CUDA), torchvision (the image processors), transformers 5.x, peft and Pillow
# (num2words, which SmolVLM's processor wants for videos only, is stood in for when missing), and this repository's
# functions/trainer: no npm, no node, no internet. The interpreter: $RIL_PYTHON if set, else the first python3 that
# imports all five. Refuses (exit 2) when torch sees no CUDA device.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${RIL_PYTHON:-}"
if [ -z "$PY" ]; then
  for py in "$PWD/.venv-hf/bin/python" $(type -ap python3 python 2>/dev/null) /usr/bin/python3; do
    [ -x "$py" ] || continue
    if "$py" -c 'import torch, torchvision, transformers, peft, PIL' 2>/dev/null; then PY="$py"; break; fi
  done
fi
if [ -z "$PY" ]; then
  echo "hf-gpu-bench.sh: no python with torch, torchvision, transformers, peft and Pillow found; set RIL_PYTHON" >&2
  exit 2
fi
if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  echo "hf-gpu-bench.sh: no CUDA device visible to torch ($PY); a CPU smoke instead:" \
    "bench/hf_students.py --preset smolvlm-256m --device cpu --steps 0 (docs/benchmarks.md)" >&2
  exit 2
fi
"$PY" -c 'import torch, transformers, peft; print("# device:", torch.cuda.get_device_name(0), "| torch",
  torch.__version__, "| transformers", transformers.__version__, "| peft", peft.__version__)' >&2
cd functions/trainer
exec timeout "${HF_GPU_BENCH_TIMEOUT:-540}" "$PY" bench/hf_students.py --preset smolvlm-256m --threads 4 "$@"

#!/usr/bin/env bash
# The RIL replication on ONE CUDA GPU, in under eight minutes: the same protocol as the CPU run
# (functions/trainer/ril_trainer/replicate.py, budget "gpu": `small` student, two RL epochs, 5 seeds,
# both ablations), several training processes sharing the device (--jobs, default 8).
#
#   scripts/replicate-gpu.sh --data DIR [--out DIR] [--jobs N] [extra replicate.py flags]
#
# --data is REQUIRED: the target machine has torch 2.x but no internet and no npm/node, so the dataset
# cannot be built there. Build it beforehand, where the repo's CLI works, and carry it along:
#
#   ril data fashion-mnist --questions extended --limit 3000 --seed 1 --out shared/fmvqa-x
#
# Output goes to its own directory (default docs/replication/gpu): its table.md is reported as a
# separate table, never merged with the CPU table. Refuses (exit 2) when torch sees no CUDA device.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="" OUT="docs/replication/gpu" JOBS=8 EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    *) EXTRA+=("$1"); shift ;;
  esac
done
PY=$(bash scripts/python.sh)
if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() and torch.cuda.device_count() > 0 else 1)'; then
  echo "replicate-gpu.sh: no CUDA device visible to torch ($PY); this script only runs the GPU protocol (use python3 -m ril_trainer.replicate for CPU)" >&2
  exit 2
fi
if [ -z "$DATA" ] || [ ! -f "$DATA/examples.jsonl" ]; then
  echo "replicate-gpu.sh: --data DIR of an extended Fashion-MNIST VQA build is required (no node here to build it): see the header of $0" >&2
  exit 2
fi
DATA=$(cd "$DATA" && pwd)
OUT=$(mkdir -p "$OUT" && cd "$OUT" && pwd)
"$PY" -c 'import torch; print("device:", torch.cuda.get_device_name(0), "torch", torch.__version__)'
cd functions/trainer
exec timeout 480 "$PY" -m ril_trainer.replicate --device cuda --jobs "$JOBS" --data "$DATA" --out "$OUT" \
  --runs "${RIL_REPLICATION_RUNS:-/tmp/ril-replication-runs-gpu}" "${EXTRA[@]}"

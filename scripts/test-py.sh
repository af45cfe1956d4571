#!/usr/bin/env bash
# The Python trainer's tests (pytest), with the interpreter that has torch (scripts/python.sh).
# `npm run test:py` runs this, and scripts/test.sh calls it: one definition of how the trainer is tested.
# Extra arguments go to pytest (e.g. -k name).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="$(bash scripts/python.sh)"
cd functions/trainer
exec "$PY" -m pytest -q -p no:cacheprovider tests "$@"

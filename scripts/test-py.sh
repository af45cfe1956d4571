#!/usr/bin/env bash
# The Python trainer's tests (pytest), with the interpreter that has torch (scripts/python.sh).
# `npm run test:py` runs this, and scripts/test.sh calls it: one definition of how the trainer is tested.
# Extra arguments go to pytest (e.g. -k name); test files given first (tests/test_x.py ...) replace the whole directory.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="$(bash scripts/python.sh)"
cd functions/trainer
# --durations: the slowest tests' times in every log, to see how close a loaded CI machine comes to their timeouts
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then exec "$PY" -m pytest -q -p no:cacheprovider --durations=8 "$@"; fi
exec "$PY" -m pytest -q -p no:cacheprovider --durations=8 tests "$@"

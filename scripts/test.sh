#!/usr/bin/env bash
# The whole test suite: TypeScript on SQLite, TypeScript on PostgreSQL, the Python trainer on Debian's torch 1.13
# and on PyPI's torch 2.x with the Hugging Face stack.
# `npm test` runs this; it installs what is missing first (scripts/ensure-deps.sh, scripts/ensure-hf.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
# Two cores, several passes: the TypeScript passes run in the foreground, one file at a time (many of their tests wait
# on servers and databases, so a core is often idle), while the Python suites run beside them in the background at a
# lower priority (nice: the TypeScript tests' timeouts keep the CPU they need). Each background pass writes its own
# log, printed whole (in order) when it is waited for, so the output stays readable; any failure fails the run.
LOGS="$(mktemp -d)"
# The torch 2.x venv (about 6 GB, 1.5-2 min on a fresh machine, mostly download) builds in the background; the
# passes that need it wait for its marker.
HF_OUT="$LOGS/hf-python"
( if bash scripts/ensure-hf.sh >"$HF_OUT.tmp" 2>"$LOGS/ensure-hf.log"; then mv "$HF_OUT.tmp" "$HF_OUT"; else echo failed >"$LOGS/ensure-hf.failed"; fi ) &
HF_PID=$!
hf_python() { # waits for the torch 2.x venv; prints its python, or fails
  while [ ! -e "$HF_OUT" ] && [ ! -e "$LOGS/ensure-hf.failed" ]; do sleep 2; done
  if [ -e "$LOGS/ensure-hf.failed" ]; then cat "$LOGS/ensure-hf.log" >&2; echo "scripts/ensure-hf.sh failed: the torch 2.x environment is missing" >&2; return 1; fi
  cat "$HF_OUT"
}
export NODE_OPTIONS="${NODE_OPTIONS:-} --no-warnings"
# Files that start "// Needs: RIL_HF_PYTHON" drive the torch 2.x environment: they run once it is built, beside the
# PostgreSQL pass.
mapfile -t HF_TS_TESTS < <(grep -l '^// Needs: RIL_HF_PYTHON' test/*.test.ts)
mapfile -t TS_TESTS < <(grep -L '^// Needs: RIL_HF_PYTHON' test/*.test.ts)
# Files marked "// Database: none" do not touch the database: they run once, in the SQLite pass. So do files marked
# "// Database: once": slow ones (a headless browser) whose database paths other files cover on both databases.
mapfile -t PG_TESTS < <(grep -L -E '^// Database: (none|once)' "${TS_TESTS[@]}")
npm run --silent check:boundaries
npm run --silent check:functions
# the dashboard the browser tests load is the built one: rebuild it from the sources under test
npm run --silent build:web >/dev/null
# and the CLI the tests spawn runs compiled, as users run it: rebuild it from the sources under test (the bin would
# otherwise fall back to the sources through tsx, slower but the same code)
npm run --silent build:cli >/dev/null

# Background: the trainer on Debian's torch 1.13 (all of it), then on PyPI's torch 2.x with the Hugging Face stack: the
# Hugging Face students, the TRL cross-check, and every test of the code torch's version can change (the model,
# sampling, the losses and updates, checkpoints, ranks, ONNX export). The rest (worker plumbing, judges, suites,
# statistics, the replication tables) does not depend on torch's version and runs on 1.13; `npm run test:py:hf` runs
# all of it on 2.x (it passes: about 6 min more on two cores).
( nice -n 10 bash scripts/test-py.sh \
  && HFPY="$(hf_python)" && RIL_PYTHON="$HFPY" nice -n 10 bash scripts/test-py.sh tests/test_hf_students.py tests/test_hf_eval.py tests/test_sharding.py tests/test_trl_crosscheck.py \
    tests/test_rl.py tests/test_sft.py tests/test_model_sampling.py tests/test_checkpoint_safety.py \
    tests/test_distributed.py tests/test_export_cli.py tests/test_export_hf.py tests/test_imports.py tests/test_schema.py ) \
  >"$LOGS/python.log" 2>&1 &
PY_PID=$!

echo "== TypeScript tests on SQLite =="
RIL_TEST_DB=sqlite node --import tsx --test --test-reporter=spec "${TS_TESTS[@]}"

# Background, beside the PostgreSQL pass: the files that drive the torch 2.x environment (SQLite only)
( HFPY="$(hf_python)" && RIL_HF_PYTHON="$HFPY" RIL_TEST_DB=sqlite nice -n 10 node --import tsx --test --test-reporter=spec "${HF_TS_TESTS[@]}" ) \
  >"$LOGS/hf-ts.log" 2>&1 &
HF_TS_PID=$!

echo "== TypeScript tests on PostgreSQL =="
RIL_TEST_PG_URL="$(bash scripts/pg-start.sh)" RIL_TEST_DB=postgres node --import tsx --test --test-reporter=spec "${PG_TESTS[@]}"

status=0
echo "== Python trainer tests (torch 1.13, Debian; then torch 2.x from PyPI, Hugging Face students) =="
wait "$PY_PID" || status=1
cat "$LOGS/python.log"
echo "== Hugging Face students through the platform (TypeScript, SQLite) =="
wait "$HF_TS_PID" || status=1
cat "$LOGS/hf-ts.log"
wait "$HF_PID" || true
if [ "$status" -ne 0 ]; then echo "a background pass failed (see its log above)" >&2; exit 1; fi

#!/usr/bin/env bash
# The whole test suite: TypeScript on SQLite, TypeScript on PostgreSQL, the Python trainer on Debian's torch 1.13
# and on PyPI's torch 2.x with the Hugging Face stack.
# `npm test` runs this; it installs what is missing first (scripts/ensure-deps.sh, scripts/ensure-hf.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
# The torch 2.x venv (about 6 GB, 1.5-2 min on a fresh machine, mostly download) builds in the background while the
# TypeScript passes run; the Python pass on it waits for it.
HF_OUT="$(mktemp)"
bash scripts/ensure-hf.sh >"$HF_OUT" 2>"$HF_OUT.log" &
HF_PID=$!
export NODE_OPTIONS="${NODE_OPTIONS:-} --no-warnings"
# Files that start "// Needs: RIL_HF_PYTHON" drive the torch 2.x environment: they run at the end, once it is built.
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

echo "== TypeScript tests on SQLite =="
RIL_TEST_DB=sqlite node --import tsx --test --test-reporter=spec "${TS_TESTS[@]}"

echo "== TypeScript tests on PostgreSQL =="
RIL_TEST_PG_URL="$(bash scripts/pg-start.sh)" RIL_TEST_DB=postgres node --import tsx --test --test-reporter=spec "${PG_TESTS[@]}"

echo "== Python trainer tests (torch 1.13, Debian) =="
bash scripts/test-py.sh

echo "== Python trainer tests (torch 2.x from PyPI, Hugging Face students) =="
if ! wait "$HF_PID"; then cat "$HF_OUT.log" >&2; echo "scripts/ensure-hf.sh failed: the torch 2.x environment is missing" >&2; exit 1; fi
# On torch 2.x: the Hugging Face students, the TRL cross-check, and every test of the code torch's version can change
# (the model, sampling, the losses and updates, checkpoints, ranks, ONNX export). The rest (worker plumbing, judges,
# suites, statistics, the replication tables) does not depend on torch's version and runs on 1.13 above;
# `npm run test:py:hf` runs all of it on 2.x (it passes: about 6 min more on two cores).
RIL_PYTHON="$(cat "$HF_OUT")" bash scripts/test-py.sh tests/test_hf_students.py tests/test_trl_crosscheck.py \
  tests/test_rl.py tests/test_sft.py tests/test_model_sampling.py tests/test_checkpoint_safety.py \
  tests/test_distributed.py tests/test_export_cli.py tests/test_export_hf.py tests/test_imports.py tests/test_schema.py

echo "== Hugging Face students through the platform (TypeScript, SQLite) =="
RIL_HF_PYTHON="$(cat "$HF_OUT")" RIL_TEST_DB=sqlite node --import tsx --test --test-reporter=spec "${HF_TS_TESTS[@]}"

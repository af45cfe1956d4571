#!/usr/bin/env bash
# The whole test suite: TypeScript on SQLite, TypeScript on PostgreSQL, the Python trainer.
# `npm test` runs this; it installs what is missing first (scripts/ensure-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
export NODE_OPTIONS="${NODE_OPTIONS:-} --no-warnings"
TS_TESTS=(test/*.test.ts)
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
RIL_TEST_PG_URL="$(bash scripts/pg-start.sh)" RIL_TEST_DB=postgres node --import tsx --test --test-reporter=spec "${TS_TESTS[@]}"

echo "== Python trainer tests =="
bash scripts/test-py.sh

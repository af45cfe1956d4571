#!/usr/bin/env bash
# `npm run demo`: installs what is missing, then runs `ril demo` on the embedded defaults
# (SQLite + local blob store under RIL_HOME, default ./.ril).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
node clients/cli/bin/ril.js migrate >/dev/null
exec node clients/cli/bin/ril.js demo "$@"

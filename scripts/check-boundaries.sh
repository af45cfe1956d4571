#!/usr/bin/env bash
# `npm run check:boundaries`: the import boundaries of both languages.
#  - TypeScript: dependency-cruiser with .dependency-cruiser.cjs (no cycles; clients/ and functions/ use only the
#    api/_lib facade; api/_lib imports none of its users; route files wire only the library; the SDK stands alone).
#  - Python: functions/trainer/tests/test_imports.py (no cycles; the algorithm modules never import the worker).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== TypeScript import boundaries (dependency-cruiser) =="
npx --no-install depcruise --config .dependency-cruiser.cjs api clients functions test bench prisma
echo "== Python import boundaries (ril_trainer) =="
PY="$(bash scripts/python.sh)"
(cd functions/trainer && "$PY" -m pytest -q -p no:cacheprovider tests/test_imports.py)

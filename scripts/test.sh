#!/usr/bin/env bash
# Runs every test against a real local stack (Temporal dev server, MongoDB-wire server, AWS emulator),
# building the servers on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null || { echo "Node.js 20.3+ is required" >&2; exit 1; }
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
if [ $# -eq 0 ]; then
  npx tsc -p tsconfig.json --noEmit
  npx eslint .
  npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }
fi
exec node --import tsx scripts/stack.ts test "$@"

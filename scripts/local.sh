#!/usr/bin/env bash
# Starts the whole local stack, the worker, and a demo sync to watch in the Temporal Web UI.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null || { echo "Node.js 20.3+ is required" >&2; exit 1; }
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
exec node --import tsx scripts/stack.ts local "$@"

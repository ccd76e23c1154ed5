#!/usr/bin/env bash
# Runs every test against a real local stack (Temporal dev server, MongoDB-wire server, AWS emulator),
# building the servers on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null || { echo "Node.js 20.3+ is required" >&2; exit 1; }
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# The Web UI tests drive Debian's Chromium (no browser download); install it on a bare machine.
if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the Web UI tests (first run only)..."
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get install -y -q chromium >/dev/null 2>&1 ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q chromium >/dev/null; } ||
    echo "Could not install chromium; the Web UI tests will fail (set CHROMIUM_PATH to a Chromium binary)" >&2
fi
if [ $# -eq 0 ]; then
  npx tsc -p tsconfig.json --noEmit
  npx eslint .
  npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }
fi
exec node --import tsx scripts/stack.ts test "$@"

#!/usr/bin/env bash
# Runs the tests (all of them, or the mocha arguments given) against a real local stack: Temporal dev
# server, MongoDB-wire server, AWS emulator, building the servers on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
# Go's official tarball installs outside the default PATH.
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then PATH="$PATH:/usr/local/go/bin"; fi
command -v node >/dev/null || { echo "Node.js 20.3+ is required (https://nodejs.org or the distribution's nodejs package)" >&2; exit 1; }
# Go builds the Temporal CLI and the FerretDB wrapper; servers given by address, on PATH, or built need none.
needs_go() {
  { [ -z "${TEMPORAL_ADDRESS:-}" ] && ! command -v temporal >/dev/null && [ ! -x .tools/bin/temporal ]; } ||
    { [ -z "${MONGODB_URI:-}" ] && ! command -v mongod >/dev/null && [ ! -x .tools/bin/ferretdb-sqlite ]; }
}
if ! command -v go >/dev/null && needs_go; then
  echo "Go 1.24+ is required to build the local Temporal and MongoDB-wire servers (or set TEMPORAL_ADDRESS and MONGODB_URI)" >&2
  exit 1
fi
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
  node --import tsx scripts/lint-templates.ts
  scripts/cfn-lint.sh
fi
# The worker-process tests run the compiled worker and its prebuilt workflow bundle (dist/).
build_log=$(npm run --silent build 2>&1) || { echo "$build_log" >&2; echo "npm run build failed" >&2; exit 1; }
exec node --import tsx scripts/stack.ts test "$@"

#!/usr/bin/env bash
# Runs the tests (all of them, or the mocha arguments given; --quick for the inner loop) against a real local
# stack: Temporal dev server, MongoDB-wire server, AWS emulator, SQS, building the servers on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prerequisites.sh
# The inner loop between edits: typecheck, lint, unit, replay and the workflow tests with stub activities.
if [ "${1:-}" = "--quick" ]; then
  shift
  npx tsc -p tsconfig.json --noEmit
  npx eslint src test
  exec node --import tsx scripts/stack.ts test 'test/unit/**/*.test.ts' test/replay.test.ts 'test/workflows/**/*.test.ts' "$@"
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

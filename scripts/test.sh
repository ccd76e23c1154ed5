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
# The static checks, and the build the worker-process tests run (the compiled worker and its prebuilt workflow
# bundle in dist/): independent of each other, so they run side by side; each one's output is shown if it fails.
checks=$(mktemp -d)
trap 'rm -rf "$checks"' EXIT
names=()
check() {
  local name=$1
  shift
  names+=("$name")
  ("$@" >"$checks/$name.log" 2>&1 && echo 0 >"$checks/$name.rc" || echo $? >"$checks/$name.rc") &
}
if [ $# -eq 0 ]; then
  check typecheck npx tsc -p tsconfig.json --noEmit
  check eslint npx eslint .
  check prettier npx prettier --check .
  check templates sh -c 'node --import tsx scripts/lint-templates.ts && scripts/cfn-lint.sh'
fi
check build npm run --silent build
wait
failed=""
for name in "${names[@]}"; do
  # No exit code written (the job was killed) counts as a failure too.
  if [ "$(cat "$checks/$name.rc" 2>/dev/null)" != 0 ]; then
    cat "$checks/$name.log" >&2
    failed="$failed $name"
  elif [ "$name" = templates ]; then
    cat "$checks/$name.log"
  fi
done
rm -rf "$checks"
trap - EXIT
[ -z "$failed" ] || { echo "failed:$failed" >&2; exit 1; }
exec node --import tsx scripts/stack.ts test "$@"

#!/usr/bin/env bash
# Runs AWS's cfn-lint (the PyPI package, pinned) on deploy/, installing it into .tools/cfn-lint on first use.
# Where PyPI cannot be reached it says so and leaves deploy/ to scripts/lint-templates.ts, which always runs.
set -euo pipefail
cd "$(dirname "$0")/.."
CFN_LINT_VERSION=1.20.0
venv=.tools/cfn-lint
# A failed install is remembered for a day, so every test run on a machine without PyPI does not pay for it again.
unavailable=.tools/cfn-lint.unavailable
not_here="cfn-lint $CFN_LINT_VERSION: not installable here (no PyPI); deploy/ checked by scripts/lint-templates.ts only"
if [ "$(cat "$venv/.version" 2>/dev/null)" != "$CFN_LINT_VERSION" ]; then
  if [ -n "$(find "$unavailable" -mmin -1440 2>/dev/null)" ] && [ "$(cat "$unavailable")" = "$CFN_LINT_VERSION" ]; then
    echo "$not_here (install last tried $(date -r "$unavailable" -u +%FT%TZ); rm $unavailable to retry)" >&2
    exit 0
  fi
  rm -rf "$venv"
  if ! command -v python3 >/dev/null ||
    ! python3 -m venv "$venv" >/dev/null 2>&1 ||
    ! "$venv/bin/pip" install -q --retries 1 --timeout 15 "cfn-lint==$CFN_LINT_VERSION" >/dev/null 2>&1; then
    rm -rf "$venv"
    mkdir -p .tools && echo "$CFN_LINT_VERSION" >"$unavailable"
    echo "$not_here" >&2
    exit 0
  fi
  rm -f "$unavailable"
  echo "$CFN_LINT_VERSION" >"$venv/.version"
fi
exec "$venv/bin/cfn-lint" deploy/*.yaml

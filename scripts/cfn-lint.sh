#!/usr/bin/env bash
# Runs AWS's cfn-lint (the PyPI package, pinned) on deploy/, installing it into .tools/cfn-lint on first use.
# Where PyPI cannot be reached it says so and leaves deploy/ to scripts/lint-templates.ts, which always runs.
set -euo pipefail
cd "$(dirname "$0")/.."
CFN_LINT_VERSION=1.20.0
venv=.tools/cfn-lint
if [ "$(cat "$venv/.version" 2>/dev/null)" != "$CFN_LINT_VERSION" ]; then
  rm -rf "$venv"
  if ! command -v python3 >/dev/null ||
    ! python3 -m venv "$venv" >/dev/null 2>&1 ||
    ! "$venv/bin/pip" install -q --retries 1 --timeout 15 "cfn-lint==$CFN_LINT_VERSION" >/dev/null 2>&1; then
    rm -rf "$venv"
    echo "cfn-lint $CFN_LINT_VERSION: not installable here (no PyPI); deploy/ checked by scripts/lint-templates.ts only" >&2
    exit 0
  fi
  echo "$CFN_LINT_VERSION" >"$venv/.version"
fi
exec "$venv/bin/cfn-lint" deploy/*.yaml

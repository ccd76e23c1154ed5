#!/usr/bin/env bash
# Starts the whole local stack, the worker, and a demo sync to watch in the Temporal Web UI.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prerequisites.sh
exec node --import tsx scripts/stack.ts local "$@"

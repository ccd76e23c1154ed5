# Sourced by scripts/local.sh and scripts/test.sh (from the repository root): checks Node.js and Go, and installs
# the npm dependencies when package-lock.json is newer than node_modules.
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

#!/usr/bin/env bash
# Set up, start nothing by hand: lint, type-check and run the whole test suite.
# Services the tests need (PostgreSQL, an S3 endpoint, the API server) are started by the tests
# themselves on 127.0.0.1 and stopped by PID; this script only makes sure their programs are installed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
if [ "$#" -eq 0 ]; then
  # The SageMaker SDK venvs the client tests use take minutes to build on a fresh clone: build them
  # while lint, type checks and the first tests run (the client tests' fixture waits for the build).
  setsid scripts/sdk-venvs.sh >/dev/null &
  sdk_build=$!
  trap 'kill -- "-$sdk_build" 2>/dev/null || true' EXIT  # lint failed: leave no build behind
fi

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[test] installing postgresql" >&2
    (apt-get install -y -qq postgresql >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq postgresql; }) >&2
  else
    echo "[test] PostgreSQL server binaries are missing; install the postgresql package" >&2
    exit 1
  fi
fi

.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
.venv/bin/mypy
trap - EXIT
exec .venv/bin/pytest "$@"

#!/usr/bin/env bash
# Set up, then run the quickstart: built-in XGBoost on a bundled dataset through the whole machinery.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/trainplane quickstart "$@"

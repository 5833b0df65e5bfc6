#!/usr/bin/env bash
# Set up trainplane in ./.venv (idempotent). `scripts/setup.sh dev` adds the test and lint tools.
#
# PyTorch is installed first, pinned to the CPU build (TORCH_SPEC overrides it, e.g. on a GPU machine):
# the package itself only asks for a range, which the pinned wheel satisfies, so pip never pulls a
# multi-GB CUDA build as a side effect.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
extras=${1:-}

log() { printf '[setup] %s\n' "$*" >&2; }

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "trainplane needs Python >= 3.11 ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi

# bubblewrap gives script and container-style jobs a private /opt/ml; without it they run with SM_* paths.
if ! command -v bwrap >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "installing bubblewrap"
  (apt-get install -y -qq bubblewrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq bubblewrap; }) >&2
fi

if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PYTHON" -m venv .venv
fi
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@" 2> >(grep -v '^WARNING: Location' >&2); }

if ! .venv/bin/python -c 'import torch' >/dev/null 2>&1; then
  log "installing $TORCH_SPEC"
  pip install "$TORCH_SPEC"
fi
if [ -n "$extras" ]; then target=".[$extras]"; else target="."; fi
log "installing trainplane $target"
pip install -e "$target"
# An editable install leaves src/ uncompiled, and where PYTHONDONTWRITEBYTECODE is set (this project's
# dev machine) nothing ever caches it: every agent, algorithm process and CLI call would compile
# trainplane from source (0.3-0.5 s each). Stale .pyc files are harmless: Python checks the source's
# mtime and compiles an edited module in memory.
.venv/bin/python -m compileall -q -j 0 src >/dev/null
log "ready: .venv/bin/trainplane"

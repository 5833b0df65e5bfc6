#!/usr/bin/env bash
# Create the SageMaker SDK virtual environments the client tests use (tests/clients/):
#   .venv-sdk2  sagemaker==2.257.*  (Estimator, SKLearn, image_uris)
#   .venv-sdk3  sagemaker==3.27.*   (ModelTrainer, TrainingJob)
# v2 and v3 cannot share an environment (same import name, incompatible dependency pins), hence two.
# Idempotent: an environment whose sagemaker already matches is left alone. Each environment holds a
# .gitignore with "*" (as `python -m venv` does from 3.13 on) so it never shows up in git status.
#
# Usage: scripts/sdk-venvs.sh [sdk2|sdk3 ...]   (default: both); PYTHON picks the interpreter.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"

make_venv() {
    local name="$1" spec="$2" prefix="$3"
    local dir="$root/.venv-$name"
    if [[ -x "$dir/bin/python" ]] && "$dir/bin/python" - "$prefix" <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version
sys.exit(0 if version("sagemaker").startswith(sys.argv[1]) else 1)
PY
        echo "$dir: sagemaker $("$dir/bin/python" -c 'from importlib.metadata import version; print(version("sagemaker"))') already installed"
        return 0
    fi
    echo "$dir: installing $spec"
    "$python" -m venv "$dir"
    printf '*\n' > "$dir/.gitignore"
    "$dir/bin/python" -m pip install --quiet "$spec"
}

targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(sdk2 sdk3)
for target in "${targets[@]}"; do
    case "$target" in
        sdk2) make_venv sdk2 "sagemaker==2.257.*" "2.257." ;;
        sdk3) make_venv sdk3 "sagemaker==3.27.*" "3.27." ;;
        *) echo "unknown target $target (expected sdk2 or sdk3)" >&2; exit 2 ;;
    esac
done

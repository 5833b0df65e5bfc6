#!/usr/bin/env bash
# Create the SageMaker SDK virtual environments the client tests use (tests/clients/):
#   .venv-sdk2  sagemaker==2.257.*  (Estimator, SKLearn, image_uris)
#   .venv-sdk3  sagemaker==3.27.*   (ModelTrainer, TrainingJob)
# v2 and v3 cannot share an environment (same import name, incompatible dependency pins), hence two.
# Idempotent: an environment whose sagemaker already matches is left alone. Each environment holds a
# .gitignore with "*" (as `python -m venv` does from 3.13 on) so it never shows up in git status.
# The environments are built side by side (5:06 one after the other, 3:39 together on 2 cores). pip
# still byte-compiles them: with PYTHONDONTWRITEBYTECODE set (as on the dev machine) nothing would cache
# the compiled modules, and `import sagemaker` (v2) takes 5-7 s instead of 3 s in every SDK program.
# Each build holds a lock (.venv-NAME.lock), so a second caller (scripts/test.sh starts one in the
# background, tests/clients/conftest.py asks for the one it needs) waits for it instead of racing it.
#
# Usage: scripts/sdk-venvs.sh [sdk2|sdk3 ...]   (default: both); PYTHON picks the interpreter.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"

installed() {  # .complete: written after pip succeeded, so a build that was cut off never counts
    local dir="$1" prefix="$2"
    [[ -f "$dir/.complete" && -x "$dir/bin/python" ]] && "$dir/bin/python" - "$prefix" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("sagemaker").startswith(sys.argv[1]) else 1)
PY
}

make_venv() {
    local name="$1" spec="$2" prefix="$3"
    local dir="$root/.venv-$name"
    exec 9>"$dir.lock"
    flock 9
    if installed "$dir" "$prefix"; then
        echo "$dir: sagemaker $("$dir/bin/python" -c 'from importlib.metadata import version; print(version("sagemaker"))') already installed"
        return 0
    fi
    echo "$dir: installing $spec"
    rm -rf "$dir"  # a build cut off half-way: start over
    "$python" -m venv "$dir"
    printf '*\n' > "$dir/.gitignore"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$spec" \
        2> >(grep -v '^WARNING: Location' >&2)
    touch "$dir/.complete"
    installed "$dir" "$prefix"
}

targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(sdk2 sdk3)
builds=()
for target in "${targets[@]}"; do
    case "$target" in
        sdk2) make_venv sdk2 "sagemaker==2.257.*" "2.257." & ;;
        sdk3) make_venv sdk3 "sagemaker==3.27.*" "3.27." & ;;
        *) echo "unknown target $target (expected sdk2 or sdk3)" >&2; exit 2 ;;
    esac
    builds+=($!)
done
status=0
for pid in "${builds[@]}"; do
    wait "$pid" || status=1
done
exit "$status"

#!/usr/bin/env bash
# The benchmark (bench/run.py): installs what it needs like the tests do (the venv, the control
# plane, kwok; cached), then runs it on a local cluster of its own. Arguments go to bench/run.py.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/system-deps.sh
source hack/python-env.sh
hack/build-control-plane.sh >/dev/null
hack/build-tools.sh kwok >/dev/null
exec python bench/run.py "$@"

#!/usr/bin/env bash
# The one install of the project into a virtualenv. The images' builder stages run it
# (images/*/Dockerfile), CI runs it the same way on the same files (hack/check-images.sh), and
# hack/python-env.sh runs it with --editable for development.
#
#   hack/install-python.sh [--editable] VENV [EXTRAS]
#   hack/install-python.sh /opt/venv                  the operator image: no extras
#   hack/install-python.sh /opt/venv runtime          the runtime image
#
# VENV is created with the python3 on PATH (or reused), and the project is installed from the
# checkout this script is in, with EXTRAS (comma-separated, from pyproject.toml). Its inputs are
# pinned as far as the project pins them: pip at PIP_VERSION, then pyproject.toml's requirements
# (exact versions where it gives them, ranges elsewhere; there is no lock file). A non-editable
# install builds in the checkout (setuptools writes build/ and *.egg-info there): the image builds
# run it on their build context's copy, CI on a staged copy.
set -euo pipefail
PIP_VERSION=26.3

editable=()
if [[ ${1:-} == --editable ]]; then
  editable=(--editable)
  shift
fi
venv=${1:?usage: hack/install-python.sh [--editable] VENV [EXTRAS]}
extras=${2:-}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "pip==$PIP_VERSION"
"$venv/bin/pip" install --quiet "${editable[@]}" "$repo${extras:+[$extras]}"

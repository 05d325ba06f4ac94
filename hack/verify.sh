#!/usr/bin/env bash
# Checks that need no cluster, run first by the test command: generated files match the models,
# the code is lint-clean, and the layers import only downwards (kopf and the Kubernetes client only
# in handlers/ and the kube/ adapter). Run with the project's virtualenv active.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m mlops_operator.api.crdgen --check crds/ --chart charts/mlops-operator/templates/crds
python -m mlops_operator.api.docgen --check docs/api.md
ruff check operator tests hack
lint-imports --no-cache
echo "verify: ok"

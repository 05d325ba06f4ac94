#!/usr/bin/env bash
# Checks that need no cluster, run first by the test command: generated files match the models,
# the code is lint-clean, the layers import only downwards (kopf and the Kubernetes client only
# in handlers/ and the kube/ adapter), the Helm chart lints and renders, its alert rules pass
# promtool's checks and tests, and manifests/install (kubectl apply -k) is what the chart's defaults
# render. Run with the project's virtualenv active. helm and promtool are built from their pinned Go
# modules on first use (cached afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m mlops_operator.api.crdgen --check crds/ --chart charts/mlops-operator/templates/crds
python -m mlops_operator.kube.rbac --check charts/mlops-operator/templates/_rules.tpl
python -m mlops_operator.api.docgen --check docs/api.md
python hack/argocd_cm.py --check
python hack/alerts.py --check
ruff check operator tests hack bench
lint-imports --no-cache

helm="$(hack/build-tools.sh | tail -n 1)/helm"
chart=charts/mlops-operator
# No cluster is asked for anything: template and lint render client-side.
export KUBECONFIG=/dev/null
"$helm" lint --strict "$chart"
"$helm" lint --strict "$chart" --set 'rbac.namespaces={team-a,team-b}'
"$helm" template mlops "$chart" --namespace mlops-system >/dev/null
"$helm" template mlops "$chart" --namespace mlops-system --set 'rbac.namespaces={team-a,team-b}' >/dev/null
monitoring=(--set metrics.serviceMonitor.enabled=true --set metrics.podMonitor.enabled=true
            --set metrics.prometheusRule.enabled=true --set metrics.dashboard.enabled=true)
"$helm" lint --strict "$chart" "${monitoring[@]}"
promtool="$(hack/build-tools.sh prometheus | tail -n 1)/promtool"
"$promtool" check rules --lint=all --lint-fatal "$chart/files/alerts.yaml"
"$promtool" test rules tests/unit/monitoring/alerts_test.yaml
python hack/install_manifests.py --check --helm "$helm"
echo "verify: ok"

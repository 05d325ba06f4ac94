#!/usr/bin/env bash
# The main job on the local cluster, as far as it is built: start the control plane and the
# operator, apply the example pipeline and show what the operator recorded. Ctrl-C or the end
# of the script stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/python-env.sh
namespace=mlops-demo
state_dir="$MLOPS_CACHE_DIR/demo-cluster"
operator_pid=""

cleanup() {
  [[ -n "$operator_pid" ]] && kill -TERM "$operator_pid" 2>/dev/null && wait "$operator_pid" || true
  python hack/localcluster.py down --state-dir "$state_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python hack/localcluster.py down --state-dir "$state_dir"  # a run stopped hard before leaves state behind
python hack/localcluster.py up --state-dir "$state_dir" >/dev/null
eval "$(python hack/localcluster.py env --state-dir "$state_dir")"
kubectl apply --server-side -f crds/ >/dev/null
kubectl wait --for=condition=Established -f crds/ --timeout=60s >/dev/null
kubectl create namespace "$namespace" --dry-run=client -o yaml | kubectl apply -f - >/dev/null

python -m mlops_operator -n "$namespace" --liveness http://127.0.0.1:18080/healthz >"$state_dir/operator.log" 2>&1 &
operator_pid=$!
kubectl apply -n "$namespace" -f manifests/examples/
echo "waiting for the operator to record every object..."
kubectl wait -n "$namespace" --for=jsonpath='{.status.conditions[0].reason}'=Reconciling \
  datasets,experiments,models,deployments.mlops.dev --all --timeout=60s >/dev/null
kubectl get mlops -n "$namespace"
echo
echo "operator log: $state_dir/operator.log"

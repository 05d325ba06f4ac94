#!/usr/bin/env bash
# The main job on the local cluster, as far as it is built: start the control plane, the local
# node and the operator, write the example data set, apply the example Dataset and Experiment,
# follow the sweep until the best trial is known, then its Model version through the gate until it
# holds the champion alias, then serve it and send a few prediction requests to its Service. On a
# terminal it then waits for Ctrl-C so you can look around with kubectl; either way it stops
# everything it started when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/system-deps.sh
source hack/python-env.sh
namespace=mlops-demo
state_dir="$MLOPS_CACHE_DIR/demo-cluster"
data=/tmp/mlops-demo/breast-cancer.csv
operator_pid=""
watch_pid=""

cleanup() {
  trap - EXIT INT TERM
  [[ -n "$watch_pid" ]] && kill "$watch_pid" 2>/dev/null || true
  [[ -n "$operator_pid" ]] && kill -TERM "$operator_pid" 2>/dev/null && wait "$operator_pid" 2>/dev/null || true
  python hack/localcluster.py down --state-dir "$state_dir"
  echo "demo stopped: no process of it is left"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python hack/localcluster.py down --state-dir "$state_dir"  # a run stopped hard before leaves state behind
python hack/localcluster.py up --state-dir "$state_dir" >/dev/null
eval "$(python hack/localcluster.py env --state-dir "$state_dir")"
kubectl apply --server-side -f crds/ >/dev/null
kubectl wait --for=condition=Established -f crds/ --timeout=60s >/dev/null
kubectl create namespace "$namespace" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
# The pipeline runs where Pod Security "restricted" is enforced, as on a hardened cluster.
kubectl label namespace "$namespace" --overwrite pod-security.kubernetes.io/enforce=restricted >/dev/null

python -m mlops_operator.runtime.examples.write_data "$data"
python -m mlops_operator -n "$namespace" --liveness http://127.0.0.1:18080/healthz >"$state_dir/operator.log" 2>&1 &
operator_pid=$!
kubectl apply -n "$namespace" -f manifests/examples/dataset.yaml -f manifests/examples/experiment.yaml

echo
echo "following the sweep (kubectl get experiments -w):"
kubectl get -n "$namespace" experiments --watch-only &
watch_pid=$!
kubectl wait -n "$namespace" experiment/breast-cancer-forest --timeout=600s \
  --for=jsonpath='{.status.conditions[?(@.type=="Succeeded")].status}'=True
sleep 1  # let the watch print its last line before the summary
kill "$watch_pid" 2>/dev/null || true
watch_pid=""

echo
echo "best trial:"
kubectl get -n "$namespace" experiment breast-cancer-forest -o jsonpath='{.status.bestTrial}' | python -m json.tool

model=breast-cancer-forest-v1
echo
echo "the best trial is registered as Model $model; it is evaluated on the test split and gated:"
kubectl wait -n "$namespace" "model/$model" --for=create --timeout=60s >/dev/null
kubectl wait -n "$namespace" "model/$model" --timeout=300s \
  --for=jsonpath='{.status.conditions[?(@.type=="Promoted")].status}'=True
kubectl get -n "$namespace" model "$model" -o jsonpath='{range .status.validation.checks[*]}  {.passed}  {.name}: {.message}{"\n"}{end}'
echo
kubectl get -n "$namespace" mlops
echo
kubectl get -n "$namespace" events --field-selector involvedObject.kind=Model --sort-by=.metadata.creationTimestamp | tail -n 4

echo
echo "serving the champion: a Deployment follows the alias; its Service answers predictions:"
kubectl apply -n "$namespace" -f manifests/examples/deployment.yaml
kubectl wait -n "$namespace" mldeploy/breast-cancer --for=condition=Ready --timeout=180s
kubectl get -n "$namespace" mldeploy/breast-cancer
kubectl get -n "$namespace" deployments.apps,service,pods -l mlops.dev/deployment=breast-cancer
python hack/predict.py "http://$(kubectl get -n "$namespace" service breast-cancer -o jsonpath='{.spec.clusterIP}'):8080" \
  breast-cancer "$data"
echo "models saved under /tmp/mlops-demo/artifacts; operator log: $state_dir/operator.log"
if [[ -t 0 ]]; then
  echo
  echo "explore with: export KUBECONFIG=$KUBECONFIG PATH=$(dirname "$(command -v kubectl)"):\$PATH"
  echo "press Ctrl-C to stop the demo"
  while true; do sleep 3600; done
fi

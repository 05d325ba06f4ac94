#!/usr/bin/env bash
# The test command: installs what the tests need (outside the repository), runs the checks that
# need no cluster (hack/verify.sh: drift, lint, import layers) first, then the images' install
# step (hack/check-images.sh: the Dockerfiles cannot be built here), builds the control
# plane, Prometheus and kwok from pinned Go modules (cached), and runs every test layer. The pytest session starts the
# local cluster and stops it at the end; USE_EXISTING_CLUSTER=true uses KUBECONFIG's instead.
# Without arguments it ends with the benchmark's smoke size (hack/bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/system-deps.sh
source hack/python-env.sh
# The Go builds run beside the checks (a cold machine spends minutes downloading modules); `wait`
# fails the run if a build failed.
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT  # no build outlives a failed check
hack/build-control-plane.sh >/dev/null &
control_plane=$!
hack/build-tools.sh kwok >/dev/null &
kwok=$!
hack/verify.sh  # builds helm and Prometheus (promtool) itself
hack/check-images.sh
wait "$control_plane"
wait "$kwok"
python -m pytest tests "$@"
if [[ $# -eq 0 ]]; then
  # The benchmark at its smoke size, on a cluster of its own: it must keep working; CI does not
  # judge its numbers (a shared machine's timings are not a pass or a fail).
  hack/bench.sh --size smoke --out "$(mktemp -d)"
fi

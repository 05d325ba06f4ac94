.PHONY: help demo test unit fuzz soak bench bench-smoke verify cluster-up cluster-down crds rbac install-manifests alerts docs helm prometheus kwok

PY = bash -c 'source hack/python-env.sh && "$$@"' --

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

demo:  ## The main job on the local cluster (as far as built)
	hack/demo.sh

test:  ## Everything: verify, then installs, builds the control plane, starts and stops the local cluster
	hack/test.sh

unit:  ## Pure logic only: no cluster, no control-plane build
	$(PY) python -m pytest tests/unit

fuzz:  ## Fuzzed specs against the local cluster and the operator at soak size (FUZZ_EXAMPLES per kind, default 500; FUZZ_SEED=n replays)
	bash -c 'source hack/system-deps.sh && source hack/python-env.sh && FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} python -m pytest tests/integration/test_fuzzed_specs.py -s'

soak:  ## The reliability tests at soak size (SOAK=1): 8 kill-anywhere pipelines (KILL_ROUNDS, KILL_SEED=n replays), restarts in both orders
	bash -c 'source hack/system-deps.sh && source hack/python-env.sh && SOAK=1 python -m pytest tests/e2e/test_kill_anywhere.py tests/e2e/test_api_restarts.py -s'

bench:  ## The full benchmark (docs/performance.md): about an hour; writes bench/results/<date>-full.*
	hack/bench.sh --size full

bench-smoke:  ## The benchmark at a small size (CI runs it: it must keep working; its numbers are not judged)
	hack/bench.sh --size smoke --out "$$(mktemp -d)"

verify:  ## CRD, RBAC, API docs, alert rules and manifests/install drift, ruff, the import-layer contract, helm lint and template, promtool (no cluster needed)
	$(PY) hack/verify.sh

cluster-up:  ## A local cluster for the shell (then: eval the output of python3 hack/localcluster.py env)
	bash -c 'source hack/system-deps.sh && source hack/python-env.sh && python hack/localcluster.py up'

cluster-down:  ## Stop the local cluster; fails loudly if anything is left
	$(PY) python hack/localcluster.py down

crds:  ## Regenerate crds/ and the chart's CRD templates from the API models
	$(PY) python -m mlops_operator.api.crdgen crds/ --chart charts/mlops-operator/templates/crds

rbac:  ## Regenerate the chart's RBAC rules from the operator's resource table
	$(PY) python -m mlops_operator.kube.rbac charts/mlops-operator/templates/_rules.tpl

install-manifests:  ## Regenerate manifests/install (kubectl apply -k) from the chart's defaults
	$(PY) python hack/install_manifests.py

alerts:  ## Regenerate the chart's files/alerts.yaml from files/alerts.yaml.in and values.yaml's defaults
	$(PY) python hack/alerts.py

helm:  ## Build the pinned helm (cached); prints its folder
	hack/build-tools.sh helm

prometheus:  ## Build the pinned Prometheus and promtool (cached); prints their folder
	hack/build-tools.sh prometheus

kwok:  ## Build the pinned kwok, for simulated nodes beside the local cluster (cached); prints its folder
	hack/build-tools.sh kwok

docs:  ## Regenerate docs/api.md from the API models and the examples
	$(PY) python -m mlops_operator.api.docgen docs/api.md

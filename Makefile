.PHONY: demo test unit cluster-up cluster-down crds

demo:  ## The main job on the local cluster (as far as built)
	hack/demo.sh

test:  ## Everything: installs, builds the control plane, starts and stops the local cluster
	hack/test.sh

unit:  ## Pure logic only: no cluster, no control-plane build
	bash -c 'source hack/python-env.sh && python -m pytest tests/unit'

cluster-up:  ## A local cluster for the shell; then: eval "$$(python3 hack/localcluster.py env)"
	bash -c 'source hack/system-deps.sh && source hack/python-env.sh && python hack/localcluster.py up'

cluster-down:
	bash -c 'source hack/python-env.sh && python hack/localcluster.py down'

crds:  ## Regenerate crds/ from the API models
	bash -c 'source hack/python-env.sh && python -m mlops_operator.api.crdgen crds/'

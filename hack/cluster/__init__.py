"""The local cluster's parts, behind the `hack/localcluster.py` command and facade.

    state      paths, constants and the state file (standard library only: `env` needs nothing more)
    processes  spawning (in a network namespace or not), liveness, stopping process groups, leftover checks
    network    the bridge, the control plane's network namespace on it, the Service CIDR and its route
    pki        the CA, certificates and kubeconfigs (needs `cryptography`; imported by `up`)
    launch     the LocalCluster class and each component's flags
"""

"""The local cluster's parts, behind the `hack/localcluster.py` command and facade.

    state      paths, constants and the state file (standard library only: `env` needs nothing more)
    processes  spawning, liveness, stopping process groups, ports and leftover checks
    pki        the CA, certificates and the admin kubeconfig (needs `cryptography`; imported by `up`)
    launch     the LocalCluster class and each component's flags
"""

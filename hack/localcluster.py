#!/usr/bin/env python3
"""A real local Kubernetes cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
and kube-proxy built from pinned Go modules, in a network namespace of the cluster's own (the
API server at 10.244.K.254:6443, Services routed in 10.96.K.0/24), and the project's local node
agent (hack/localnode), which runs the pods scheduled to it as processes.

    python3 hack/localcluster.py up      # build if needed, start, wait until usable
    python3 hack/localcluster.py env     # print `export KUBECONFIG=... PATH=...` for eval
    python3 hack/localcluster.py down    # stop everything (hack/kwok.py's and hack/prometheus.py's too),
                                         # remove the namespace and the bridge

`env`, `down`, `build` and `--help` need only the standard library (any python3); `up` needs the
project's environment (cryptography; the node agent runs with lightkube and aiohttp).

This file is the command and the facade of the parts in hack/cluster/: the same LocalCluster
class backs the pytest session fixture (tests/conftest.py).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from cluster.launch import LocalCluster, build_binaries, claim_pod_network
from cluster.processes import alive as _alive
from cluster.processes import node_processes, stop_process_group
from cluster.state import CACHE, DEFAULT_STATE_DIR, HACK, NODE_NAME, ClusterState, Component
from kwok import LocalKwok
from prometheus import LocalPrometheus

__all__ = ["CACHE", "DEFAULT_STATE_DIR", "HACK", "NODE_NAME", "ClusterState", "Component", "LocalCluster",
           "_alive", "build_binaries", "claim_pod_network", "main", "node_processes", "stop_process_group"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "env", "build"])
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR,
                        help=f"kubeconfig, certificates, logs and pids (default {DEFAULT_STATE_DIR})")
    args = parser.parse_args(argv)
    cluster = LocalCluster(args.state_dir)
    try:
        return _run(cluster, args.command)
    except RuntimeError as error:  # no state to read, a cluster already up, leftovers after stop
        print(f"localcluster {args.command}: {error}", file=sys.stderr)
        return 1


def _run(cluster: LocalCluster, command: str) -> int:
    if command == "build":
        print(build_binaries())
    elif command == "up":
        cluster.start()
        print(f"export KUBECONFIG={shlex.quote(cluster.env()['KUBECONFIG'])}  # kubectl is in {cluster.state.bin_dir}")
    elif command == "down":
        LocalKwok(cluster.state_dir).stop()  # hack/kwok.py's, if one runs: its Nodes first, while the API answers
        LocalPrometheus(cluster.state_dir).stop()  # hack/prometheus.py's, if one runs in the cluster's network
        cluster.stop()
    else:
        for key, value in cluster.env().items():
            print(f"export {key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The local control plane starts and stops cleanly: no orphan process, no port left bound."""

import json
import os
import subprocess
from pathlib import Path

import pytest

import localcluster
from support import wait_for

pytestmark = pytest.mark.cluster


def test_versions_are_the_pinned_ones(cluster):
    if not cluster.local:
        pytest.skip("checks the locally built binaries; an existing cluster has its own version")
    pinned = dict(line.split("=", 1) for line in (localcluster.HACK / "versions.env").read_text().splitlines()
                  if line and not line.startswith("#"))
    out = cluster.kubectl("version").stdout
    assert f"Server Version: {pinned['KUBERNETES_VERSION']}" in out
    assert f"Client Version: {pinned['KUBERNETES_VERSION']}" in out


def network_names(*args: str) -> str:
    return subprocess.run(["ip", *args], capture_output=True, text=True).stdout


def test_a_second_cluster_starts_and_stops_without_leftovers(tmp_path):
    cluster = localcluster.LocalCluster(tmp_path / "second", verbosity=0)
    state = cluster.start()
    pids = [c.pid for c in state.components]
    ports = state.ports
    etcd_data = state.etcd_data_dir
    assert [c.name for c in state.components] == [
        "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "local-node"]
    assert all(localcluster._alive(pid) for pid in pids)
    assert all(localcluster.port_is_bound(port) for port in ports)

    kubectl = [str(Path(state.bin_dir) / "kubectl"), f"--kubeconfig={state.kubeconfig}"]
    subprocess.run([*kubectl, "run", "sleeper", "--image=python:3.11", "--restart=Never", "--command", "--",
                    "python", "-c", "import time; time.sleep(600)"], check=True, capture_output=True)

    def sleeper_pid():
        out = subprocess.run([*kubectl, "get", "pod", "sleeper", "-o", "json"], capture_output=True, text=True).stdout
        statuses = json.loads(out or "{}").get("status", {}).get("containerStatuses") or [{}]
        return "running" in statuses[0].get("state", {}) and int(statuses[0]["containerID"].removeprefix("local://"))

    pod_pid = wait_for(sleeper_pid, 60, "the pod to run on the second cluster's node")
    bridge = state.node_identity.split(".", 1)[1]
    assert bridge in network_names("link", "show")
    assert f"mlpod-{bridge}-" in network_names("netns", "list")
    assert localcluster.node_processes(state.node_identity) == [pod_pid]

    cluster.stop()

    assert not [pid for pid in [*pids, pod_pid] if localcluster._alive(pid)]
    assert not localcluster.node_processes(state.node_identity)
    assert not [port for port in ports if localcluster.port_is_bound(port)]
    assert bridge not in network_names("link", "show")
    assert f"mlpod-{bridge}-" not in network_names("netns", "list")
    assert not os.path.exists(etcd_data)
    assert bridge not in network_names("link", "show") or bridge in network_names("link", "show") and False

"""The local control plane starts and stops cleanly: no orphan process, no port left bound."""

import os

import pytest

import localcluster

pytestmark = pytest.mark.cluster


def test_versions_are_the_pinned_ones(cluster):
    if not cluster.local:
        pytest.skip("checks the locally built binaries; an existing cluster has its own version")
    pinned = dict(line.split("=", 1) for line in (localcluster.HACK / "versions.env").read_text().splitlines()
                  if line and not line.startswith("#"))
    out = cluster.kubectl("version").stdout
    assert f"Server Version: {pinned['KUBERNETES_VERSION']}" in out
    assert f"Client Version: {pinned['KUBERNETES_VERSION']}" in out


def test_a_second_cluster_starts_and_stops_without_leftovers(tmp_path):
    cluster = localcluster.LocalCluster(tmp_path / "second", verbosity=0)
    state = cluster.start()
    pids = [c.pid for c in state.components]
    ports = state.ports
    etcd_data = state.etcd_data_dir
    assert [c.name for c in state.components] == [
        "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]
    assert all(localcluster._alive(pid) for pid in pids)
    assert all(localcluster.port_is_bound(port) for port in ports)

    cluster.stop()

    assert not [pid for pid in pids if localcluster._alive(pid)]
    assert not [port for port in ports if localcluster.port_is_bound(port)]
    assert not os.path.exists(etcd_data)

"""The local control plane starts and stops cleanly: it lives in a network namespace of its own,
listens nowhere else, and leaves no process, namespace, bridge or route behind."""

import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

import localcluster
from cluster.network import namespace_processes
from localnode.ipam import control_plane_address
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


def link_indexes(*name: str) -> set[int]:
    """Interface indexes of the links (or of the named one). Another cluster beside this one may
    take a freed bridge name at once, so a bridge is followed by its index, not its name."""
    out = subprocess.run(["ip", "-o", "link", "show", *name], capture_output=True, text=True).stdout
    return {int(line.split(":", 1)[0]) for line in out.splitlines()}


def listeners(netns: str | None = None) -> list[tuple[str, set[int]]]:
    """Listening TCP and bound UDP sockets of the namespace (the host's by default): the local
    address and the pids holding the socket."""
    prefix = ["ip", "netns", "exec", netns] if netns else []
    out = subprocess.run([*prefix, "ss", "-H", "-lntup"], capture_output=True, text=True, check=True).stdout
    return [(line.split()[4], {int(pid) for pid in re.findall(r"pid=(\d+)", line)}) for line in out.splitlines()]


def host_routes() -> str:
    return network_names("route", "show")


def api_server_answers(server: str, pki: Path) -> bool:
    """GET /readyz as the cluster's admin, the server verified against the cluster's own CA (so
    the address leads to that cluster's API server, not another's)."""
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    with urllib.request.urlopen(f"{server}/readyz", context=context, timeout=5) as response:
        return response.status == 200


def assert_routes_to_its_api_server(state) -> None:
    """The cluster's API server answers at its address on the bridge and through its own
    `kubernetes` ClusterIP, which the host routes through the control-plane namespace."""
    k = state.pod_cidr.split(".")[2]
    assert (state.pod_cidr, state.service_cidr, state.netns) == (f"10.244.{k}.0/24", f"10.96.{k}.0/24",
                                                                  f"mlcp-{state.bridge}")
    assert state.server == f"https://10.244.{k}.254:6443"
    assert f"10.96.{k}.0/24 via 10.244.{k}.254 dev {state.bridge}" in host_routes()
    pki = Path(state.state_dir) / "pki"
    assert api_server_answers(state.server, pki)
    assert api_server_answers(f"https://10.96.{k}.1:443", pki)


def test_a_second_cluster_starts_and_stops_without_leftovers(cluster, tmp_path):
    # Beside the session's cluster, when it is a local one: each has a network of its own.
    first = localcluster.ClusterState.load(Path(cluster.kubeconfig).parent) if cluster.local else None
    second = localcluster.LocalCluster(tmp_path / "second", verbosity=0)
    state = second.start()
    pids = [c.pid for c in state.components]
    etcd_data = state.etcd_data_dir
    assert [c.name for c in state.components] == [
        "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "local-node"]
    assert all(localcluster._alive(pid) for pid in pids)
    assert_routes_to_its_api_server(state)
    if first:
        assert not {state.bridge, state.pod_cidr, state.service_cidr, state.netns} & {
            first.bridge, first.pod_cidr, first.service_cidr, first.netns}
        assert_routes_to_its_api_server(first)

    # The control plane listens only in its namespace, on its loopback or its bridge address; the
    # cluster listens on nothing in the host's namespace (the agent's logs endpoint included).
    inside = listeners(state.netns)
    assert {address.rsplit(":", 1)[0] for address, _ in inside} <= {"127.0.0.1", control_plane_address(state.pod_cidr)}, inside
    assert set(pids) <= {pid for _, holders in inside for pid in holders}, (pids, inside)
    assert not [(address, holders) for address, holders in listeners() if holders & set(pids)]

    kubectl = [str(Path(state.bin_dir) / "kubectl"), f"--kubeconfig={state.kubeconfig}"]
    subprocess.run([*kubectl, "run", "sleeper", "--image=python:3.11", "--restart=Never", "--command", "--",
                    "python", "-c", "import time; time.sleep(600)"], check=True, capture_output=True)

    def sleeper():
        out = subprocess.run([*kubectl, "get", "pod", "sleeper", "-o", "json"], capture_output=True, text=True).stdout
        pod = json.loads(out or "{}")
        statuses = pod.get("status", {}).get("containerStatuses") or [{}]
        return "running" in statuses[0].get("state", {}) and pod

    pod = wait_for(sleeper, 60, "the pod to run on the second cluster's node")
    pod_pid = int(pod["status"]["containerStatuses"][0]["containerID"].removeprefix("local://"))
    [bridge_index] = link_indexes(state.bridge)
    pod_netns = f"mlpod-{state.bridge}-{pod['metadata']['uid']}"
    assert pod_netns in network_names("netns", "list")
    # Reported running at spawn: its environment (the node's marker) is readable once it has exec'd.
    wait_for(lambda: localcluster.node_processes(state.node_identity) == [pod_pid], 10, "the pod's process marked")
    pod_routes = network_names("-n", pod_netns, "route", "show")
    assert f"{state.service_cidr} via {control_plane_address(state.pod_cidr)} dev eth0" in pod_routes

    # A process in the control-plane namespace that no component's process group holds: stop ends
    # it, and says so (it would otherwise keep the namespace alive).
    stray = subprocess.Popen(["ip", "netns", "exec", state.netns, "sleep", "600"], start_new_session=True)
    wait_for(lambda: stray.pid in namespace_processes(state.netns), 10, "the stray process in the namespace")
    with pytest.raises(RuntimeError, match=rf"left in the control-plane namespace \[{stray.pid}\]"):
        second.stop()

    assert not [pid for pid in [*pids, pod_pid, stray.pid] if localcluster._alive(pid)]
    assert not localcluster.node_processes(state.node_identity)
    assert bridge_index not in link_indexes()
    assert pod_netns not in network_names("netns", "list")
    assert state.netns not in network_names("netns", "list")
    assert f"{state.service_cidr} via" not in host_routes()
    assert not os.path.exists(etcd_data)
    if first:
        assert_routes_to_its_api_server(first)  # untouched


ENV_LINE = 'eval "$(python3 hack/localcluster.py env)"'


def path_without_venv() -> str:
    """PATH as a fresh shell has it: without this virtualenv's bin folder."""
    venv_bins = {Path(sys.prefix, "bin").resolve()} if sys.prefix != sys.base_prefix else set()
    if os.environ.get("VIRTUAL_ENV"):
        venv_bins.add(Path(os.environ["VIRTUAL_ENV"], "bin").resolve())
    return os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p and Path(p).resolve() not in venv_bins)


def run_env_line_in_a_fresh_shell(cluster, tmp_path, path: str) -> list[str]:
    """`env -i` a shell whose default state folder is the session cluster's, run the documented
    line, and report where kubectl is and the nodes it sees."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "cluster").symlink_to(Path(cluster.kubeconfig).parent)
    script = f'set -e\n{ENV_LINE}\ncommand -v kubectl\nkubectl get nodes -o name\n'
    result = subprocess.run(["env", "-i", f"PATH={path}", f"HOME={Path.home()}", f"MLOPS_CACHE_DIR={cache}",
                             "bash", "-c", script], capture_output=True, text=True, cwd=localcluster.HACK.parent,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def cannot_import_cryptography(python3: str, path: str) -> bool:
    return subprocess.run(["env", "-i", f"PATH={path}", f"HOME={Path.home()}", python3, "-c", "import cryptography"],
                          capture_output=True).returncode != 0


def test_env_line_works_in_a_fresh_shell_with_the_machines_python3(cluster, tmp_path):
    if not cluster.local:
        pytest.skip("reads the local cluster's state folder")
    path = path_without_venv()
    python3 = shutil.which("python3", path=path)
    if python3 is None:
        pytest.skip("no python3 on PATH outside the virtualenv")
    if not cannot_import_cryptography(python3, path):
        pytest.skip(f"the machine's python3 ({python3}) can import cryptography, so it cannot show that `env` "
                    "does without it (test_env_line_works_with_a_python3_without_packages covers that)")
    kubectl, *nodes = run_env_line_in_a_fresh_shell(cluster, tmp_path, path)
    assert Path(kubectl).resolve() == Path(cluster.kubectl_path).resolve()
    assert "node/local-node" in nodes


def test_env_line_works_with_a_python3_without_packages(cluster, tmp_path):
    """The same line where `python3` is this interpreter without site-packages (-S), so the
    check holds on machines whose own python3 has cryptography installed."""
    if not cluster.local:
        pytest.skip("reads the local cluster's state folder")
    bare = tmp_path / "bare-bin"
    bare.mkdir()
    (bare / "python3").write_text(f'#!/bin/sh\nexec {sys._base_executable} -S "$@"\n')
    (bare / "python3").chmod(0o755)
    path = f"{bare}:{path_without_venv()}"
    assert cannot_import_cryptography("python3", path)
    kubectl, *nodes = run_env_line_in_a_fresh_shell(cluster, tmp_path, path)
    assert Path(kubectl).resolve() == Path(cluster.kubectl_path).resolve()
    assert "node/local-node" in nodes


def test_two_claims_never_share_a_bridge_and_a_held_bridge_is_refused(cluster, tmp_path):
    if not cluster.local:
        pytest.skip("looks at the local node's bridge")
    claims = [localcluster.claim_pod_network() for _ in range(2)]
    try:
        (first, first_cidr, _), (second, second_cidr, _) = claims
        assert first != second and first_cidr != second_cidr
    finally:
        for bridge, _, fd in claims:
            subprocess.run(["ip", "link", "del", bridge], capture_output=True)
            os.close(fd)
    # An agent started by hand on the session node's bridge refuses, and leaves that bridge alone.
    bridge = localcluster.ClusterState.load(Path(cluster.kubeconfig).parent).node_identity.split(".", 1)[1]
    [index] = link_indexes(bridge)
    result = subprocess.run([sys.executable, "-m", "localnode", f"--kubeconfig={cluster.kubeconfig}",
                             "--node-name=intruder", f"--bridge={bridge}", f"--state-dir={tmp_path}"],
                            cwd=localcluster.HACK, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "in use by another local node agent" in result.stderr, result.stderr
    assert link_indexes(bridge) == {index}

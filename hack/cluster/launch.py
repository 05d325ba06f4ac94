"""Launching the local cluster: each component's flags, and the LocalCluster class that starts the
components in order, waits until the cluster is usable, and stops everything.

The control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kube-proxy)
runs in a network namespace of the cluster's own on the node's bridge (network.py): its ports are
fixed, nothing of it listens in the host's namespace, and kube-proxy there routes the cluster's
Service CIDR for the host and the pods. The node agent runs in the host's namespace (it creates
the pods' namespaces).

Standard library only at import; the PKI (cryptography) is imported by `start`."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .network import (ClusterNetwork, create_control_plane_network, delete_namespace, namespace_exists,
                      namespace_processes)
from .processes import alive, node_processes, spawn, stop_process_group
from .state import HACK, NODE_NAME, ClusterState, Component
from localnode import netns
from localnode.bridges import lock_bridge
from localnode.identity import identity as node_identity

# Fixed ports: the namespace is the cluster's own. All on its loopback but the API server's,
# which listens on the namespace's address on the bridge (the host and the pods reach it there).
ETCD_CLIENT_PORT, ETCD_PEER_PORT = 2379, 2380
API_SERVER_PORT = 6443
CONTROLLER_MANAGER_PORT, SCHEDULER_PORT = 10257, 10259
KUBE_PROXY_HEALTHZ_PORT, KUBE_PROXY_METRICS_PORT = 10256, 10249
# kube-apiserver's default admission plugins (v1.36), listed so that none, PodSecurity above all,
# can be dropped by a change of defaults without anyone noticing; a name the binary does not know
# stops it at start. `kube-apiserver --help` prints the defaults of a new version.
ADMISSION_PLUGINS = (
    "PodSecurity",
    "NamespaceLifecycle", "LimitRanger", "ServiceAccount", "TaintNodesByCondition", "Priority",
    "DefaultTolerationSeconds", "DefaultStorageClass", "StorageObjectInUseProtection", "PodGroupProtection",
    "PersistentVolumeClaimResize", "RuntimeClass", "CertificateApproval", "CertificateSigning",
    "ClusterTrustBundleAttest", "CertificateSubjectRestriction", "DefaultIngressClass", "PodTopologyLabels",
    "PodGroupWorkloadExists", "NodeDeclaredFeatureValidator", "JobValidation", "PodResizeValidator",
    "MutatingAdmissionPolicy", "MutatingAdmissionWebhook", "ValidatingAdmissionPolicy",
    "ValidatingAdmissionWebhook", "ResourceQuota",
    # Not a default: OpenShift's. It makes blockOwnerDeletion need update on the owner's finalizers,
    # so the tests prove the chart's RBAC has it.
    "OwnerReferencesPermissionEnforcement",
)


def build_binaries() -> Path:
    """Runs the cached build; returns the folder of the binaries."""
    out = subprocess.run(
        [str(HACK / "build-control-plane.sh")], check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    return Path(out.strip().splitlines()[-1])


def claim_pod_network() -> tuple[str, str, int]:
    """Claims a bridge name and pod CIDR no other local node on this machine uses: takes the
    name's lock and creates the bridge. Returns the name, the CIDR and the locked descriptor, for
    the processes that use the name (passed with pass_fds: the agent's `--bridge-lock-fd`, and
    the control plane's, whose namespace is named after the bridge); close it once they run."""
    for k in range(256):
        bridge = f"mlbr{k}"
        fd = lock_bridge(bridge)
        if fd is None:
            continue  # a live cluster or agent holds it
        if subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], capture_output=True).returncode == 0:
            return bridge, f"10.244.{k}.0/24", fd
        # The name exists without a lock holder: a leftover of an agent killed hard, or an agent
        # of a checkout without locks. Either way, not ours to take.
        os.close(fd)
    raise RuntimeError("no free mlbr<k> bridge name; remove stale ones with `ip link del mlbrK`")


# --- component flags ----------------------------------------------------------------------------

def etcd_argv(bin_dir: Path, data_dir: str) -> list[str]:
    client_url, peer_url = f"http://127.0.0.1:{ETCD_CLIENT_PORT}", f"http://127.0.0.1:{ETCD_PEER_PORT}"
    return [
        f"{bin_dir}/etcd", "--name=local", f"--data-dir={data_dir}", "--unsafe-no-fsync",
        f"--listen-client-urls={client_url}", f"--advertise-client-urls={client_url}",
        f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
        f"--initial-cluster=local={peer_url}", "--log-level=warn",
    ]


def audit_policy(users: tuple[str, ...]) -> dict:
    """Metadata (who, verb, resource; no bodies) of the named users' requests, nothing of others'."""
    return {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitStages": ["RequestReceived"],
            "rules": [{"level": "Metadata", "users": list(users)}, {"level": "None"}]}


def audit_flags(state_dir: Path, users: tuple[str, ...]) -> list[str]:
    if not users:
        return []
    policy = state_dir / "audit-policy.json"
    policy.write_text(json.dumps(audit_policy(users)))
    return [f"--audit-policy-file={policy}", f"--audit-log-path={state_dir / 'logs' / 'audit.log'}",
            "--audit-log-format=json", "--audit-log-maxsize=0"]


def apiserver_argv(bin_dir: Path, pki: Path, net: ClusterNetwork) -> list[str]:
    # The endpoint reconciler (lease, the default) publishes the advertise address as the
    # `kubernetes` Service's endpoint, so pods reach the API server through its ClusterIP.
    address = net.control_plane_address
    return [
        f"{bin_dir}/kube-apiserver",
        f"--bind-address={address}", f"--secure-port={API_SERVER_PORT}", f"--advertise-address={address}",
        "--endpoint-reconciler-type=lease",
        f"--tls-cert-file={pki}/apiserver.crt", f"--tls-private-key-file={pki}/apiserver.key",
        f"--client-ca-file={pki}/ca.crt",
        f"--etcd-servers=http://127.0.0.1:{ETCD_CLIENT_PORT}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki}/sa.pub", f"--service-account-signing-key-file={pki}/sa.key",
        f"--service-cluster-ip-range={net.service_cidr}",
        "--authorization-mode=Node,RBAC", "--allow-privileged=true",
        f"--enable-admission-plugins={','.join(ADMISSION_PLUGINS)}",
        # On SIGTERM, end open watches within 2 s: without it the server waits for them (up to a
        # minute) and is killed when the stop's grace runs out, so every stop took 15 s.
        "--shutdown-watch-termination-grace-period=2s",
    ]


def _common_flags(kubeconfig: Path) -> list[str]:
    return [f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}", "--bind-address=127.0.0.1", "--leader-elect=false"]


def controller_manager_argv(bin_dir: Path, pki: Path, kubeconfig: Path, net: ClusterNetwork) -> list[str]:
    return [
        f"{bin_dir}/kube-controller-manager", *_common_flags(kubeconfig), f"--secure-port={CONTROLLER_MANAGER_PORT}",
        "--controllers=*", f"--root-ca-file={pki}/ca.crt",
        f"--service-account-private-key-file={pki}/sa.key", "--use-service-account-credentials=true",
        f"--cluster-signing-cert-file={pki}/ca.crt", f"--cluster-signing-key-file={pki}/ca.key",
        f"--service-cluster-ip-range={net.service_cidr}",
        # Sweeps create many Jobs at once; the defaults (qps 20, 5 Job workers) throttle them.
        "--kube-api-qps=100", "--kube-api-burst=200", "--concurrent-job-syncs=10",
    ]


def scheduler_argv(bin_dir: Path, kubeconfig: Path) -> list[str]:
    return [f"{bin_dir}/kube-scheduler", *_common_flags(kubeconfig), f"--secure-port={SCHEDULER_PORT}"]


def kube_proxy_argv(bin_dir: Path, kubeconfig: Path, net: ClusterNetwork) -> list[str]:
    address = net.control_plane_address
    return [
        f"{bin_dir}/kube-proxy", f"--kubeconfig={kubeconfig}", f"--hostname-override={NODE_NAME}",
        "--proxy-mode=iptables", f"--cluster-cidr={net.pod_cidr}", "--detect-local-mode=ClusterCIDR",
        # Client and endpoint share the bridge: without SNAT the endpoint would answer the client
        # directly, past the namespace that translated the request (network.py).
        "--masquerade-all",
        # The node's primary address as kube-proxy sees it (it binds nothing there), and the only
        # one NodePorts answer on: the namespace's. No localhost NodePorts (no route_localnet sysctl).
        f"--bind-address={address}", f"--nodeport-addresses={address}/32", "--iptables-localhost-nodeports=false",
        f"--healthz-bind-address=127.0.0.1:{KUBE_PROXY_HEALTHZ_PORT}",
        f"--metrics-bind-address=127.0.0.1:{KUBE_PROXY_METRICS_PORT}",
        # Leave the conntrack sysctls as they are: nf_conntrack_max is the machine's, and a
        # namespace other than the initial one may not write it.
        "--conntrack-max-per-core=0", "--conntrack-tcp-timeout-established=0",
        "--conntrack-tcp-timeout-close-wait=0",
        "--oom-score-adj=0",  # a development machine's process, not a node's critical daemon
    ]


def node_argv(kubeconfig: Path, state_dir: Path, net: ClusterNetwork, lock_fd: int) -> list[str]:
    """The local node agent (run with cwd hack/, lock_fd passed)."""
    return [sys.executable, "-m", "localnode", f"--kubeconfig={kubeconfig}", f"--node-name={NODE_NAME}",
            f"--state-dir={state_dir}", f"--pod-cidr={net.pod_cidr}", f"--bridge={net.bridge}",
            f"--bridge-lock-fd={lock_fd}", f"--service-cidr={net.service_cidr}",
            f"--service-router={net.control_plane_address}", f"--logs-netns={net.netns}"]


# --- the cluster --------------------------------------------------------------------------------

class LocalCluster:
    def __init__(self, state_dir: Path, *, verbosity: int = 1, audited_users: tuple[str, ...] = ()):
        """audited_users: the users whose requests the API server writes to logs/audit.log (the
        benchmark counts the operator's requests there); none by default."""
        self.state_dir = state_dir
        self.verbosity = verbosity
        self.audited_users = audited_users
        self.state: ClusterState | None = None

    def _spawn(self, name: str, argv: list[str], port: int, *, netns: str | None, lock_fd: int,
               cwd: Path | None = None) -> None:
        # Every process of the cluster holds the bridge name's lock: the name, and the control-plane
        # namespace named after it, stay this cluster's until the last of them ends.
        pid = spawn(argv, self.state_dir / "logs" / f"{name}.log", cwd=cwd, pass_fds=(lock_fd,), netns=netns)
        assert self.state is not None
        self.state.components.append(Component(name, pid, port, argv, netns))
        self.state.save()

    def _wait(self, what: str, probe, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_error = ""
        while time.monotonic() < deadline:
            for component in self.state.components:
                if not alive(component.pid):
                    tail = (self.state_dir / "logs" / f"{component.name}.log").read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{component.name} exited while waiting for {what}:\n{tail}")
            try:
                if probe():
                    return
            except (OSError, urllib.error.URLError, ValueError) as error:
                last_error = str(error)
            time.sleep(0.25)
        raise TimeoutError(f"timed out after {timeout}s waiting for {what} ({last_error})")

    def _ssl_context(self) -> ssl.SSLContext:
        pki = self.state_dir / "pki"
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        return context

    def _get(self, path: str, server: str | None = None) -> tuple[int, bytes]:
        server = server or self._known_state().server
        try:
            with urllib.request.urlopen(server + path, context=self._ssl_context(), timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def start(self, *, timeout: float = 180) -> ClusterState:
        from .pki import write_kubeconfig, write_pki  # cryptography: only for starting

        existing = ClusterState.load(self.state_dir)
        if existing and any(alive(c.pid) for c in existing.components):
            raise RuntimeError(f"a cluster is already running from {self.state_dir}; stop it first")
        started = time.monotonic()
        bin_dir = build_binaries()
        shutil.rmtree(self.state_dir / "pki", ignore_errors=True)
        (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
        pki = self.state_dir / "pki"
        kubeconfig, proxy_kubeconfig = self.state_dir / "kubeconfig", self.state_dir / "kube-proxy.kubeconfig"
        etcd_data = tempfile.mkdtemp(prefix="mlops-etcd-")
        bridge, pod_cidr, lock_fd = claim_pod_network()
        net = ClusterNetwork(bridge, pod_cidr)
        server = f"https://{net.control_plane_address}:{API_SERVER_PORT}"
        self.state = ClusterState(str(self.state_dir), str(bin_dir), str(kubeconfig), server, etcd_data,
                                  node_identity=node_identity(NODE_NAME, bridge), bridge=bridge, pod_cidr=pod_cidr,
                                  netns=net.netns, service_cidr=net.service_cidr)
        self.state.save()
        try:
            try:
                create_control_plane_network(net)
                write_pki(pki, net.first_service_ip, net.control_plane_address)
                write_kubeconfig(kubeconfig, server, pki)
                write_kubeconfig(proxy_kubeconfig, server, pki, user="kube-proxy")
                in_ns = {"netns": net.netns, "lock_fd": lock_fd}
                self._spawn("etcd", etcd_argv(bin_dir, etcd_data), ETCD_CLIENT_PORT, **in_ns)
                self._spawn("kube-apiserver", [*apiserver_argv(bin_dir, pki, net),
                                               *audit_flags(self.state_dir, self.audited_users)],
                            API_SERVER_PORT, **in_ns)
                self._wait("kube-apiserver /readyz", lambda: self._get("/readyz")[0] == 200, timeout)
                self._spawn("kube-controller-manager", controller_manager_argv(bin_dir, pki, kubeconfig, net),
                            CONTROLLER_MANAGER_PORT, **in_ns)
                self._spawn("kube-scheduler", scheduler_argv(bin_dir, kubeconfig), SCHEDULER_PORT, **in_ns)
                self._spawn("kube-proxy", kube_proxy_argv(bin_dir, proxy_kubeconfig, net), KUBE_PROXY_HEALTHZ_PORT,
                            **in_ns)
                self._spawn("local-node", node_argv(kubeconfig, self.state_dir / "node", net, lock_fd), 0,
                            netns=None, lock_fd=lock_fd, cwd=HACK)
            finally:
                os.close(lock_fd)  # the cluster's processes hold the lock now (or, if none started, nobody)
            self._wait("the default ServiceAccount",
                       lambda: self._get("/api/v1/namespaces/default/serviceaccounts/default")[0] == 200, timeout)
            self._wait(f"node {NODE_NAME} Ready", self.node_ready, timeout)
            self._wait("kube-proxy healthy", lambda: netns.http_get(
                net.netns, "127.0.0.1", KUBE_PROXY_HEALTHZ_PORT, "/healthz")[0] == 200, timeout)
            # Routing really works: the `kubernetes` Service's ClusterIP leads to the API server, and
            # the certificate names that address.
            self._wait(f"the kubernetes Service's ClusterIP {net.first_service_ip} to route", lambda: self._get(
                "/readyz", f"https://{net.first_service_ip}:443")[0] == 200, timeout)
        except BaseException:
            self.stop()
            raise
        if self.verbosity:
            print(f"local cluster ready at {server} in {time.monotonic() - started:.1f}s "
                  f"(pods {pod_cidr} on {bridge}, Services {net.service_cidr})", file=sys.stderr)
        return self.state

    @contextmanager
    def stopped(self, name: str, *, timeout: float = 60) -> Iterator[None]:
        """Stops one control-plane component (etcd, kube-apiserver, ...) for the body of the with
        block, then starts the same process again, with the same arguments, and waits until the API
        server is ready: a restart in the middle of whatever the body waits for. etcd's data dir is
        kept (only `stop` removes it). The node agent is not one of them: it is the node.

        The started process holds no lock of the bridge name (the lock is passed only to the first
        processes, and the node agent keeps holding it), so the name stays the cluster's as before."""
        self.state = ClusterState.load(self.state_dir)
        if self.state is None:
            raise RuntimeError(f"no cluster state in {self.state_dir}; run `up` first")
        component = next((c for c in self.state.components if c.name == name), None)
        if component is None or component.netns is None:
            raise ValueError(f"{name} is not a control-plane component of this cluster "
                             f"({', '.join(c.name for c in self.state.components if c.netns)})")
        stop_process_group(component.pid)
        if alive(component.pid):
            raise RuntimeError(f"{name} (pid {component.pid}) did not stop")
        try:
            yield
        finally:
            component.pid = spawn(component.argv, self.state_dir / "logs" / f"{name}.log", netns=component.netns)
            self.state.save()
            self._wait(f"kube-apiserver /readyz after {name} started again", lambda: self._get("/readyz")[0] == 200,
                       timeout)

    def node_ready(self) -> bool:
        code, body = self._get(f"/api/v1/nodes/{NODE_NAME}")
        if code != 200:
            return False
        conditions = json.loads(body).get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def stop(self) -> None:
        """Stops every process, removes the control-plane namespace and the bridge, and raises if
        anything is left: a component, a process in the namespace, a pod process, the namespace."""
        # The state file, not this object, knows the pids: a component may have been restarted since.
        state = ClusterState.load(self.state_dir) or self.state
        if state is None:
            return
        for component in reversed(state.components):
            stop_process_group(component.pid)
        shutil.rmtree(state.etcd_data_dir, ignore_errors=True)
        leftovers = [c.name for c in state.components if alive(c.pid)]
        # Whatever still runs in the namespace escaped its component's process group.
        strays = namespace_processes(state.netns) if state.netns else []
        # The agent stops its pods itself; anything still carrying its marker escaped it.
        orphans = node_processes(state.node_identity) if state.node_identity else []
        for pid in strays + orphans:
            stop_process_group(pid, grace=1)
        namespace_left = self._release_network(state)
        Path(state.state_dir, "state.json").unlink(missing_ok=True)
        self.state = None
        if leftovers or strays or orphans or namespace_left:
            raise RuntimeError(f"after stop: processes alive {leftovers}, processes left in the control-plane "
                               f"namespace {strays}, pod processes left by the node agent {orphans}, "
                               f"namespace {state.netns} left: {namespace_left}")

    @staticmethod
    def _release_network(state: ClusterState) -> bool:
        """Deletes the control-plane namespace and the bridge (the agent deletes it when it ends
        well) under the bridge name's lock; returns whether the namespace is still there. Without
        the lock the name is not ours any more: a process of ours still holds it (reported as a
        leftover), or the name was free and another cluster took it (its namespace now)."""
        if not state.bridge:
            return False
        fd = lock_bridge(state.bridge)
        if fd is None:
            return False
        try:
            delete_namespace(ClusterNetwork(state.bridge, state.pod_cidr))
            subprocess.run(["ip", "link", "del", state.bridge], capture_output=True)
            return namespace_exists(state.netns)
        finally:
            os.close(fd)

    def _known_state(self) -> ClusterState:
        """This object's state, or the state file's: an object made for a running cluster
        (LocalCluster(state_dir)) has loaded nothing."""
        state = self.state or ClusterState.load(self.state_dir)
        if state is None:
            raise RuntimeError(f"no cluster state in {self.state_dir}; run `up` first")
        return state

    def env(self) -> dict[str, str]:
        return self._known_state().env()

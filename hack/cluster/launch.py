"""Launching the local cluster: each component's flags, and the LocalCluster class that starts the
components in order, waits until the cluster is usable, and stops everything.

Standard library only at import; the PKI (cryptography) is imported by `start`."""

from __future__ import annotations

import ipaddress
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
from pathlib import Path

from .processes import alive, free_port, node_processes, port_is_bound, spawn, stop_process_group
from .state import HACK, NODE_NAME, ClusterState, Component
from localnode.bridges import lock_bridge
from localnode.identity import identity as node_identity

SERVICE_CIDR = "10.0.0.0/24"
FIRST_SERVICE_IP = str(next(ipaddress.ip_network(SERVICE_CIDR).hosts()))
# kube-apiserver refuses a loopback advertise address. With the endpoint reconciler off it is only
# published, never dialled, so a documentation address (RFC 5737) serves when the machine has none.
FALLBACK_ADVERTISE_ADDRESS = "192.0.2.1"
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
)


def build_binaries() -> Path:
    """Runs the cached build; returns the folder of the binaries."""
    out = subprocess.run(
        [str(HACK / "build-control-plane.sh")], check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    return Path(out.strip().splitlines()[-1])


def claim_pod_network() -> tuple[str, str, int]:
    """Claims a bridge name and pod CIDR no other local node on this machine uses: takes the
    name's lock and creates the bridge. Returns the name, the CIDR and the locked descriptor,
    for the agent (`--bridge-lock-fd`, passed with pass_fds); close it once the agent runs."""
    for k in range(256):
        bridge = f"mlbr{k}"
        fd = lock_bridge(bridge)
        if fd is None:
            continue  # a live agent holds it
        if subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], capture_output=True).returncode == 0:
            return bridge, f"10.244.{k}.0/24", fd
        # The name exists without a lock holder: a leftover of an agent killed hard, or an agent
        # of a checkout without locks. Either way, not ours to take.
        os.close(fd)
    raise RuntimeError("no free mlbr<k> bridge name; remove stale ones with `ip link del mlbrK`")


def advertise_address() -> str:
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"],
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            return line.split()[3].split("/")[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        pass
    return FALLBACK_ADVERTISE_ADDRESS


# --- component flags ----------------------------------------------------------------------------

def etcd_argv(bin_dir: Path, data_dir: str, client_port: int, peer_port: int) -> list[str]:
    client_url, peer_url = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
    return [
        f"{bin_dir}/etcd", "--name=local", f"--data-dir={data_dir}", "--unsafe-no-fsync",
        f"--listen-client-urls={client_url}", f"--advertise-client-urls={client_url}",
        f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
        f"--initial-cluster=local={peer_url}", "--log-level=warn",
    ]


def apiserver_argv(bin_dir: Path, pki: Path, port: int, etcd_port: int) -> list[str]:
    return [
        f"{bin_dir}/kube-apiserver",
        "--bind-address=127.0.0.1", f"--secure-port={port}",
        f"--advertise-address={advertise_address()}", "--endpoint-reconciler-type=none",
        f"--tls-cert-file={pki}/apiserver.crt", f"--tls-private-key-file={pki}/apiserver.key",
        f"--client-ca-file={pki}/ca.crt",
        f"--etcd-servers=http://127.0.0.1:{etcd_port}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki}/sa.pub", f"--service-account-signing-key-file={pki}/sa.key",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--authorization-mode=Node,RBAC", "--allow-privileged=true",
        f"--enable-admission-plugins={','.join(ADMISSION_PLUGINS)}",
    ]


def _common_flags(kubeconfig: Path) -> list[str]:
    return [f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}", "--bind-address=127.0.0.1", "--leader-elect=false"]


def controller_manager_argv(bin_dir: Path, pki: Path, kubeconfig: Path, port: int) -> list[str]:
    return [
        f"{bin_dir}/kube-controller-manager", *_common_flags(kubeconfig), f"--secure-port={port}",
        "--controllers=*", f"--root-ca-file={pki}/ca.crt",
        f"--service-account-private-key-file={pki}/sa.key", "--use-service-account-credentials=true",
        f"--cluster-signing-cert-file={pki}/ca.crt", f"--cluster-signing-key-file={pki}/ca.key",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        # Sweeps create many Jobs at once; the defaults (qps 20, 5 Job workers) throttle them.
        "--kube-api-qps=100", "--kube-api-burst=200", "--concurrent-job-syncs=10",
    ]


def scheduler_argv(bin_dir: Path, kubeconfig: Path, port: int) -> list[str]:
    return [f"{bin_dir}/kube-scheduler", *_common_flags(kubeconfig), f"--secure-port={port}"]


def node_argv(kubeconfig: Path, state_dir: Path, pod_cidr: str, bridge: str, lock_fd: int) -> list[str]:
    """The local node agent (run with cwd hack/, lock_fd passed)."""
    return [sys.executable, "-m", "localnode", f"--kubeconfig={kubeconfig}", f"--node-name={NODE_NAME}",
            f"--state-dir={state_dir}", f"--pod-cidr={pod_cidr}", f"--bridge={bridge}", f"--bridge-lock-fd={lock_fd}"]


# --- the cluster --------------------------------------------------------------------------------

class LocalCluster:
    def __init__(self, state_dir: Path, *, verbosity: int = 1):
        self.state_dir = state_dir
        self.verbosity = verbosity
        self.state: ClusterState | None = None

    def _spawn(self, name: str, argv: list[str], port: int, cwd: Path | None = None,
               pass_fds: tuple[int, ...] = ()) -> None:
        pid = spawn(argv, self.state_dir / "logs" / f"{name}.log", cwd=cwd, pass_fds=pass_fds)
        assert self.state is not None
        self.state.components.append(Component(name, pid, port))
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

    def _get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.state.server + path, context=self._ssl_context(), timeout=5) as r:
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
        write_pki(pki, FIRST_SERVICE_IP)
        etcd_data = tempfile.mkdtemp(prefix="mlops-etcd-")
        etcd_port, peer_port, api_port, kcm_port, sched_port = (free_port() for _ in range(5))
        server = f"https://127.0.0.1:{api_port}"
        kubeconfig = self.state_dir / "kubeconfig"
        write_kubeconfig(kubeconfig, server, pki)
        self.state = ClusterState(str(self.state_dir), str(bin_dir), str(kubeconfig), server, etcd_data)
        self.state.save()
        try:
            self._spawn("etcd", etcd_argv(bin_dir, etcd_data, etcd_port, peer_port), etcd_port)
            self._spawn("kube-apiserver", apiserver_argv(bin_dir, pki, api_port, etcd_port), api_port)
            self._wait("kube-apiserver /readyz", lambda: self._get("/readyz")[0] == 200, timeout)
            self._spawn("kube-controller-manager", controller_manager_argv(bin_dir, pki, kubeconfig, kcm_port),
                        kcm_port)
            self._spawn("kube-scheduler", scheduler_argv(bin_dir, kubeconfig, sched_port), sched_port)
            bridge, pod_cidr, lock_fd = claim_pod_network()
            self.state.node_identity = node_identity(NODE_NAME, bridge)
            try:
                self._spawn("local-node", node_argv(kubeconfig, self.state_dir / "node", pod_cidr, bridge, lock_fd), 0,
                            cwd=HACK, pass_fds=(lock_fd,))
            finally:
                os.close(lock_fd)  # the agent holds the lock now (or, if it did not start, nobody)
            self._wait("the default ServiceAccount",
                       lambda: self._get("/api/v1/namespaces/default/serviceaccounts/default")[0] == 200, timeout)
            self._wait(f"node {NODE_NAME} Ready", self._node_ready, timeout)
        except BaseException:
            self.stop()
            raise
        if self.verbosity:
            print(f"local cluster ready at {server} in {time.monotonic() - started:.1f}s", file=sys.stderr)
        return self.state

    def _node_ready(self) -> bool:
        code, body = self._get(f"/api/v1/nodes/{NODE_NAME}")
        if code != 200:
            return False
        conditions = json.loads(body).get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def stop(self) -> None:
        state = self.state or ClusterState.load(self.state_dir)
        if state is None:
            return
        for component in reversed(state.components):
            stop_process_group(component.pid)
        shutil.rmtree(state.etcd_data_dir, ignore_errors=True)
        leftovers = [c.name for c in state.components if alive(c.pid)]
        bound = [p for p in state.ports if port_is_bound(p)]
        # The agent stops its pods itself; anything still carrying its marker escaped it.
        orphans = node_processes(state.node_identity) if state.node_identity else []
        for pid in orphans:
            stop_process_group(pid, grace=1)
        Path(state.state_dir, "state.json").unlink(missing_ok=True)
        self.state = None
        if leftovers or bound or orphans:
            raise RuntimeError(f"after stop: processes alive {leftovers}, ports bound {bound}, "
                               f"pod processes left by the node agent {orphans}")

    def env(self) -> dict[str, str]:
        state = self.state or ClusterState.load(self.state_dir)
        if state is None:
            raise RuntimeError(f"no cluster state in {self.state_dir}; run `up` first")
        return state.env()

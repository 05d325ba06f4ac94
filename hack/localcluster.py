#!/usr/bin/env python3
"""A real local Kubernetes cluster: etcd, kube-apiserver, kube-controller-manager and
kube-scheduler built from pinned Go modules, on loopback, and the project's local node agent
(hack/localnode), which runs the pods scheduled to it as processes.

    python3 hack/localcluster.py up      # build if needed, start, wait until usable
    python3 hack/localcluster.py env     # print `export KUBECONFIG=... PATH=...` for eval
    python3 hack/localcluster.py down    # stop everything, free every port

The same LocalCluster class backs the pytest session fixture (tests/conftest.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from localnode.agent import identity as node_identity

HACK = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("MLOPS_CACHE_DIR", Path.home() / ".cache" / "mlops-operator"))
DEFAULT_STATE_DIR = CACHE / "cluster"
SERVICE_CIDR = "10.0.0.0/24"
FIRST_SERVICE_IP = "10.0.0.1"
# kube-apiserver refuses a loopback advertise address. With the endpoint reconciler off it is only
# published, never dialled, so a documentation address (RFC 5737) serves when the machine has none.
FALLBACK_ADVERTISE_ADDRESS = "192.0.2.1"
STOP_GRACE_SECONDS = 15
NODE_NAME = "local-node"
NODE_MARKER = "MLOPS_LOCALNODE"  # in the environment of every process the node agent starts


def build_binaries() -> Path:
    """Runs the cached build; returns the folder of the binaries."""
    out = subprocess.run(
        [str(HACK / "build-control-plane.sh")], check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    return Path(out.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_bound(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def free_pod_network() -> tuple[str, str]:
    """A bridge name and pod CIDR no other local node on this machine uses."""
    for k in range(256):
        bridge = f"mlbr{k}"
        if subprocess.run(["ip", "link", "show", bridge], capture_output=True).returncode != 0:
            return bridge, f"10.244.{k}.0/24"
    raise RuntimeError("no free mlbr<k> bridge name; remove stale ones with `ip link del mlbrK`")


def node_processes(node_identity: str) -> list[int]:
    """Processes the node agent started (its marker, NAME.BRIDGE, is in their environment)."""
    marker = f"{NODE_MARKER}={node_identity}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def advertise_address() -> str:
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"],
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            return line.split()[3].split("/")[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        pass
    return FALLBACK_ADVERTISE_ADDRESS


# --- certificates -------------------------------------------------------------------------------

def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _certificate(subject: x509.Name, key, issuer: x509.Name, issuer_key, *, ca: bool,
                 sans: list[x509.GeneralName] | None = None, client: bool = False) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False), critical=True)
    else:
        usage = x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH if client else x509.oid.ExtendedKeyUsageOID.SERVER_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def write_pki(pki: Path) -> None:
    pki.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mlops-local-ca")])
    ca = _certificate(ca_name, ca_key, ca_name, ca_key, ca=True)

    server_key = _key()
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in (
        "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local")]
    sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in ("127.0.0.1", FIRST_SERVICE_IP)]
    server = _certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
                          server_key, ca_name, ca_key, ca=False, sans=sans)

    admin_key = _key()
    admin = _certificate(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
                                    x509.NameAttribute(NameOID.COMMON_NAME, "admin")]),
                         admin_key, ca_name, ca_key, ca=False, client=True)

    sa_key = _key()
    files = {
        "ca.crt": _pem_cert(ca), "ca.key": _pem_key(ca_key),
        "apiserver.crt": _pem_cert(server), "apiserver.key": _pem_key(server_key),
        "admin.crt": _pem_cert(admin), "admin.key": _pem_key(admin_key),
        "sa.key": _pem_key(sa_key),
        "sa.pub": sa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo),
    }
    for name, data in files.items():
        (pki / name).write_bytes(data)
        (pki / name).chmod(0o600)


def write_kubeconfig(path: Path, server: str, pki: Path) -> None:
    import base64

    def b64(name: str) -> str:
        return base64.b64encode((pki / name).read_bytes()).decode()

    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "mlops-local",
        "clusters": [{"name": "mlops-local", "cluster": {"server": server, "certificate-authority-data": b64("ca.crt")}}],
        "users": [{"name": "admin", "user": {"client-certificate-data": b64("admin.crt"),
                                             "client-key-data": b64("admin.key")}}],
        "contexts": [{"name": "mlops-local", "context": {"cluster": "mlops-local", "user": "admin"}}],
    }
    path.write_text(json.dumps(config, indent=2))
    path.chmod(0o600)


# --- processes ----------------------------------------------------------------------------------

@dataclass
class Component:
    name: str
    pid: int
    port: int


@dataclass
class ClusterState:
    state_dir: str
    bin_dir: str
    kubeconfig: str
    server: str
    etcd_data_dir: str
    node_identity: str = ""
    components: list[Component] = field(default_factory=list)

    @property
    def ports(self) -> list[int]:
        return [c.port for c in self.components if c.port]

    def save(self) -> None:
        Path(self.state_dir, "state.json").write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, state_dir: Path) -> ClusterState | None:
        path = state_dir / "state.json"
        if not path.exists():
            return None
        raw = json.loads(path.read_text())
        raw["components"] = [Component(**c) for c in raw["components"]]
        return cls(**raw)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of ours still answers kill(0); reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return not _alive(pid)


def stop_process_group(pid: int, grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM the component's process group, SIGKILL what is left after the grace period."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        if _wait_gone(pid, wait):
            return


class LocalCluster:
    def __init__(self, state_dir: Path, *, verbosity: int = 1):
        self.state_dir = state_dir
        self.verbosity = verbosity
        self.state: ClusterState | None = None

    # A component runs in a session of its own, so the launcher can exit (shell use) and a stop
    # can signal the whole group.
    def _spawn(self, name: str, argv: list[str], port: int, cwd: Path | None = None) -> None:
        log = open(self.state_dir / "logs" / f"{name}.log", "ab")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, cwd=cwd)
        log.close()
        assert self.state is not None
        self.state.components.append(Component(name, process.pid, port))
        self.state.save()

    def _wait(self, what: str, probe, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_error = ""
        while time.monotonic() < deadline:
            for component in self.state.components:
                if not _alive(component.pid):
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
        existing = ClusterState.load(self.state_dir)
        if existing and any(_alive(c.pid) for c in existing.components):
            raise RuntimeError(f"a cluster is already running from {self.state_dir}; stop it first")
        started = time.monotonic()
        bin_dir = build_binaries()
        shutil.rmtree(self.state_dir / "pki", ignore_errors=True)
        (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
        pki = self.state_dir / "pki"
        write_pki(pki)
        etcd_data = tempfile.mkdtemp(prefix="mlops-etcd-")
        etcd_port, peer_port, api_port, kcm_port, sched_port = (free_port() for _ in range(5))
        server = f"https://127.0.0.1:{api_port}"
        kubeconfig = self.state_dir / "kubeconfig"
        write_kubeconfig(kubeconfig, server, pki)
        self.state = ClusterState(str(self.state_dir), str(bin_dir), str(kubeconfig), server, etcd_data)
        self.state.save()
        try:
            self._launch(bin_dir, pki, etcd_data, kubeconfig, etcd_port, peer_port, api_port, kcm_port,
                         sched_port, timeout)
        except BaseException:
            self.stop()
            raise
        if self.verbosity:
            print(f"local cluster ready at {server} in {time.monotonic() - started:.1f}s", file=sys.stderr)
        return self.state

    def _launch(self, bin_dir, pki, etcd_data, kubeconfig, etcd_port, peer_port, api_port, kcm_port,
                sched_port, timeout) -> None:
        etcd_url = f"http://127.0.0.1:{etcd_port}"
        peer_url = f"http://127.0.0.1:{peer_port}"
        self._spawn("etcd", [
            f"{bin_dir}/etcd", "--name=local", f"--data-dir={etcd_data}", "--unsafe-no-fsync",
            f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=local={peer_url}", "--log-level=warn",
        ], etcd_port)
        self._spawn("kube-apiserver", [
            f"{bin_dir}/kube-apiserver",
            "--bind-address=127.0.0.1", f"--secure-port={api_port}",
            f"--advertise-address={advertise_address()}", "--endpoint-reconciler-type=none",
            f"--tls-cert-file={pki}/apiserver.crt", f"--tls-private-key-file={pki}/apiserver.key",
            f"--client-ca-file={pki}/ca.crt",
            f"--etcd-servers={etcd_url}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki}/sa.pub", f"--service-account-signing-key-file={pki}/sa.key",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC", "--allow-privileged=true",
        ], api_port)
        self._wait("kube-apiserver /readyz", lambda: self._get("/readyz")[0] == 200, timeout)
        common = [f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
                  f"--authorization-kubeconfig={kubeconfig}", "--bind-address=127.0.0.1", "--leader-elect=false"]
        self._spawn("kube-controller-manager", [
            f"{bin_dir}/kube-controller-manager", *common, f"--secure-port={kcm_port}",
            "--controllers=*", f"--root-ca-file={pki}/ca.crt",
            f"--service-account-private-key-file={pki}/sa.key", "--use-service-account-credentials=true",
            f"--cluster-signing-cert-file={pki}/ca.crt", f"--cluster-signing-key-file={pki}/ca.key",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            # Sweeps create many Jobs at once; the defaults (qps 20, 5 Job workers) throttle them.
            "--kube-api-qps=100", "--kube-api-burst=200", "--concurrent-job-syncs=10",
        ], kcm_port)
        self._spawn("kube-scheduler", [f"{bin_dir}/kube-scheduler", *common, f"--secure-port={sched_port}"],
                    sched_port)
        bridge, pod_cidr = free_pod_network()
        self.state.node_identity = node_identity(NODE_NAME, bridge)
        self._spawn("local-node", [
            sys.executable, "-m", "localnode", f"--kubeconfig={kubeconfig}", f"--node-name={NODE_NAME}",
            f"--state-dir={self.state_dir / 'node'}", f"--pod-cidr={pod_cidr}", f"--bridge={bridge}",
        ], 0, cwd=HACK)
        self._wait("the default ServiceAccount",
                   lambda: self._get("/api/v1/namespaces/default/serviceaccounts/default")[0] == 200, timeout)
        self._wait(f"node {NODE_NAME} Ready", self._node_ready, timeout)

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
        leftovers = [c.name for c in state.components if _alive(c.pid)]
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
        return {"KUBECONFIG": state.kubeconfig, "PATH": f"{state.bin_dir}:{os.environ.get('PATH', '')}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "env", "build"])
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR,
                        help=f"kubeconfig, certificates, logs and pids (default {DEFAULT_STATE_DIR})")
    args = parser.parse_args(argv)
    cluster = LocalCluster(args.state_dir)
    if args.command == "build":
        print(build_binaries())
    elif args.command == "up":
        cluster.start()
        print(f"export KUBECONFIG={cluster.env()['KUBECONFIG']}  # kubectl is in {cluster.state.bin_dir}")
    elif args.command == "down":
        cluster.stop()
    else:
        for key, value in cluster.env().items():
            print(f"export {key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

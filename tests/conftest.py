"""Fixtures: a real Kubernetes API server for the tests that need one.

By default the session starts the project's local control plane (hack/localcluster.py) in a
temporary folder and stops it at the end. With USE_EXISTING_CLUSTER=true the tests use the
cluster that KUBECONFIG points at instead, and kubectl from PATH.
"""

import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "hack"))
sys.path.insert(0, str(REPO / "tests"))  # support.py
sys.path.insert(0, str(REPO / "tests" / "unit"))  # the unit tests' builders and kstatus

import localcluster  # noqa: E402
from kwok import LocalKwok  # noqa: E402
from prometheus import CHART_RULES, LocalPrometheus  # noqa: E402
from support import AUDITED_USER, namespaces_gone, own_namespace  # noqa: E402


# kubectl sends all of a call's requests on one HTTP/2 connection, so a call whose TLS handshake
# timed out sent nothing and can be made again whatever its verb. The local API server has missed
# a 10 s handshake once in a CI run, cause unknown (docs/operations.md, Tests); a stopped one
# refuses connections instead, which is never retried here.
HANDSHAKE_TIMEOUT = "net/http: TLS handshake timeout"
HANDSHAKE_RETRIES = 2


@dataclass(frozen=True)
class Cluster:
    kubeconfig: str
    kubectl_path: str
    local: bool
    state_dir: Path | None = None  # the local cluster's (hack/localcluster.py)
    namespaces_deleted: list[str] = field(default_factory=list)  # left to go on their own (own_namespace)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": self.kubeconfig}

    def kubectl(self, *args: str, namespace: str | None = None, input: str | None = None,
                check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        argv = [self.kubectl_path, *(["-n", namespace] if namespace else []), *args]
        for _ in range(1 + HANDSHAKE_RETRIES):
            result = subprocess.run(argv, input=input, capture_output=True, text=True, env=self.env, timeout=timeout)
            if result.returncode == 0 or HANDSHAKE_TIMEOUT not in result.stderr:
                break
            print(f"{' '.join(argv)}: {HANDSHAKE_TIMEOUT}; asking again", file=sys.stderr)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr}")
        return result


@pytest.fixture(scope="session")
def helm() -> Path:
    """The pinned helm binary, built from its Go module by hack/build-tools.sh (cached: a no-op once
    built; the first build takes minutes)."""
    out = subprocess.run([str(REPO / "hack" / "build-tools.sh"), "helm"], check=True, stdout=subprocess.PIPE, text=True).stdout
    return Path(out.strip().splitlines()[-1]) / "helm"


@pytest.fixture(scope="session")
def promtool() -> Path:
    """The pinned promtool, built with Prometheus from its Go module by hack/build-tools.sh (cached)."""
    out = subprocess.run([str(REPO / "hack" / "build-tools.sh"), "prometheus"], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    return Path(out.strip().splitlines()[-1]) / "promtool"


@pytest.fixture(scope="session")
def kubectl() -> Path:
    """The pinned kubectl, for what needs no cluster (kubectl kustomize). hack/test.sh builds the
    control plane before pytest; here it is never built (minutes): without it the test is skipped."""
    result = subprocess.run([str(REPO / "hack" / "build-control-plane.sh"), "--print-dir"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(result.stderr.strip())
    return Path(result.stdout.strip().splitlines()[-1]) / "kubectl"


def _use_existing() -> bool:
    return os.environ.get("USE_EXISTING_CLUSTER", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    if _use_existing():
        kubectl = shutil.which("kubectl")
        assert kubectl, "USE_EXISTING_CLUSTER needs kubectl on PATH"
        existing = Cluster(os.environ.get("KUBECONFIG", str(Path.home() / ".kube/config")), kubectl, local=False)
        yield existing
        namespaces_gone(existing)
        return
    # One audited identity (nobody else's requests are logged): tests that need to know every
    # request the operator made run it as this user (tests/e2e/test_namespaces.py).
    local = localcluster.LocalCluster(tmp_path_factory.mktemp("cluster"), audited_users=(AUDITED_USER,))
    state = local.start()
    try:
        made = Cluster(state.kubeconfig, str(Path(state.bin_dir) / "kubectl"), local=True, state_dir=local.state_dir)
        yield made
        namespaces_gone(made)
    finally:
        local.stop()


@pytest.fixture(scope="session")
def prometheus(cluster):
    """A real Prometheus scraping the session's local cluster (hack/prometheus.py: built from its Go
    module on first use, run in the control plane's network namespace, finding the pods annotated
    prometheus.io/scrape through its Kubernetes discovery, scraping every 2s), with the chart's
    alert rules when they exist. Started by the first test that asks for it, stopped before the
    cluster. `.address` is its URL from the host and from pods; `.query(expr)`, `.targets()` and
    `.rules()` read its HTTP API."""
    if not cluster.local:
        pytest.skip("USE_EXISTING_CLUSTER: the tests run a Prometheus only inside the local cluster's network")
    server = LocalPrometheus(cluster.state_dir)
    server.start(rules=CHART_RULES if CHART_RULES.exists() else None)
    try:
        yield server
    finally:
        server.stop()


KWOK_NODES = 2


@pytest.fixture(scope="session")
def kwok(cluster):
    """Simulated nodes beside the session's local cluster (hack/kwok.py: kwok built from its Go
    module on first use, run on the host against the API server, listening on loopback only):
    KWOK_NODES fake Nodes, Ready. Started by the first test that asks for it, stopped (its Nodes
    deleted) before the cluster. `.nodes` are their names; hack/kwok.py's pod_settings() is the
    spec.pod that lands an object's pods there, ended after a simulated duration with a simulated
    result when asked."""
    if not cluster.local:
        pytest.skip("USE_EXISTING_CLUSTER: the tests run kwok only beside the local cluster")
    simulator = LocalKwok(cluster.state_dir)
    simulator.start(nodes=KWOK_NODES)
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture(scope="session")
def crds(cluster):
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", str(REPO / "crds"))
    return cluster


@pytest.fixture
def namespace(cluster, request):
    """A namespace of the test's own (own_namespace); tests marked `restricted` get a restricted one."""
    name = f"t-{request.node.name[:40].lower().replace('_', '-').strip('-')}-{uuid.uuid4().hex[:6]}"
    name = "".join(c if c.isalnum() or c == "-" else "-" for c in name)
    with own_namespace(cluster, name, bool(request.node.get_closest_marker("restricted"))):
        yield name

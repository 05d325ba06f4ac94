"""What every workload of the benchmark stands on: a local cluster whose API server writes the
benchmark identities' requests to an audit log, kwok's simulated nodes beside the real one, the
operator as a measured process with an identity of its own, and kubectl.

The operator and the floor's client each have a ServiceAccount, so the audit log tells their
requests apart from kube-controller-manager's, kwok's and the benchmark's own (reads made to watch
progress are the admin's and are not logged).
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "hack"))
sys.path.insert(0, str(REPO / "tests"))  # the tests' waiting and port helpers

from localcluster import LocalCluster  # noqa: E402
from support import free_port  # noqa: E402
from support import wait_for as wait_until  # noqa: E402
from kwok import LocalKwok  # noqa: E402

IDENTITY_NAMESPACE = "mlops-bench"
OPERATOR, FLOOR = "operator", "floor"  # ServiceAccounts in IDENTITY_NAMESPACE
AUDITED = tuple(f"system:serviceaccount:{IDENTITY_NAMESPACE}:{name}" for name in (OPERATOR, FLOOR))
WRITES = frozenset({"create", "update", "patch", "delete", "deletecollection"})
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Kubectl:
    path: str
    kubeconfig: str

    def __call__(self, *args: str, input: str | None = None, check: bool = True,
                 timeout: float = 600) -> subprocess.CompletedProcess:
        result = subprocess.run([self.path, f"--kubeconfig={self.kubeconfig}", *args], input=input,
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args[:4])}: {result.stderr.strip()[-2000:]}")
        return result

    def json(self, *args: str) -> dict:
        return json.loads(self("get", *args, "-o", "json").stdout)

    def apply(self, objects: list[dict], chunk: int = 500) -> None:
        """Creates or updates many objects, server-side, a chunk per request batch."""
        for start in range(0, len(objects), chunk):
            items = {"apiVersion": "v1", "kind": "List", "items": objects[start:start + chunk]}
            self("apply", "--server-side", "--field-manager=bench", "-f", "-", input=json.dumps(items))


@dataclass
class AuditLog:
    """The audited identities' requests, counted from an offset of the API server's audit log."""

    path: Path
    offset: int = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def since_mark(self, user: str) -> Counter:
        """(verb, resource[/subresource]) -> requests of `user` since the last mark. Watches are
        counted once, when they start."""
        counts: Counter = Counter()
        if not self.path.exists():
            return counts
        with self.path.open("rb") as log:
            log.seek(self.offset)
            for line in log:
                event = json.loads(line)
                if event["user"]["username"] != user or event.get("stage") not in ("ResponseComplete", "Panic"):
                    continue
                ref = event.get("objectRef") or {}
                resource = ref.get("resource", event.get("requestURI", "?").split("?")[0])
                if ref.get("subresource"):
                    resource += "/" + ref["subresource"]
                counts[event["verb"], resource] += 1
        return counts


def writes(counts: Counter) -> int:
    return sum(n for (verb, _), n in counts.items() if verb in WRITES)


def by_verb(counts: Counter) -> dict[str, int]:
    return {f"{verb} {resource}": n for (verb, resource), n in sorted(counts.items())}


@dataclass
class OperatorProcess:
    """`python -m mlops_operator` with the bench's operator identity, loopback ports, and its CPU
    time and memory read from /proc."""

    kubeconfig: Path
    log_path: Path
    # Each workload's operator watches its own namespace: what the other workloads leave behind
    # (W2's and W3's 20,000 objects) is not its cold start.
    namespace: str
    process: subprocess.Popen | None = None
    metrics_port: int = 0
    peak_rss_mb: float = 0.0

    def start(self, *args: str) -> "OperatorProcess":
        self.metrics_port = free_port()
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "mlops_operator", f"--namespace={self.namespace}",
                 f"--metrics-address=127.0.0.1:{self.metrics_port}",
                 f"--liveness=http://127.0.0.1:{free_port()}/healthz", *args],
                env=env, stdout=log, stderr=subprocess.STDOUT)
        self.peak_rss_mb = 0.0
        wait_until(self._serving, 60, "the operator's /metrics")
        return self

    def _serving(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"the operator exited ({self.process.returncode}); see {self.log_path}")
        try:
            self.metrics()
            return True
        except OSError:
            return False

    def metrics(self) -> dict[tuple[str, tuple], float]:
        # A scrape over 10,000 objects is megabytes the operator renders on a loaded machine.
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=120) as response:
            text = response.read().decode()
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime

    def rss_mb(self) -> float:
        status = dict(line.split(":", 1) for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines())
        rss = int(status["VmRSS"].split()[0]) / 1024
        self.peak_rss_mb = max(self.peak_rss_mb, int(status["VmHWM"].split()[0]) / 1024)
        return rss

    def idle(self, quiet: float = 3.0, timeout: float = 1800, interval: float = 1.0) -> float:
        """Waits until no reconcile ran for `quiet` seconds with nothing queued; returns when the
        last one ended (monotonic seconds, to `interval`: each look is a scrape, which the
        operator pays for, so the bench does not look more often)."""
        last_total, last_change = None, time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            samples = self.metrics()
            total = sum(v for (name, _), v in samples.items() if name == "controller_runtime_reconcile_total")
            busy = sum(v for (name, _), v in samples.items()
                       if name in ("workqueue_depth", "controller_runtime_active_workers"))
            self.rss_mb()
            now = time.monotonic()
            if total != last_total or busy:
                last_total, last_change = total, now
            elif now - last_change >= quiet:
                return last_change
            time.sleep(interval)
        raise TimeoutError("the operator never went idle")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
        if self.process:
            self.process.wait(60)


@dataclass
class Bench:
    """The running environment: cluster, kwok, identities; stopped by close()."""

    state_dir: Path
    kubectl: Kubectl = field(init=False)
    audit: AuditLog = field(init=False)
    cluster: LocalCluster = field(init=False)
    kwok: LocalKwok = field(init=False)
    operators: list[OperatorProcess] = field(default_factory=list)

    def start(self, kwok_nodes: int) -> "Bench":
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.cluster = LocalCluster(self.state_dir, verbosity=1, audited_users=AUDITED)
        state = self.cluster.start()
        self.kubectl = Kubectl(str(Path(state.bin_dir) / "kubectl"), state.kubeconfig)
        self.audit = AuditLog(self.state_dir / "logs" / "audit.log")
        self.kubectl("apply", "--server-side", "-f", str(REPO / "crds"))
        self.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", str(REPO / "crds"))
        self.kubectl("create", "namespace", IDENTITY_NAMESPACE)
        for name in (OPERATOR, FLOOR):
            self.kubectl("create", "serviceaccount", name, "-n", IDENTITY_NAMESPACE)
            self.kubectl("create", "clusterrolebinding", f"bench-{name}", "--clusterrole=cluster-admin",
                         f"--serviceaccount={IDENTITY_NAMESPACE}:{name}")
        self.kwok = LocalKwok(self.state_dir)
        self.kwok.start(nodes=kwok_nodes)
        return self

    def kubeconfig_of(self, account: str) -> Path:
        """A kubeconfig that authenticates as the ServiceAccount (a token, no certificate)."""
        token = self.kubectl("create", "token", account, "-n", IDENTITY_NAMESPACE, "--duration=48h").stdout.strip()
        config = json.loads(Path(self.kubectl.kubeconfig).read_text())
        config["users"] = [{"name": account, "user": {"token": token}}]
        config["contexts"][0]["context"]["user"] = account
        path = self.state_dir / f"{account}.kubeconfig"
        path.write_text(json.dumps(config))
        path.chmod(0o600)
        return path

    def apiserver_requests(self) -> Counter:
        """kube-apiserver's apiserver_request_total, all clients: (verb, resource) -> requests."""
        text = self.kubectl("get", "--raw", "/metrics").stdout
        counts: Counter = Counter()
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name == "apiserver_request_total":
                    resource = s.labels.get("resource", "") + (f"/{s.labels['subresource']}"
                                                               if s.labels.get("subresource") else "")
                    counts[s.labels["verb"].lower(), resource] += s.value
        return counts

    def apiserver_requests_since(self, before: Counter) -> dict[str, int]:
        after = self.apiserver_requests()
        return {f"{verb} {resource}": int(n - before.get((verb, resource), 0))
                for (verb, resource), n in sorted(after.items()) if n - before.get((verb, resource), 0) > 0}

    def operator(self, name: str, namespace: str) -> OperatorProcess:
        made = OperatorProcess(self.kubeconfig_of(OPERATOR), self.state_dir / "logs" / f"operator-{name}.log",
                               namespace)
        self.operators.append(made)
        return made

    def namespace(self, name: str) -> str:
        self.kubectl("create", "namespace", name)
        wait_until(lambda: self.kubectl("get", "serviceaccount", "default", "-n", name, check=False).returncode == 0,
                   30, f"the default ServiceAccount of {name}")
        return name

    def close(self) -> None:
        """Stops what the run started, a failed or interrupted one too: no operator outlives it."""
        for operator in self.operators:
            operator.stop(signal.SIGKILL)
        try:
            self.kwok.stop()
        finally:
            self.cluster.stop()

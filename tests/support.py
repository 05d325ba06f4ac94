"""Helpers shared by the integration tests."""

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


AUDITED_USER = "mlops-audited-operator"
"""The local cluster's API server logs this user's requests (logs/audit.log), and nobody else's."""
NAMESPACE_GONE_SECONDS = 120


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """Polls predicate until it returns something truthy; fails with `what` after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@contextmanager
def own_namespace(cluster, name: str, restricted: bool):
    """A namespace made for a test, deleted afterwards; restricted: it enforces Pod Security
    "restricted". A namespace that still has pods is waited for, so the next test starts on a quiet
    node; one without is only recorded (cluster.namespaces_deleted) and checked at the end of the
    session (namespaces_gone): kube-controller-manager starts every namespace deletion 5 s after
    it is asked, which cost each test 5 s for nothing. Either way every namespace must go while
    its operator is stopped, which proves deletion never waits on the operator."""
    cluster.kubectl("create", "namespace", name)
    try:
        if restricted:
            cluster.kubectl("label", "namespace", name, "pod-security.kubernetes.io/enforce=restricted")
        # The ServiceAccount admission plugin refuses pods until the namespace's default account exists.
        wait_for(lambda: cluster.kubectl("get", "serviceaccount", "default", namespace=name,
                                         check=False).returncode == 0, 30, f"the default ServiceAccount of {name}")
        yield name
    finally:
        cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)
        # A terminating namespace admits no new pod, so none listed now means none will run.
        if cluster.kubectl("get", "pods", "-o", "name", namespace=name, check=False).stdout.strip():
            wait_for(lambda: cluster.kubectl("get", "namespace", name, check=False).returncode != 0,
                     NAMESPACE_GONE_SECONDS, f"namespace {name} to be gone")
        else:
            cluster.namespaces_deleted.append(name)


def namespaces_gone(cluster) -> None:
    """Waits until every namespace own_namespace left to go on its own is gone."""
    def left() -> set[str]:
        listed = cluster.kubectl("get", "namespaces", "-o", "jsonpath={.items[*].metadata.name}").stdout.split()
        return set(cluster.namespaces_deleted) & set(listed)
    wait_for(lambda: not left(), NAMESPACE_GONE_SECONDS, "the tests' namespaces to be gone")


def json_stream(lines: Iterable[str]) -> Iterator[Any]:
    """The JSON values `kubectl get --watch -o json` prints one after another, each pretty-printed."""
    decoder, buffer = json.JSONDecoder(), ""
    for line in lines:
        buffer += line
        try:
            value, end = decoder.raw_decode(buffer.lstrip())
        except ValueError:
            continue
        buffer = buffer.lstrip()[end:]
        yield value


def get_json(cluster, namespace: str | None, *what: str) -> dict:
    return json.loads(cluster.kubectl("get", *what, "-o", "json", namespace=namespace).stdout)


def get_json_if_found(cluster, namespace: str | None, *what: str) -> dict | None:
    """None while the object does not exist, e.g. between the delete and the create that make it again."""
    found = cluster.kubectl("get", *what, "-o", "json", "--ignore-not-found", namespace=namespace)
    return json.loads(found.stdout) if found.stdout.strip() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OperatorProcess:
    """`python -m mlops_operator -n NAMESPACE` as a user runs it, with its output in a file."""

    def __init__(self, cluster, namespace: str, log_path: Path, *args: str):
        self.log_path = log_path
        self.metrics_port = free_port()
        self.liveness_url = f"http://127.0.0.1:{free_port()}/healthz"
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlops_operator", "-n", namespace, "--liveness", self.liveness_url,
             "--metrics-address", f"127.0.0.1:{self.metrics_port}",
             # Refresh intervals (at least 1m in the API) pass twenty times faster in tests.
             "--refresh-scale", "0.05", *args],
            env={**cluster.env, "PYTHONUNBUFFERED": "1"}, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def terminate(self, timeout: float = 20) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.log.close()

    def kill(self) -> None:
        """As a crash or an OOM kill would: no cleanup."""
        self.process.kill()
        self.process.wait()
        self.log.close()


class OperatorRunner:
    """Starts operator processes for one test and stops whatever is left at the end."""

    def __init__(self, cluster, namespace: str, folder: Path):
        self.cluster, self.namespace, self.folder = cluster, namespace, folder
        self.started: list[OperatorProcess] = []

    def start(self, *args: str) -> OperatorProcess:
        operator = OperatorProcess(self.cluster, self.namespace, self.folder / f"operator-{len(self.started)}.log",
                                   *args)
        self.started.append(operator)
        return operator

    def __enter__(self) -> "OperatorRunner":
        return self

    def __exit__(self, *_: object) -> None:
        for operator in self.started:
            if operator.process.poll() is None:
                operator.terminate()


def lease_holder_pod(cluster, namespace: str, lease: str, pods: list[dict]) -> dict | None:
    """Of an operator's pods, the one holding its leader-election Lease (the holder's identity is
    the pod's name and a random suffix), or None while nobody holds it."""
    found = cluster.kubectl("get", "lease", lease, "-o", "json", namespace=namespace, check=False)
    holder = json.loads(found.stdout)["spec"].get("holderIdentity") if found.returncode == 0 else None
    return next((p for p in pods if holder and holder.startswith(p["metadata"]["name"] + "_")), None)

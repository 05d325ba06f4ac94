#!/usr/bin/env python3
"""Simulated nodes beside a local cluster (hack/localcluster.py): kwok (sigs.k8s.io/kwok) plays the
kubelet of N fake Nodes, so Jobs and Deployments scheduled there run without processes, at a scale
the local node (which runs real processes) cannot carry.

    python3 hack/kwok.py start --nodes 4    # build if needed, start kwok, create the Nodes, wait Ready
    python3 hack/kwok.py settings --duration 2s --result '{"metrics": {"score": $(PARAM_X)}}'
                                            # the spec.pod that puts an object's pods there, as JSON
    python3 hack/kwok.py stop               # delete the Nodes, stop kwok (`localcluster.py down` does too)

What runs where: kwok is one process on the host, with the cluster's admin kubeconfig, talking to the
API server at 10.244.K.254:6443; it listens only on 127.0.0.1:<a free port> (health, metrics) and
dials nothing else. Its Nodes kwok-node-0..N-1 are labelled `type: kwok`, tainted
kwok.x-k8s.io/node=fake:NoSchedule (so nothing lands there unless it asks, and the local node keeps
the real pods) and annotated kwok.x-k8s.io/node=fake (kwok manages only these, never local-node).
Their pods get addresses from 10.250.0.0/16 and the Nodes from 10.251.0.0/16, outside the
cluster's pods (10.244.0.0/16) and Services (10.96.0.0/16); nothing answers on them.

What happens to a pod there (the Stages in hack/kwok/): it runs and is Ready at once; a pod
annotated mlops.dev/simulated-duration then ends after that delay, Succeeded or Failed
(mlops.dev/simulated-exit-code), with the termination message of mlops.dev/simulated-result (or
env MLOPS_SIMULATED_RESULT), $(VAR) replaced with the container's env: a simulated trial reports
its metrics through the same contract as a real one. Other pods (model servers) keep running.

The binary comes from `hack/build-tools.sh kwok`. Its files are under the cluster's state dir:
kwok/state.json (pid, address, Nodes) and the log in logs/kwok.log. Standard library only.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from cluster.processes import alive, spawn, stop_process_group
from cluster.state import DEFAULT_STATE_DIR, HACK, ClusterState

STAGES = HACK / "kwok"
STAGE_FILES = ("node-initialize.yaml", "node-heartbeat-with-lease.yaml", "pod-ready.yaml", "pod-complete.yaml",
               "pod-delete.yaml")
POD_CIDR = "10.250.0.0/16"
NODE_CIDR = "10.251.0.0/16"
NODE_PREFIX = "kwok-node-"
NODE_LEASE_SECONDS = 40  # kwokctl's default; kwok then renews a Lease per Node instead of patching status
MANAGED = ("kwok.x-k8s.io/node", "fake")  # the annotation kwok selects its Nodes by
LABEL = ("type", "kwok")  # what pods select
TAINT = {"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}
TOLERATION = {"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}
# What the pod-complete Stage reads (hack/kwok/pod-complete.yaml).
DURATION = "mlops.dev/simulated-duration"
JITTER = "mlops.dev/simulated-jitter"
EXIT_CODE = "mlops.dev/simulated-exit-code"
RESULT = "mlops.dev/simulated-result"
RESULT_ENV = "MLOPS_SIMULATED_RESULT"
# The cluster's own addresses and kwok's loopback port: never through a proxy the environment names.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def build() -> Path:
    """The pinned kwok binary (built on first use: minutes; cached)."""
    out = subprocess.run([str(HACK / "build-tools.sh"), "kwok"], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    return Path(out.strip().splitlines()[-1]) / "kwok"


def pod_settings(duration: str | None = "1s", *, result: str | None = None, jitter: str | None = None,
                 exit_code: int | str | None = None, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """The `spec.pod` (PodSettings: every kind has it) that lands an object's pods on the kwok Nodes.
    With a duration (a Go duration such as "2s") each pod ends after it, with `result` as its
    termination message (e.g. '{"metrics": {"score": $(PARAM_X)}}') and `exit_code`; without one
    the pods run until deleted (model servers)."""
    notes = dict(annotations or {})
    for key, value in ((DURATION, duration), (JITTER, jitter), (RESULT, result), (EXIT_CODE, exit_code)):
        if value is not None:
            notes[key] = str(value)
    settings: dict[str, Any] = {"nodeSelector": dict([LABEL]), "tolerations": [dict(TOLERATION)]}
    if notes:
        settings["annotations"] = notes
    return settings


def node_manifest(name: str, address: str, pods: int) -> dict[str, Any]:
    """A fake Node for kwok to manage. Its addresses are given here, so that every Node has its own
    InternalIP: node-initialize keeps them when both types are there (with one only, it writes
    `addresses:` with nothing under it, as kwok has no --node-name here: the patch deletes them)."""
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {MANAGED[0]: MANAGED[1], "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                       LABEL[0]: LABEL[1]},
        },
        # A providerID, as kwok's docs advise, so that no cloud controller takes it for a stray.
        "spec": {"providerID": f"kwok://{name}", "taints": [dict(TAINT)]},
        "status": {"allocatable": {"cpu": "32", "memory": "256Gi", "pods": str(pods)},
                   "capacity": {"cpu": "32", "memory": "256Gi", "pods": str(pods)},
                   "addresses": [{"type": "InternalIP", "address": address}, {"type": "Hostname", "address": name}]},
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalKwok:
    """The kwok of the local cluster whose state is in state_dir, and its fake Nodes."""

    def __init__(self, state_dir: Path):
        self.state_dir = Path(state_dir)
        self.folder = self.state_dir / "kwok"
        self.log_path = self.state_dir / "logs" / "kwok.log"
        self._state_file = self.folder / "state.json"

    # --- what is running -----------------------------------------------------------------------

    def _saved(self) -> dict[str, Any]:
        try:
            return json.loads(self._state_file.read_text())
        except (OSError, ValueError):
            return {}

    def _save(self, **fields: Any) -> None:
        self._state_file.write_text(json.dumps({**self._saved(), **fields}, indent=2))

    def running(self) -> bool:
        return self.pid is not None

    @property
    def pid(self) -> int | None:
        """kwok's process (for a benchmark's CPU and memory readings), while it runs."""
        pid = self._saved().get("pid")
        return pid if pid and alive(pid) else None

    @property
    def address(self) -> str:
        """kwok's own server (/healthz, /metrics), on the host's loopback."""
        saved = self._saved()
        if "address" not in saved:
            raise RuntimeError(f"no kwok started for {self.state_dir}")
        return f"http://{saved['address']}"

    @property
    def nodes(self) -> list[str]:
        """The fake Nodes' names."""
        return list(self._saved().get("nodes", []))

    # --- the API server ------------------------------------------------------------------------

    def _cluster(self) -> ClusterState:
        state = ClusterState.load(self.state_dir)
        if state is None:
            raise RuntimeError(f"no local cluster state in {self.state_dir}; start the cluster first")
        return state

    def _api(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        """One request with the admin certificate; (status code, the answer's JSON)."""
        pki = self.state_dir / "pki"
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=context))
        request = urllib.request.Request(
            self._cluster().server + path, method=method, data=json.dumps(body).encode() if body else None,
            headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    # --- start and stop ------------------------------------------------------------------------

    def start(self, nodes: int = 4, *, pods_per_node: int = 110, timeout: float = 60) -> list[str]:
        """Starts kwok, creates `nodes` fake Nodes and waits until they are Ready; returns their names.
        Each holds pods_per_node running pods (finished pods do not count)."""
        if not 1 <= nodes <= 1000 or pods_per_node < 1:
            raise ValueError(f"nodes must be 1 to 1000 and pods_per_node at least 1, got {nodes} and {pods_per_node}")
        if self.running():
            raise RuntimeError(f"a kwok is already running for {self.state_dir}; stop it first")
        state = self._cluster()
        binary = build()
        self.stop()  # the Nodes and files of a previous run killed hard
        self.folder.mkdir(parents=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        address = f"127.0.0.1:{_free_port()}"
        names = [f"{NODE_PREFIX}{i}" for i in range(nodes)]
        node_ips = ipaddress.ip_network(NODE_CIDR).hosts()
        argv = [str(binary), f"--kubeconfig={state.kubeconfig}",
                f"--config={','.join(str(STAGES / name) for name in STAGE_FILES)}",
                "--manage-all-nodes=false", f"--manage-nodes-with-annotation-selector={MANAGED[0]}={MANAGED[1]}",
                f"--node-lease-duration-seconds={NODE_LEASE_SECONDS}", f"--cidr={POD_CIDR}",
                f"--node-ip={ipaddress.ip_network(NODE_CIDR).broadcast_address - 1}",
                # Never --node-port alone: kwok would listen on 0.0.0.0.
                f"--server-address={address}"]
        # KWOK_WORKDIR: kwok loads <workdir>/kwok.yaml implicitly (~/.kwok by default); here, nothing.
        env = {**{k: v for k, v in os.environ.items() if k.lower() not in _PROXY_VARIABLES},
               "KWOK_WORKDIR": str(self.folder)}
        pid = spawn(argv, self.log_path, cwd=self.folder, env=env)
        self._save(pid=pid, address=address, nodes=names)
        try:
            self._wait("kwok /healthz", lambda: self._healthy(pid), timeout)
            for name in names:
                code, answer = self._api("POST", "/api/v1/nodes", node_manifest(name, str(next(node_ips)),
                                                                                 pods_per_node))
                if code != 201:
                    raise RuntimeError(f"creating node {name}: {code} {answer.get('message', answer)}")
            self._wait(f"{nodes} kwok nodes Ready", lambda: self._ready(names, pid), timeout)
        except BaseException:
            self.stop()
            raise
        return names

    def _wait(self, what: str, probe, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if probe():
                return
            time.sleep(0.25)
        raise TimeoutError(f"timed out after {timeout}s waiting for {what} (log: {self.log_path})")

    def _check_alive(self, pid: int) -> None:
        if not alive(pid):
            raise RuntimeError(f"kwok exited:\n{self.log_path.read_text(errors='replace')[-3000:]}")

    def _healthy(self, pid: int) -> bool:
        self._check_alive(pid)
        try:
            with _OPENER.open(f"{self.address}/healthz", timeout=2) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def _ready(self, names: list[str], pid: int) -> bool:
        self._check_alive(pid)
        code, answer = self._api("GET", f"/api/v1/nodes?labelSelector={LABEL[0]}%3D{LABEL[1]}")
        if code != 200:
            return False
        ready = {node["metadata"]["name"] for node in answer.get("items", [])
                 if any(c["type"] == "Ready" and c["status"] == "True"
                        for c in node.get("status", {}).get("conditions", []))}
        return set(names) <= ready

    def stop(self) -> None:
        """Deletes the fake Nodes (when the cluster still answers), SIGTERMs kwok and waits until it
        has ended, and removes its files. Pods still bound to the Nodes are left to
        kube-controller-manager's pod garbage collector, which deletes the pods of Nodes that are
        gone; their Leases go with them (owned by the Node)."""
        saved = self._saved()
        if not saved:
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        problems = []
        if ClusterState.load(self.state_dir) is not None:
            for name in saved.get("nodes", []):
                try:
                    code, answer = self._api("DELETE", f"/api/v1/nodes/{name}")
                except OSError:
                    break  # the API server is gone, and the Nodes with it
                if code not in (200, 404):
                    problems.append(f"deleting node {name}: {code} {answer.get('message', answer)}")
        pid = saved.get("pid")
        if pid and alive(pid):
            stop_process_group(pid)
            if alive(pid):
                problems.append(f"kwok (pid {pid}) did not stop")
        shutil.rmtree(self.folder, ignore_errors=True)
        if problems:
            raise RuntimeError("; ".join(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "settings"])
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR,
                        help=f"the local cluster's state dir (default {DEFAULT_STATE_DIR})")
    parser.add_argument("--nodes", type=int, default=4, help="fake Nodes to create (start; default 4)")
    parser.add_argument("--pods-per-node", type=int, default=110, help="running pods each holds (start; default 110)")
    parser.add_argument("--duration", help="settings: how long each pod runs (a Go duration); none: until deleted")
    parser.add_argument("--jitter", help="settings: a random extra delay, up to this Go duration")
    parser.add_argument("--exit-code", help="settings: the container's exit code ($(VAR) allowed)")
    parser.add_argument("--result", help="settings: the termination message ($(VAR) allowed)")
    args = parser.parse_args(argv)
    kwok = LocalKwok(args.state_dir)
    try:
        if args.command == "start":
            names = kwok.start(args.nodes, pods_per_node=args.pods_per_node)
            print(f"kwok at {kwok.address}: nodes {', '.join(names)} Ready (log: {kwok.log_path})")
        elif args.command == "stop":
            kwok.stop()
        else:
            print(json.dumps(pod_settings(args.duration, result=args.result, jitter=args.jitter,
                                          exit_code=args.exit_code), indent=2))
    except (RuntimeError, TimeoutError, ValueError, OSError, subprocess.CalledProcessError) as error:
        print(f"kwok {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

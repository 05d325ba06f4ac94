#!/usr/bin/env python3
"""A real Prometheus for a local cluster (hack/localcluster.py), finding what to scrape through its
own Kubernetes service discovery against the cluster's API server.

    python3 hack/prometheus.py start [--rules FILE]   # build if needed, start, wait for /-/ready
    python3 hack/prometheus.py query 'up'             # the answer's data.result, as JSON
    python3 hack/prometheus.py stop                   # (`localcluster.py down` stops it as well)

It runs in the control plane's network namespace, beside the API server, and listens on that
namespace's address on the bridge, http://10.244.K.254:9090: the host reaches it there (as it
reaches the API server), and so do pods (the in-cluster operator's canary analysis). From there it
reaches the API server and every pod's address. One job, `kubernetes-pods`, as the community's
common configuration has it (the prometheus-community chart's): pods annotated
`prometheus.io/scrape: "true"`, on the port and path of their `prometheus.io/port` and
`prometheus.io/path` annotations, with target labels `namespace` and `pod`, honouring the scraped
labels. Scrapes and rule evaluations every 2s, so that tests wait seconds, not minutes.

The binaries come from `hack/build-tools.sh prometheus` (Prometheus built from its Go module with
Kubernetes discovery; Debian's has none). Its files are under the cluster's state dir: the config
and TSDB in prometheus/, the log in logs/prometheus.log. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from cluster.launch import API_SERVER_PORT
from cluster.network import ClusterNetwork
from cluster.processes import alive, spawn, stop_process_group
from cluster.state import DEFAULT_STATE_DIR, HACK, ClusterState

PORT = 9090  # free in the control plane's namespace: its other listeners are on its loopback or at 6443
INTERVAL = "2s"
JOB = "kubernetes-pods"
CHART_RULES = HACK.parent / "charts" / "mlops-operator" / "files" / "alerts.yaml"  # loaded when it exists
# The cluster's own addresses: never through a proxy the environment may name.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def build() -> Path:
    """The folder of the pinned prometheus and promtool (built on first use: minutes; cached)."""
    out = subprocess.run([str(HACK / "build-tools.sh"), "prometheus"], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    return Path(out.strip().splitlines()[-1])


def config(api_server: str, pki: Path, rules: Path | None) -> dict:
    """prometheus.yml (as JSON, which is YAML)."""
    def annotation(name: str) -> str:
        return f"__meta_kubernetes_pod_annotation_prometheus_io_{name}"

    return {
        "global": {"scrape_interval": INTERVAL, "evaluation_interval": INTERVAL},
        "rule_files": [str(rules)] if rules else [],
        "scrape_configs": [{
            "job_name": JOB,
            # The operator's pipeline metrics carry the `namespace` of the object they describe: kept,
            # not renamed exported_namespace in favour of the pod's.
            "honor_labels": True,
            "kubernetes_sd_configs": [{
                "role": "pod", "api_server": api_server,
                "tls_config": {"ca_file": str(pki / "ca.crt"), "cert_file": str(pki / "admin.crt"),
                               "key_file": str(pki / "admin.key")},
            }],
            "relabel_configs": [
                {"source_labels": [annotation("scrape")], "regex": "true", "action": "keep"},
                # Pods that ended or have not started have nothing to scrape.
                {"source_labels": ["__meta_kubernetes_pod_phase"], "regex": "Pending|Succeeded|Failed|Completed",
                 "action": "drop"},
                {"source_labels": [annotation("path")], "regex": "(.+)", "target_label": "__metrics_path__"},
                {"source_labels": ["__address__", annotation("port")], "regex": r"([^:]+)(?::\d+)?;(\d+)",
                 "replacement": "$1:$2", "target_label": "__address__"},
                {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
                {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
                # Unlike the community's job, no labelmap of the pod's labels: the operator's carry
                # owner UIDs, a new series set per object for no query's sake.
            ],
        }],
    }


class LocalPrometheus:
    """The Prometheus of the local cluster whose state is in state_dir."""

    def __init__(self, state_dir: Path):
        self.state_dir = Path(state_dir)
        self.folder = self.state_dir / "prometheus"
        self.log_path = self.state_dir / "logs" / "prometheus.log"
        self._pid_file = self.folder / "pid"

    def _cluster(self) -> tuple[ClusterState, ClusterNetwork]:
        state = ClusterState.load(self.state_dir)
        if state is None or not state.bridge:
            raise RuntimeError(f"no local cluster state in {self.state_dir}; start the cluster first")
        return state, ClusterNetwork(state.bridge, state.pod_cidr)

    @property
    def address(self) -> str:
        """The base URL, the same from the host and from pods."""
        return f"http://{self._cluster()[1].control_plane_address}:{PORT}"

    def _pid(self) -> int | None:
        try:
            pid = int(self._pid_file.read_text())
        except (OSError, ValueError):
            return None
        return pid if alive(pid) else None

    def start(self, rules: Path | None = None, timeout: float = 60) -> str:
        """Starts it and waits until it is ready; returns its address."""
        if self._pid():
            raise RuntimeError(f"a Prometheus is already running for {self.state_dir}; stop it first")
        state, net = self._cluster()
        bin_dir = build()
        self.stop()  # the files of a previous run killed hard
        self.folder.mkdir(parents=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        config_file = self.folder / "prometheus.yml"
        config_file.write_text(json.dumps(config(
            f"https://{net.control_plane_address}:{API_SERVER_PORT}", self.state_dir / "pki", rules), indent=2))
        argv = [str(bin_dir / "prometheus"), f"--config.file={config_file}",
                f"--storage.tsdb.path={tempfile.mkdtemp(prefix='tsdb-', dir=self.folder)}",
                f"--web.listen-address={net.control_plane_address}:{PORT}"]
        pid = spawn(argv, self.log_path, netns=state.netns)
        self._pid_file.write_text(str(pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not alive(pid):
                raise RuntimeError(f"prometheus exited at start:\n{self.log_path.read_text(errors='replace')[-3000:]}")
            try:
                with _OPENER.open(f"{self.address}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return self.address
            except (OSError, urllib.error.URLError):
                pass  # not listening yet, or 503 while it replays its (empty) write-ahead log
            time.sleep(0.25)
        self.stop()
        raise TimeoutError(f"prometheus not ready at {self.address} after {timeout}s (log: {self.log_path})")

    def stop(self) -> None:
        """SIGTERM, waits until it has ended, and removes its config and data."""
        pid = self._pid()
        if pid:
            stop_process_group(pid)
            if alive(pid):
                raise RuntimeError(f"prometheus (pid {pid}) did not stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def _api(self, path: str, **params: str) -> dict:
        url = f"{self.address}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        try:
            with _OPENER.open(url, timeout=10) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:  # a bad query: 400/422 with the same JSON body
            answer = json.load(error)
        if answer.get("status") != "success":
            raise ValueError(f"{path} {params}: {answer.get('errorType')}: {answer.get('error')}")
        return answer["data"]

    def query(self, expr: str) -> list[dict]:
        """An instant query's result: [{"metric": {...}, "value": [time, "number"]}, ...]."""
        return self._api("query", query=expr)["result"]

    def targets(self) -> list[dict]:
        """The active targets, with their labels, discoveredLabels, health and lastError."""
        return self._api("targets", state="active")["activeTargets"]

    def rules(self) -> list[dict]:
        """Every loaded rule, with its group's file, its health and lastError."""
        return [{**rule, "file": group["file"]} for group in self._api("rules")["groups"] for rule in group["rules"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "query"])
    parser.add_argument("expr", nargs="?", help="the PromQL of `query`")
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR,
                        help=f"the local cluster's state dir (default {DEFAULT_STATE_DIR})")
    parser.add_argument("--rules", type=Path, default=CHART_RULES if CHART_RULES.exists() else None,
                        help="a rules file to load (default: the chart's alert rules, when they exist)")
    args = parser.parse_args(argv)
    prometheus = LocalPrometheus(args.state_dir)
    try:
        if args.command == "start":
            print(prometheus.start(args.rules.resolve() if args.rules else None))
        elif args.command == "stop":
            prometheus.stop()
        else:
            if not args.expr:
                parser.error("query needs an expression")
            print(json.dumps(prometheus.query(args.expr), indent=2))
    except (RuntimeError, TimeoutError, ValueError, OSError) as error:
        print(f"prometheus {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

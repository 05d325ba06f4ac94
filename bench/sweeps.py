"""The workloads whose trials run on kwok's nodes: W1 fan-out against the Kubernetes floor, W4
spec-edit bursts, W5 latency from a Job's completion to the Experiment's status."""

import json
import ssl
import threading
import time
import urllib.request
from pathlib import Path

from harness import FLOOR, OPERATOR, Bench, by_verb, wait_until, writes
from objects import IMAGE, experiment, in_namespace, ready_dataset, simulated

USERS = {name: f"system:serviceaccount:mlops-bench:{name}" for name in (OPERATOR, FLOOR)}


def _sum(operator, metric: str, **labels: str) -> float:
    return sum(v for (name, found), v in operator.metrics().items()
               if name == metric and all(dict(found).get(k) == want for k, want in labels.items()))


def _ready_dataset(bench: Bench, operator, namespace: str) -> None:
    bench.kubectl.apply(in_namespace([ready_dataset("data")], namespace))
    wait_until(lambda: _sum(operator, "mlops_objects", namespace=namespace, kind="Dataset", phase="Ready"), 120,
               f"the Dataset of {namespace} Ready")


def fan_out(bench: Bench, size) -> dict:
    """W1: experiments x trials with the operator, then the same pods as one Indexed Job per
    experiment created by a minimal client (the floor Kubernetes sets)."""
    count, trials, parallelism = size.fan_out
    namespace = bench.namespace("w1-fan-out")
    operator = bench.operator("w1").start()
    _ready_dataset(bench, operator, namespace)
    api_before = bench.apiserver_requests()
    bench.audit.mark()
    cpu = operator.cpu_seconds()
    started, curve = time.monotonic(), []

    def done() -> bool:
        succeeded = _sum(operator, "mlops_experiment_trials", namespace=namespace, state="succeeded")
        curve.append([round(time.monotonic() - started, 2), succeeded])
        operator.rss_mb()
        return _sum(operator, "mlops_objects", namespace=namespace, kind="Experiment", phase="Succeeded") >= count

    bench.kubectl.apply(in_namespace([experiment(f"e{i}", "data", trials, parallelism) for i in range(count)],
                                     namespace))
    wait_until(done, 3600, f"{count} experiments Succeeded", interval=0.5)
    seconds = time.monotonic() - started
    operator.idle()
    requests = bench.audit.since_mark(USERS[OPERATOR])
    api = bench.apiserver_requests_since(api_before)
    result = {"experiments": count, "trials": trials, "parallelism": parallelism,
              "seconds": round(seconds, 2), "operator_cpu_seconds": round(operator.cpu_seconds() - cpu, 2),
              "operator_peak_rss_mb": round(operator.peak_rss_mb, 1), "writes": writes(requests),
              "writes_per_experiment": round(writes(requests) / count, 2),
              "minimum_writes_per_experiment": trials + 2, "requests": by_verb(requests),
              "apiserver_requests_all_clients": api}
    operator.stop()
    bench.kubectl("delete", "namespace", namespace, "--wait=false")
    floor = _floor(bench, count, trials, parallelism)
    result["floor"] = floor
    result["convergence_over_floor"] = round(seconds / floor["seconds"], 2)
    result["writes_over_floor"] = round(result["writes"] / floor["writes"], 2)
    return {"W1_fan_out": result, "curves": {"W1 operator: trials succeeded": curve,
                                             "W1 floor: trials succeeded": floor.pop("curve")}}


class FloorClient:
    """The least a controller must do for the same pods: one Indexed Job per experiment and a
    status patch when it starts and when it ends, as its own ServiceAccount."""

    def __init__(self, bench: Bench):
        config = json.loads(bench.kubeconfig_of(FLOOR).read_text())
        self.server = config["clusters"][0]["cluster"]["server"]
        self.token = config["users"][0]["user"]["token"]
        self.context = ssl.create_default_context(cafile=str(bench.state_dir / "pki" / "ca.crt"))

    def send(self, method: str, path: str, body: dict, content_type: str = "application/json") -> None:
        request = urllib.request.Request(self.server + path, json.dumps(body).encode(), method=method,
                                         headers={"Authorization": f"Bearer {self.token}",
                                                  "Content-Type": content_type})
        with urllib.request.urlopen(request, context=self.context, timeout=30):
            pass

    def phase(self, namespace: str, name: str, phase: str) -> None:
        self.send("PATCH", f"/apis/mlops.dev/v1alpha1/namespaces/{namespace}/experiments/{name}/status",
                  {"status": {"phase": phase}}, "application/merge-patch+json")


def indexed_job(name: str, trials: int, parallelism: int) -> dict:
    pod = simulated('{"metrics": {"score": 1}}')
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"completionMode": "Indexed", "completions": trials, "parallelism": parallelism,
                     "backoffLimit": 0, "template": {
                         "metadata": {"annotations": pod["annotations"]},
                         "spec": {"restartPolicy": "Never", "nodeSelector": pod["nodeSelector"],
                                  "tolerations": pod["tolerations"],
                                  "containers": [{"name": "trial", "image": IMAGE}]}}}}


def _floor(bench: Bench, count: int, trials: int, parallelism: int) -> dict:
    namespace = bench.namespace("w1-floor")
    # The floor's objects exist before it starts, as the Experiments did; no operator runs.
    bench.kubectl.apply(in_namespace([experiment(f"e{i}", "data", trials, parallelism) for i in range(count)],
                                     namespace))
    client = FloorClient(bench)
    bench.audit.mark()
    started, curve, finished = time.monotonic(), [], set()
    for i in range(count):
        client.send("POST", f"/apis/batch/v1/namespaces/{namespace}/jobs", indexed_job(f"e{i}", trials, parallelism))
        client.phase(namespace, f"e{i}", "Running")

    def done() -> bool:
        jobs = bench.kubectl.json("jobs", "-n", namespace)["items"]
        curve.append([round(time.monotonic() - started, 2), sum(j["status"].get("succeeded", 0) for j in jobs)])
        for job in jobs:
            name = job["metadata"]["name"]
            complete = any(c["type"] == "Complete" and c["status"] == "True"
                           for c in job["status"].get("conditions") or [])
            if complete and name not in finished:
                client.phase(namespace, name, "Succeeded")
                finished.add(name)
        return len(finished) == count

    wait_until(done, 3600, f"{count} Indexed Jobs complete", interval=0.5)
    seconds = time.monotonic() - started
    requests = bench.audit.since_mark(USERS[FLOOR])
    bench.kubectl("delete", "namespace", namespace, "--wait=false")
    return {"seconds": round(seconds, 2), "writes": writes(requests), "requests": by_verb(requests), "curve": curve}


def burst(bench: Bench, size) -> dict:
    """W4: five spec edits per Experiment in quick succession: how many runs start."""
    namespace = bench.namespace("w4-burst")
    operator = bench.operator("w4").start()
    _ready_dataset(bench, operator, namespace)
    bench.audit.mark()
    edits = 5
    for edit in range(edits):
        # Each edit is a new search (other values of x): a new run, unless a later edit supersedes it.
        bench.kubectl.apply(in_namespace([experiment(f"e{i}", "data", 4, 2, seconds=2, first=1 + edit)
                                          for i in range(size.burst)], namespace))
    wait_until(lambda: _sum(operator, "mlops_objects", namespace=namespace, kind="Experiment", phase="Succeeded")
               >= size.burst, 1800, "the edited experiments Succeeded", interval=0.5)
    operator.idle()
    requests = bench.audit.since_mark(USERS[OPERATOR])
    statuses = [e["status"] for e in bench.kubectl.json("experiments", "-n", namespace)["items"]]
    trial_jobs = requests.get(("create", "jobs"), 0)
    operator.stop()
    bench.kubectl("delete", "namespace", namespace, "--wait=false")
    return {"W4_burst": {
        "experiments": size.burst, "edits_per_experiment": edits,
        "runs_started_per_experiment": round(sum(s.get("run", 0) for s in statuses) / size.burst, 2),
        "trial_jobs_created_per_experiment": round(trial_jobs / size.burst, 2),
        "writes_per_edit": round(writes(requests) / (size.burst * edits), 2), "requests": by_verb(requests)}}


def latency(bench: Bench, size) -> dict:
    """W5: from a trial Job's completion, as a watch sees it, to the Experiment's status counting it."""
    namespace = bench.namespace("w5-latency")
    operator = bench.operator("w5").start()
    _ready_dataset(bench, operator, namespace)
    jobs = Watch(bench, f"/apis/batch/v1/namespaces/{namespace}/jobs")
    experiments = Watch(bench, f"/apis/mlops.dev/v1alpha1/namespaces/{namespace}/experiments")
    bench.kubectl.apply(in_namespace([experiment("timed", "data", size.latency_trials, 5)], namespace))
    wait_until(lambda: _sum(operator, "mlops_objects", namespace=namespace, kind="Experiment", phase="Succeeded"),
               1800, "the timed experiment Succeeded", interval=0.5)
    job_events, experiment_events = jobs.stop(), experiments.stop()
    where = _mean_seconds(operator, "experiment")
    operator.stop()
    bench.kubectl("delete", "namespace", namespace, "--wait=false")
    finished_at = _first_finish(job_events, "timed-")
    counted = [(t, sum((e["object"].get("status", {}).get("trials") or {}).get(k, 0) for k in ("succeeded", "failed")))
               for t, e in experiment_events]
    delays = []
    for k, at in enumerate(finished_at, start=1):
        seen = next((t for t, n in counted if n >= k and t >= at), None)
        if seen is not None:
            delays.append((seen - at) * 1000)
    delays.sort()
    return {"W5_latency": {"trials": size.latency_trials, "measured": len(delays),
                           "p50_ms": round(_quantile(delays, 0.5), 1), "p99_ms": round(_quantile(delays, 0.99), 1),
                           "max_ms": round(delays[-1], 1) if delays else None,
                           "mean_queue_wait_ms": where["workqueue_queue_duration_seconds"],
                           "mean_reconcile_ms": where["controller_runtime_reconcile_time_seconds"]}}


def _mean_seconds(operator, controller: str) -> dict[str, float]:
    """The mean of two of the operator's histograms for a controller, in ms: where a reconcile's
    latency goes (waiting in the queue, or working)."""
    samples = operator.metrics()
    means = {}
    for histogram in ("workqueue_queue_duration_seconds", "controller_runtime_reconcile_time_seconds"):
        total = count = 0.0
        for (name, labels), value in samples.items():
            if dict(labels).get("controller") == controller:
                total += value if name == histogram + "_sum" else 0
                count += value if name == histogram + "_count" else 0
        means[histogram] = round(1000 * total / count, 1) if count else None
    return means


def _first_finish(events: list, prefix: str) -> list[float]:
    """When each Job whose name starts with prefix was first seen finished."""
    first: dict[str, float] = {}
    for t, event in events:
        job = event["object"]
        if job["metadata"]["name"].startswith(prefix) and any(
                c["type"] in ("Complete", "Failed") and c["status"] == "True"
                for c in job.get("status", {}).get("conditions") or []):
            first.setdefault(job["metadata"]["name"], t)
    return sorted(first.values())


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


class Watch:
    """A watch of a collection as the admin, in a thread: (monotonic time, event) as received.
    stop() keeps what came so far; the thread, a daemon, ends with the watch's timeout or the
    process (closing a response another thread reads from can block both)."""

    def __init__(self, bench: Bench, path: str):
        pki = bench.state_dir / "pki"
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        server = json.loads(Path(bench.kubectl.kubeconfig).read_text())["clusters"][0]["cluster"]["server"]
        self.events: list[tuple[float, dict]] = []
        self._stopped = False
        self._response = urllib.request.urlopen(f"{server}{path}?watch=1&timeoutSeconds=1800", context=context)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._response:
            if self._stopped:
                return
            self.events.append((time.monotonic(), json.loads(line)))

    def stop(self) -> list[tuple[float, dict]]:
        self._stopped = True
        return list(self.events)

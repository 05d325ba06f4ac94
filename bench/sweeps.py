"""The workloads whose trials run on kwok's nodes: W1 fan-out against the Kubernetes floor, W4
spec-edit bursts, W5 latency from a Job's completion to the Experiment's status."""

import json
import ssl
import threading
import time
import urllib.request
from pathlib import Path

import floor as floors
from harness import OPERATOR, Bench, by_verb, wait_until, writes
from objects import experiment, in_namespace, ready_dataset

OPERATOR_USER = f"system:serviceaccount:mlops-bench:{OPERATOR}"


def _sum(operator, metric: str, **labels: str) -> float:
    return sum(v for (name, found), v in operator.metrics().items()
               if name == metric and all(dict(found).get(k) == want for k, want in labels.items()))


def _ready_dataset(bench: Bench, operator, namespace: str) -> None:
    bench.kubectl.apply(in_namespace([ready_dataset("data")], namespace))
    wait_until(lambda: _sum(operator, "mlops_objects", namespace=namespace, kind="Dataset", phase="Ready"), 120,
               f"the Dataset of {namespace} Ready")


def fan_out(bench: Bench, size, earlier: dict) -> dict:
    """W1: experiments x trials with the operator, then the same pods as one Indexed Job per
    experiment created by a minimal client (the floor Kubernetes sets)."""
    count, trials, parallelism = size.fan_out
    namespace = bench.namespace("w1-fan-out")
    operator = bench.operator("w1", namespace).start()
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
    requests = bench.audit.since_mark(OPERATOR_USER)
    api = bench.apiserver_requests_since(api_before)
    result = {"experiments": count, "trials": trials, "parallelism": parallelism,
              "seconds": round(seconds, 2), "trials_per_second": round(count * trials / seconds, 2),
              "operator_cpu_seconds": round(operator.cpu_seconds() - cpu, 2),
              "operator_peak_rss_mb": round(operator.peak_rss_mb, 1), "writes": writes(requests),
              "writes_per_experiment": round(writes(requests) / count, 2),
              "minimum_writes_per_experiment": trials + 2, "requests": by_verb(requests),
              "apiserver_requests_all_clients": api}
    operator.stop()
    bench.kubectl("delete", "namespace", namespace, "--wait=false")
    floor = floors.fan_out(bench, count, trials, parallelism)
    result["floor"] = floor
    result["convergence_over_floor"] = round(seconds / floor["seconds"], 2)
    result["writes_over_floor"] = round(result["writes"] / floor["writes"], 2)
    return {"W1_fan_out": result, "curves": {"W1 operator: trials succeeded": curve,
                                             "W1 floor: trials succeeded": floor.pop("curve")}}


def burst(bench: Bench, size, earlier: dict) -> dict:
    """W4: five spec edits per Experiment in quick succession: how many runs start."""
    namespace = bench.namespace("w4-burst")
    operator = bench.operator("w4", namespace).start()
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
    requests = bench.audit.since_mark(OPERATOR_USER)
    statuses = [e["status"] for e in bench.kubectl.json("experiments", "-n", namespace)["items"]]
    trial_jobs = requests.get(("create", "jobs"), 0)
    operator.stop()
    bench.kubectl("delete", "namespace", namespace, "--wait=false")
    return {"W4_burst": {
        "experiments": size.burst, "edits_per_experiment": edits,
        "runs_started_per_experiment": round(sum(s.get("run", 0) for s in statuses) / size.burst, 2),
        "trial_jobs_created_per_experiment": round(trial_jobs / size.burst, 2),
        "writes_per_edit": round(writes(requests) / (size.burst * edits), 2), "requests": by_verb(requests)}}


def latency(bench: Bench, size, earlier: dict) -> dict:
    """W5: from a trial Job's completion, as a watch sees it, to its Experiment's status counting
    it, at half the rate at which W1 saturated the operator; then the same trials run by the
    floor's minimal controller, timed the same way."""
    count, trials, parallelism = size.latency
    seconds, rate = _half_saturation(earlier.get("W1_fan_out"), count * parallelism)
    names = [f"t{i}" for i in range(count)]

    namespace = bench.namespace("w5-latency")
    operator = bench.operator("w5", namespace).start()
    _ready_dataset(bench, operator, namespace)
    timed = Timing(bench, namespace)
    bench.kubectl.apply(in_namespace([experiment(n, "data", trials, parallelism, seconds=seconds) for n in names],
                                     namespace))
    wait_until(lambda: _sum(operator, "mlops_objects", namespace=namespace, kind="Experiment", phase="Succeeded")
               >= count, 1800, "the timed experiments Succeeded", interval=0.5)
    delays = timed.delays()
    where = _mean_seconds(operator, "experiment")
    operator.stop()
    bench.kubectl("delete", "namespace", namespace, "--wait=false")

    floor_namespace = bench.namespace("w5-floor")
    bench.kubectl.apply(in_namespace([experiment(n, "data", trials, parallelism, seconds=seconds) for n in names],
                                     floor_namespace))
    floor_timed = Timing(bench, floor_namespace)
    floors.trial_runner(floors.FloorClient(bench), floor_namespace, names, trials, parallelism, seconds)
    floor_delays = floor_timed.delays()
    bench.kubectl("delete", "namespace", floor_namespace, "--wait=false")

    p50, p99 = _quantile(delays, 0.5), _quantile(delays, 0.99)
    floor_p50, floor_p99 = _quantile(floor_delays, 0.5), _quantile(floor_delays, 0.99)
    return {"W5_latency": {"experiments": count, "trials": count * trials, "parallelism": parallelism,
                           "trial_seconds": seconds, "finishes_per_second": rate, "measured": len(delays),
                           "p50_ms": round(p50, 1), "p99_ms": round(p99, 1),
                           "max_ms": round(delays[-1], 1) if delays else None,
                           "mean_queue_wait_ms": where["workqueue_queue_duration_seconds"],
                           "mean_reconcile_ms": where["controller_runtime_reconcile_time_seconds"],
                           "floor": {"measured": len(floor_delays), "p50_ms": round(floor_p50, 1),
                                     "p99_ms": round(floor_p99, 1)},
                           "p50_over_floor": round(p50 / floor_p50, 2) if floor_p50 else None,
                           "p99_over_floor": round(p99 / floor_p99, 2) if floor_p99 else None}}


def _half_saturation(fan_out_result: dict | None, slots: int) -> tuple[float, float | None]:
    """The trial duration at which `slots` running trials finish at half the rate W1 reached with
    more trials ready than the operator could start (its saturation); 1 s without W1."""
    if not fan_out_result:
        return 1.0, None
    rate = fan_out_result["trials_per_second"] / 2
    return round(min(30.0, max(1.0, slots / rate)), 1), round(rate, 2)


class Timing:
    """Watches a namespace's Jobs and Experiments from before its trials start."""

    def __init__(self, bench: Bench, namespace: str):
        self.jobs = Watch(bench, f"/apis/batch/v1/namespaces/{namespace}/jobs")
        self.experiments = Watch(bench, f"/apis/mlops.dev/v1alpha1/namespaces/{namespace}/experiments")

    def delays(self) -> list[float]:
        """For each Experiment, the ms from its k-th Job seen finished to its status first counting
        k finished trials; sorted."""
        finishes = _finishes_by_experiment(self.jobs.stop())
        counts: dict[str, list[tuple[float, int]]] = {}
        for t, event in self.experiments.stop():
            trials = (event["object"].get("status") or {}).get("trials") or {}
            counts.setdefault(event["object"]["metadata"]["name"], []).append(
                (t, sum(trials.get(k, 0) for k in ("succeeded", "failed"))))
        delays = []
        for name, finished_at in finishes.items():
            for k, at in enumerate(finished_at, start=1):
                seen = next((t for t, n in counts.get(name, []) if n >= k and t >= at), None)
                if seen is not None:
                    delays.append((seen - at) * 1000)
        return sorted(delays)


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


def _finishes_by_experiment(events: list) -> dict[str, list[float]]:
    """When each Job was first seen finished, by the Experiment it runs a trial of (its label)."""
    first: dict[str, tuple[str, float]] = {}
    for t, event in events:
        job = event["object"]
        experiment_name = (job["metadata"].get("labels") or {}).get(floors.EXPERIMENT_LABEL)
        if experiment_name and floors.finished(job):
            first.setdefault(job["metadata"]["name"], (experiment_name, t))
    by_experiment: dict[str, list[float]] = {}
    for experiment_name, t in first.values():
        by_experiment.setdefault(experiment_name, []).append(t)
    return {name: sorted(times) for name, times in by_experiment.items()}


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

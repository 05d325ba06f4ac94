"""The Kubernetes floor: the least a client must do for the same outcome, as the bench's `floor`
ServiceAccount, with no operator running. Each workload's ratio is the operator over this."""

import json
import ssl
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from harness import FLOOR, Bench, by_verb, wait_until, writes
from mlops_operator.labels import EXPERIMENT as EXPERIMENT_LABEL  # on trial Jobs: the floor's carry it too
from objects import IMAGE, experiment, in_namespace, simulated

FLOOR_USER = f"system:serviceaccount:mlops-bench:{FLOOR}"
EXPERIMENTS = "/apis/mlops.dev/v1alpha1/namespaces/{namespace}/experiments"
JOBS = "/apis/batch/v1/namespaces/{namespace}/jobs"


class FloorClient:
    """Plain HTTPS requests with the floor's token: no cache, no retries, no framework."""

    def __init__(self, bench: Bench):
        config = json.loads(bench.kubeconfig_of(FLOOR).read_text())
        self.server = config["clusters"][0]["cluster"]["server"]
        self.token = config["users"][0]["user"]["token"]
        self.context = ssl.create_default_context(cafile=str(bench.state_dir / "pki" / "ca.crt"))

    def _request(self, method: str, path: str, body: dict | None = None,
                 content_type: str = "application/json", timeout: float = 30):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.server + path, data, method=method,
                                         headers={"Authorization": f"Bearer {self.token}",
                                                  "Content-Type": content_type})
        return urllib.request.urlopen(request, context=self.context, timeout=timeout)

    def send(self, method: str, path: str, body: dict, content_type: str = "application/json") -> None:
        with self._request(method, path, body, content_type):
            pass

    def status(self, namespace: str, kind_path: str, name: str, status: dict) -> None:
        self.send("PATCH", f"{kind_path.format(namespace=namespace)}/{name}/status", {"status": status},
                  "application/merge-patch+json")

    def watch(self, path: str, timeout: float = 1800) -> Iterator[dict]:
        """The collection's events, from its current state on (ADDED for what exists)."""
        with self._request("GET", f"{path}?watch=1&timeoutSeconds={int(timeout)}", timeout=timeout) as response:
            for line in response:
                yield json.loads(line)


def _trial_pod(seconds: float = 1.0) -> dict:
    """A Job's pod template for a simulated trial on kwok's nodes, as the operator's trials are."""
    pod = simulated('{"metrics": {"score": 1}}', seconds)
    return {"metadata": {"annotations": pod["annotations"]},
            "spec": {"restartPolicy": "Never", "nodeSelector": pod["nodeSelector"], "tolerations": pod["tolerations"],
                     "containers": [{"name": "trial", "image": IMAGE}]}}


def indexed_job(name: str, trials: int, parallelism: int) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"completionMode": "Indexed", "completions": trials, "parallelism": parallelism,
                     "backoffLimit": 0, "template": _trial_pod()}}


def trial_job(experiment_name: str, trial: int, seconds: float) -> dict:
    """One trial as one Job, as the operator makes them (so one trial never touches another)."""
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": f"{experiment_name}-t{trial}", "labels": {EXPERIMENT_LABEL: experiment_name}},
            "spec": {"backoffLimit": 0, "template": _trial_pod(seconds)}}


def finished(job: dict) -> bool:
    return any(c["type"] in ("Complete", "Failed") and c["status"] == "True"
               for c in (job.get("status") or {}).get("conditions") or [])


def fan_out(bench: Bench, count: int, trials: int, parallelism: int) -> dict:
    """W1's floor: one Indexed Job per experiment (completions M, parallelism 5) and a status patch
    when each starts and ends."""
    namespace = bench.namespace("w1-floor")
    # The floor's objects exist before it starts, as the Experiments did; no operator runs.
    bench.kubectl.apply(in_namespace([experiment(f"e{i}", "data", trials, parallelism) for i in range(count)],
                                     namespace))
    client = FloorClient(bench)
    bench.audit.mark()
    started, curve, done_names = time.monotonic(), [], set()
    for i in range(count):
        client.send("POST", JOBS.format(namespace=namespace), indexed_job(f"e{i}", trials, parallelism))
        client.status(namespace, EXPERIMENTS, f"e{i}", {"phase": "Running"})

    def done() -> bool:
        jobs = bench.kubectl.json("jobs", "-n", namespace)["items"]
        curve.append([round(time.monotonic() - started, 2), sum(j["status"].get("succeeded", 0) for j in jobs)])
        for job in jobs:
            name = job["metadata"]["name"]
            complete = any(c["type"] == "Complete" and c["status"] == "True"
                           for c in job["status"].get("conditions") or [])
            if complete and name not in done_names:
                client.status(namespace, EXPERIMENTS, name, {"phase": "Succeeded"})
                done_names.add(name)
        return len(done_names) == count

    wait_until(done, 3600, f"{count} Indexed Jobs complete", interval=0.5)
    seconds = time.monotonic() - started
    requests = bench.audit.since_mark(FLOOR_USER)
    bench.kubectl("delete", "namespace", namespace, "--wait=false")
    return {"seconds": round(seconds, 2), "writes": writes(requests), "requests": by_verb(requests), "curve": curve}


def trial_runner(client: FloorClient, namespace: str, experiments: list[str], trials: int, parallelism: int,
                 seconds: float) -> None:
    """W5's floor: a controller with nothing but the necessary. A Job per trial, at most
    `parallelism` at once per experiment; on each finish, a status patch counting it and the next
    trial's Job. Returns when every trial finished."""
    started = dict.fromkeys(experiments, 0)
    counted = dict.fromkeys(experiments, 0)
    seen: set[str] = set()

    def start_next(name: str) -> None:
        if started[name] < trials:
            client.send("POST", JOBS.format(namespace=namespace), trial_job(name, started[name], seconds))
            started[name] += 1

    for name in experiments:
        for _ in range(parallelism):
            start_next(name)
    for event in client.watch(JOBS.format(namespace=namespace)):
        job = event["object"]
        name = (job["metadata"].get("labels") or {}).get(EXPERIMENT_LABEL)
        if name not in counted or job["metadata"]["name"] in seen or not finished(job):
            continue
        seen.add(job["metadata"]["name"])
        counted[name] += 1
        client.status(namespace, EXPERIMENTS, name, {"trials": {"succeeded": counted[name]}})
        start_next(name)
        if all(n == trials for n in counted.values()):
            return


# Each kind's plural and a phase (of the CRDs' enums) the bench's objects at rest never settle in,
# so that each of the floor's patches really changes the object.
OTHER_PHASES = {"Dataset": ("datasets", "Validating"), "Experiment": ("experiments", "Running"),
                "Model": ("models", "Evaluating"), "Deployment": ("deployments", "Starting")}


def status_writes(client: FloorClient, objects: list[dict], workers: int) -> float:
    """W3's floor: one status patch per object, `workers` at a time, as fast as the API server
    takes them. Returns the seconds it took."""
    def patch(obj: dict) -> None:
        meta = obj["metadata"]
        plural, phase = OTHER_PHASES[obj["kind"]]
        path = f"/apis/mlops.dev/v1alpha1/namespaces/{{namespace}}/{plural}"
        client.status(meta["namespace"], path, meta["name"], {"phase": phase})

    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(patch, objects))
    return time.monotonic() - started

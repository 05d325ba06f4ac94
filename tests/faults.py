"""What the reliability tests inject and what they record: an operator killed at seeded random
instants, a log of every create in a namespace, and a namespace's end state in a form two runs
can be compared by."""

import random
import re
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from support import OperatorRunner, get_json, json_stream

# What an operator makes or registers; a second create of one name is a duplicate.
CHILD_RESOURCES = ("jobs.batch", "deployments.apps", "services", "horizontalpodautoscalers.autoscaling",
                   "models.mlops.dev")
MLOPS_KINDS = ("datasets.mlops.dev", "experiments.mlops.dev", "models.mlops.dev", "deployments.mlops.dev")
# Status fields that say when, not what: two runs differ there by nature.
_WHEN = ("At", "Time", "Timestamp", "Seconds")
_WHEN_KEYS = {"at", "startedAt", "finishedAt", "promotedAt", "lastTransitionTime"}
# Identities of one namespace's objects: the same objects elsewhere have others.
_IDENTITY_KEYS = {"uid", "key"}
# An evaluation Job's name ends in a hash of what it evaluates, the artifact's folder included.
_EVALUATION_JOB = re.compile(r"-eval-[0-9a-f]{10}\b")


class CreateLog:
    """Every object created in a namespace, one `kubectl get --watch` per resource, from before the
    test makes anything: (resource, name, uid) in the order the watches saw them."""

    def __init__(self, cluster, namespace: str, resources: tuple[str, ...] = CHILD_RESOURCES):
        self.created: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        self._processes = []
        for resource in resources:
            process = subprocess.Popen(
                [cluster.kubectl_path, "-n", namespace, "get", resource, "--watch", "--output-watch-events",
                 "-o", "json"], env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            self._processes.append(process)
            threading.Thread(target=self._follow, args=(resource, process), daemon=True).start()

    def _follow(self, resource: str, process: subprocess.Popen) -> None:
        for event in json_stream(process.stdout):
            if event.get("type") == "ADDED":
                meta = event["object"]["metadata"]
                with self._lock:
                    self.created.append((resource, meta["name"], meta["uid"]))

    def duplicates(self) -> dict[tuple[str, str], int]:
        """Names created more than once (a second uid for the same resource and name)."""
        with self._lock:
            uids = Counter((resource, name) for resource, name, _ in set(self.created))
        return {key: count for key, count in uids.items() if count > 1}

    def names(self) -> set[tuple[str, str]]:
        """What was created, evaluation Jobs' hashes left out (they differ between namespaces)."""
        with self._lock:
            return {(resource, _EVALUATION_JOB.sub("-eval-<hash>", name)) for resource, name, _ in self.created}

    def stop(self) -> None:
        for process in self._processes:
            process.kill()
            process.wait()


@dataclass
class Killer:
    """SIGKILLs the namespace's operator after a seeded random delay from each start and starts a
    new one at once, in a thread, until it has killed `at_least` times and the test says the work
    is done (so kills land in every stage however long each takes); at most `at_most` kills. The
    seed fixes the delays, so a run can be replayed; where a delay lands depends on the machine's
    pace. `stage` is what the test is waiting for, recorded with each kill."""

    operators: OperatorRunner
    seed: int
    at_least: int
    at_most: int
    shortest: float = 0.3
    longest: float = 4.0
    stage: str = "start"
    kills: list[tuple[float, str]] = field(default_factory=list)  # (seconds since start, stage)

    def __post_init__(self):
        self._random = random.Random(self.seed)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = time.monotonic()

    def start(self) -> "Killer":
        self._running = self.operators.start()
        self._thread.start()
        return self

    def _run(self) -> None:
        while len(self.kills) < self.at_most:
            delay = self._random.uniform(self.shortest, self.longest)
            if len(self.kills) >= self.at_least:
                if self._done.wait(delay):
                    return
            else:
                time.sleep(delay)  # the fault's instant, not a wait for something: the delay is the experiment
            self._running.kill()
            self.kills.append((round(time.monotonic() - self._started, 2), self.stage))
            self._running = self.operators.start()

    def finish(self) -> None:
        """Says the work is done; returns once the last kill is made (the last operator keeps running)."""
        self._done.set()
        timeout = max(0, self.at_least - len(self.kills)) * (self.longest + 5) + 30  # 5 s: a kill and a start
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"the killer did not stop within {timeout}s"

    def by_stage(self) -> dict[str, int]:
        return dict(Counter(stage for _, stage in self.kills))


def _comparable(value: Any, replacements: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _comparable(v, replacements) for k, v in value.items()
                if k not in _WHEN_KEYS | _IDENTITY_KEYS and not k.endswith(_WHEN)}
    if isinstance(value, list):
        return [_comparable(v, replacements) for v in value]
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
        return _EVALUATION_JOB.sub("-eval-<hash>", value)
    return value


def end_state(cluster, namespace: str, replacements: dict[str, str]) -> dict[str, Any]:
    """Every mlops.dev object's status and every child's name, with times left out and the
    namespace and folder names replaced by placeholders, so that two namespaces can be compared."""
    replacements = {namespace: "<namespace>", **replacements}
    state: dict[str, Any] = {}
    for resource in MLOPS_KINDS:
        for body in get_json(cluster, namespace, resource)["items"]:
            state[f"{body['kind']}/{body['metadata']['name']}"] = _comparable(body.get("status") or {}, replacements)
    state["children"] = sorted(_comparable(f"{resource}/{body['metadata']['name']}", replacements)
                               for resource in CHILD_RESOURCES[:-1]
                               for body in get_json(cluster, namespace, resource)["items"])
    return state


def operator_events(cluster, namespace: str) -> Counter:
    """The operator's Events in the namespace, counted by (object, reason), repeats included."""
    counts: Counter = Counter()
    for event in get_json(cluster, namespace, "events")["items"]:
        if (event.get("reportingComponent") or (event.get("source") or {}).get("component")) != "mlops-operator":
            continue
        involved = event["involvedObject"]
        counts[f"{involved['kind']}/{involved['name']}", event["reason"]] += event.get("count") or 1
    return counts

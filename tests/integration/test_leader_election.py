"""Two operator processes with --leader-elect in one namespace, against the real API server: one
holds the Lease and is the only one to reconcile; killed, the other takes over within the lease
duration and finishes the Experiment without creating any Job twice; stopped by SIGTERM, the
leader releases the Lease and the other takes over at its next try."""

import subprocess
import time
import urllib.error
import urllib.request

import pytest
from kwok import pod_settings
from prometheus_client.parser import text_string_to_metric_families

from pipeline import apply, dataset, experiment_finished, phase_is, write_csv
from support import OperatorProcess, OperatorRunner, get_json, wait_for

pytestmark = pytest.mark.cluster

LEASE = "mlops-operator-leader"
LEASE_DURATION, RETRY_PERIOD = 15, 2  # the defaults, as the chart runs them
SCRAPE_SLACK = 1.0  # the test sees a takeover by polling /metrics every 0.2 s, plus a scrape


def elect(namespace: str) -> tuple[str, ...]:
    return ("--leader-elect", "--leader-election-namespace", namespace)


def samples(operator: OperatorProcess) -> list | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{operator.metrics_port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return None  # not serving yet
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def leading(operator: OperatorProcess) -> bool:
    """Its leader_election_master_status{name=LEASE} is 1."""
    return any(s.name == "leader_election_master_status" and s.labels == {"name": LEASE} and s.value == 1
               for s in samples(operator) or [])


def standing_by(operator: OperatorProcess) -> bool:
    return any(s.name == "leader_election_master_status" and s.labels == {"name": LEASE} and s.value == 0
               for s in samples(operator) or [])


def reconciles(operator: OperatorProcess) -> float:
    """All its controllers' controller_runtime_reconcile_total, every result."""
    return sum(s.value for s in samples(operator) or [] if s.name == "controller_runtime_reconcile_total")


def objects_reported(operator: OperatorProcess) -> bool:
    return any(s.name == "mlops_objects" for s in samples(operator) or [])


def the_leader(operators: list[OperatorProcess]) -> OperatorProcess | None:
    """The one operator that leads while every other stands by, if that is how things are."""
    leaders = [o for o in operators if leading(o)]
    others = [o for o in operators if o not in leaders]
    return leaders[0] if len(leaders) == 1 and all(standing_by(o) for o in others) else None


def lease(cluster, namespace) -> dict:
    return get_json(cluster, namespace, "lease", LEASE)["spec"]


def holder_of_the_lease(cluster, namespace, operator: OperatorProcess) -> str:
    """The Lease's holder, checked against the identity the operator logged on taking it."""
    holder = lease(cluster, namespace)["holderIdentity"]
    assert f"leading: {holder} holds Lease {namespace}/{LEASE}" in operator.output(), operator.output()
    return holder


class JobWatch:
    """`kubectl get jobs --watch` of the namespace from before anything starts: every ADDED and
    DELETED event, so a Job made twice (deleted and created again under its deterministic name, or
    created by both operators) cannot go unseen, as it could between two polls."""

    def __init__(self, cluster, namespace: str, path):
        self.path = path
        self.out = open(path, "wb")
        self.process = subprocess.Popen(
            [cluster.kubectl_path, "-n", namespace, "get", "jobs", "--watch", "--output-watch-events", "-o",
             "jsonpath={.type} {.object.metadata.name} {.object.metadata.uid}{\"\\n\"}"],
            env=cluster.env, stdout=self.out, stderr=subprocess.STDOUT)

    def events(self) -> list[tuple[str, str, str]]:
        return [tuple(line.split()) for line in self.path.read_text().splitlines() if line.strip()]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.out.close()


# Trial i scores i: four trials, two at a time, each pod ending 4 s after it starts on a kwok Node.
SCORE = '{"metrics": {"score": $(PARAM_X)}}'
TRIALS = 4


def simulated_experiment(name: str, dataset_name: str) -> dict:
    return {
        "apiVersion": "mlops.dev/v1alpha1", "kind": "Experiment", "metadata": {"name": name},
        "spec": {"datasetRef": {"name": dataset_name}, "trainer": {"image": "simulated/trainer:1"},
                 "search": {"parameters": {"x": {"choices": ["1", "2", "3", "4"]}}, "maxTrials": TRIALS,
                            "parallelism": 2},
                 "objective": {"metric": "score", "goal": "maximize"},
                 "pod": pod_settings("4s", result=SCORE)},
    }


def test_only_the_leader_reconciles_and_when_killed_the_other_finishes_without_double_work(
        kwok, crds, namespace, tmp_path):
    watch = JobWatch(crds, namespace, tmp_path / "jobs.watch")
    try:
        with OperatorRunner(crds, namespace, tmp_path) as runner:
            operators = [runner.start(*elect(namespace)), runner.start(*elect(namespace))]
            leader = wait_for(lambda: the_leader(operators), 30, "one operator leading, the other standing by")
            (follower,) = [o for o in operators if o is not leader]
            first_holder = holder_of_the_lease(crds, namespace, leader)

            apply(crds, namespace, dataset("cancer", write_csv(tmp_path / "cancer.csv")))
            wait_for(lambda: phase_is(crds, namespace, "dataset", "cancer", "Ready"), 60, "the Dataset Ready")
            apply(crds, namespace, simulated_experiment("sim", "cancer"))
            wait_for(lambda: get_json(crds, namespace, "jobs", "-l", "mlops.dev/experiment=sim")["items"], 30,
                     "the first trials' Jobs")
            # The follower watched all along (its queues hold every key) but never reconciled, and
            # reports no domain metrics: summed over both, every object counts once.
            assert reconciles(leader) > 0
            assert reconciles(follower) == 0 and standing_by(follower)
            assert objects_reported(leader) and not objects_reported(follower)

            killed_at = time.monotonic()
            leader.kill()
            wait_for(lambda: leading(follower), LEASE_DURATION + 2 * RETRY_PERIOD + 10, "the follower to lead")
            failover = time.monotonic() - killed_at
            # The last renewal came at most a retry period before the kill; the follower saw it at
            # most a retry period after it was written, waited the lease duration from then, and
            # reads every retry period: 13 to 19 s. Never before the lease duration was up.
            assert LEASE_DURATION - RETRY_PERIOD <= failover <= LEASE_DURATION + 2 * RETRY_PERIOD + SCRAPE_SLACK, \
                failover
            print(f"failover after SIGKILL: {failover:.1f}s")
            spec = lease(crds, namespace)
            assert spec["holderIdentity"] == holder_of_the_lease(crds, namespace, follower) != first_holder
            assert spec["leaseTransitions"] == 1

            final = wait_for(lambda: experiment_finished(crds, namespace, "sim"), 90, "the Experiment to finish")
            assert reconciles(follower) > 0 and objects_reported(follower)
    finally:
        watch.stop()

    assert final["phase"] == "Succeeded", final
    assert final["trials"] == {"total": TRIALS, "pending": 0, "running": 0, "succeeded": TRIALS, "failed": 0}
    assert final["bestTrial"]["parameters"] == {"x": "4"}
    # Every Job, the Dataset's validation and the four trials of one run, was created once and
    # never deleted: the new leader adopted what the old one had made, and went on from there.
    events = watch.events()
    added = [name for kind, name, _ in events if kind == "ADDED"]
    trials = sorted(name for name in added if name.startswith("sim-"))
    assert trials == [f"sim-r1-t{i}" for i in range(TRIALS)], events
    assert len(added) == len(set(added)), events
    assert not [e for e in events if e[0] == "DELETED"], events
    assert {uid for _, _, uid in events} == {j["metadata"]["uid"] for j in get_json(crds, namespace, "jobs")["items"]}


def test_a_leader_stopped_by_sigterm_releases_the_lease_and_the_other_takes_over_at_once(crds, namespace, tmp_path):
    with OperatorRunner(crds, namespace, tmp_path) as runner:
        operators = [runner.start(*elect(namespace)), runner.start(*elect(namespace))]
        leader = wait_for(lambda: the_leader(operators), 30, "one operator leading, the other standing by")
        (follower,) = [o for o in operators if o is not leader]
        holder_of_the_lease(crds, namespace, leader)

        stopped_at = time.monotonic()
        assert leader.terminate() == 0, leader.output()
        assert f"released Lease {namespace}/{LEASE}" in leader.output()
        wait_for(lambda: leading(follower), LEASE_DURATION, "the follower to lead")
        handover = time.monotonic() - stopped_at
        print(f"handover after SIGTERM: {handover:.1f}s")
        # The leader's shutdown, then at most one retry period: far less than the lease duration.
        assert handover <= 2 * RETRY_PERIOD + 2, handover
        spec = lease(crds, namespace)
        assert spec["holderIdentity"] == holder_of_the_lease(crds, namespace, follower)
        assert (spec["leaseDurationSeconds"], spec["leaseTransitions"]) == (LEASE_DURATION, 1)
        assert "Traceback" not in leader.output() + follower.output()
    assert lease(crds, namespace)["holderIdentity"] == ""  # the second leader released it too, on its way out


def test_a_leader_that_finds_another_holder_exits_at_once(crds, namespace, tmp_path):
    """Someone else wrote the Lease (as a candidate that judged it expired would): the leader's next
    renewal conflicts, it reads the new holder and exits non-zero before writing anything more."""
    with OperatorRunner(crds, namespace, tmp_path) as runner:
        operator = runner.start(*elect(namespace))
        wait_for(lambda: leading(operator), 30, "the operator to lead")
        crds.kubectl("patch", "lease", LEASE, "--type=merge", "-p", '{"spec":{"holderIdentity":"intruder"}}',
                     namespace=namespace)
        wait_for(lambda: operator.process.poll() is not None, 2 * RETRY_PERIOD + 5, "the operator to exit")
        assert operator.process.returncode == 1, operator.output()
        assert "lost Lease" in operator.output() and "now held by 'intruder'" in operator.output()
        assert lease(crds, namespace)["holderIdentity"] == "intruder"

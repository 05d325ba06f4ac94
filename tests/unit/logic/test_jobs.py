"""Facts about Jobs and pods: finished or not, what the container said, why a pod cannot start."""

from datetime import timedelta

import pytest

from mlops_operator.logic.jobs import (
    Blocker,
    job_blocker,
    job_facts,
    latest_termination,
    pod_blocker,
    podless_jobs,
    refused_creation,
    settled,
)

from builders import NOW, job, pod


@pytest.mark.parametrize("state, finished, succeeded, occupying", [
    ("running", False, False, True),
    ("complete", True, True, False),
    ("failed", True, False, False),
    ("terminating", True, False, True),  # finished, but a pod still holds its slot
])
def test_job_facts(state, finished, succeeded, occupying):
    facts = job_facts(job("j", "o", state=state, reason="BackoffLimitExceeded"))
    assert (facts.finished, facts.succeeded, facts.occupying) == (finished, succeeded, occupying)


@pytest.mark.parametrize("event_type, state, matters", [
    ("MODIFIED", "running", False),
    ("MODIFIED", "complete", True),
    (None, "failed", True),
    ("DELETED", "running", True),
])
def test_only_a_settled_job_wakes_its_owner(event_type, state, matters):
    assert settled(event_type, job("j", "o", state=state)) is matters


def test_latest_termination_is_the_most_recently_finished_container():
    first = pod("j", phase="Failed", terminated={"exitCode": 3, "message": "first", "reason": "Error",
                                                 "finishedAt": "2026-11-26T11:00:00Z"})
    second = pod("j", phase="Failed", terminated={"exitCode": 137, "message": "", "reason": "OOMKilled",
                                                  "finishedAt": "2026-11-26T11:30:00Z"})
    termination = latest_termination([second, first])
    assert (termination.exit_code, termination.reason) == (137, "OOMKilled")
    assert latest_termination([pod("j")]) is None


@pytest.mark.parametrize("built, blocker", [
    (pod("j", phase="Pending", waiting=("ImagePullBackOff", 'Back-off pulling image "nope"')),
     Blocker("ImagePullBackOff", 'Back-off pulling image "nope"')),
    (pod("j", phase="Pending", waiting=("CreateContainerConfigError", 'secret "creds" not found')),
     Blocker("CreateContainerConfigError", 'secret "creds" not found')),
    (pod("j", phase="Pending", unschedulable="0/1 nodes are available: 1 Insufficient cpu."),
     Blocker("Unschedulable", "0/1 nodes are available: 1 Insufficient cpu.")),
    (pod("j", phase="Pending", waiting=("ContainerCreating", "")), None),
    (pod("j", phase="Running"), None),
    (pod("j", phase="Failed", waiting=("ImagePullBackOff", "x")), None),
])
def test_why_a_pod_cannot_start(built, blocker):
    assert pod_blocker(built) == blocker


def test_a_pod_refused_by_admission_shows_through_the_jobs_events():
    events = [{"reason": "FailedCreate", "lastTimestamp": "2026-11-26T11:00:00Z", "message": "old"},
              {"reason": "FailedCreate", "lastTimestamp": "2026-11-26T11:05:00Z",
               "message": 'pods "t-abc" is forbidden: violates PodSecurity "restricted:latest"'},
              {"reason": "SuccessfulCreate", "lastTimestamp": "2026-11-26T11:06:00Z", "message": "created"}]
    assert refused_creation(events) == Blocker("FailedCreate", 'pods "t-abc" is forbidden: violates PodSecurity '
                                                               '"restricted:latest"')
    facts = job_facts(job("j", "o"))
    assert job_blocker(facts, [], events).reason == "FailedCreate"
    assert job_blocker(facts, [pod(facts.uid)], events) is None  # a running pod: nothing blocks
    assert job_blocker(job_facts(job("j", "o", state="complete")), [], events) is None


def test_podless_jobs_wait_out_their_startup_grace():
    young = job_facts(job("young", "o", created=NOW - timedelta(seconds=3)))
    old = job_facts(job("old", "o", created=NOW - timedelta(seconds=30)))
    done = job_facts(job("done", "o", state="complete", created=NOW - timedelta(seconds=30)))
    with_pod = job_facts(job("with-pod", "o", created=NOW - timedelta(seconds=30)))
    assert podless_jobs([young, old, done, with_pod], {with_pod.uid: [pod(with_pod.uid)]}, NOW) == [old]

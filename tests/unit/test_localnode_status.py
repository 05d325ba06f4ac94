"""Pod phase and conditions as the local node reports them."""

import pytest

from localnode.status import (
    RUNNING,
    TERMINATED,
    ContainerRecord,
    PodFailure,
    PodRecord,
    phase,
    pod_status,
    truncate_message,
)


def container(state="waiting", exit_code=None, ready=False, restarts=0):
    record = ContainerRecord("c", "python:3.11", state=state, exit_code=exit_code, ready=ready, restart_count=restarts)
    if state == RUNNING:
        record.started_at = "2026-11-26T12:00:00Z"
    return record


def pod(containers, policy="Never", init=(), failure=None):
    return PodRecord(list(init), list(containers), policy, "10.244.0.2", "2026-11-26T12:00:00Z", failure=failure)


@pytest.mark.parametrize("record, expected", [
    (pod([container()]), "Pending"),
    (pod([container(RUNNING)]), "Running"),
    (pod([container(TERMINATED, 0)]), "Succeeded"),
    (pod([container(TERMINATED, 1)]), "Failed"),
    (pod([container(TERMINATED, 0), container(RUNNING)]), "Running"),
    (pod([container(TERMINATED, 0), container(TERMINATED, 2)]), "Failed"),
    (pod([container(TERMINATED, 1)], policy="OnFailure"), "Running"),
    (pod([container(TERMINATED, 0)], policy="OnFailure"), "Succeeded"),
    (pod([container(TERMINATED, 0)], policy="Always"), "Running"),
    (pod([container()], init=[container(TERMINATED, 1)]), "Failed"),
    (pod([container()], policy="OnFailure", init=[container(TERMINATED, 1)]), "Pending"),
    (pod([container()], init=[container(RUNNING)]), "Pending"),
    (pod([container(RUNNING)], failure=PodFailure("DeadlineExceeded", "late")), "Failed"),
    (pod([container(restarts=1)], policy="Always"), "Running"),
])
def test_phase(record, expected):
    assert phase(record) == expected


def test_ready_conditions_follow_the_containers_and_keep_transition_times():
    running = pod([container(RUNNING, ready=True)], policy="Always")
    status = pod_status(running, [], "2026-11-26T12:00:05Z")
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Ready"]["status"] == "True"
    assert conditions["Initialized"]["status"] == "True"
    assert status["podIP"] == "10.244.0.2" and status["phase"] == "Running"

    later = pod_status(running, status["conditions"], "2026-11-26T12:09:00Z")
    assert later["conditions"] == status["conditions"]

    running.containers[0].ready = False
    unready = {c["type"]: c for c in pod_status(running, status["conditions"], "2026-11-26T12:10:00Z")["conditions"]}
    assert unready["Ready"] == {"type": "Ready", "status": "False", "reason": "ContainersNotReady",
                                "lastTransitionTime": "2026-11-26T12:10:00Z"}


def test_completed_pod_is_not_ready_with_reason_pod_completed():
    status = pod_status(pod([container(TERMINATED, 0)]), [], "2026-11-26T12:00:05Z")
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False" and ready["reason"] == "PodCompleted"


def test_failure_reason_and_message_reach_the_pod_status():
    status = pod_status(pod([container()], failure=PodFailure("VolumeNotSupportedLocally", "volume 'x'")), [], "t")
    assert (status["phase"], status["reason"], status["message"]) == ("Failed", "VolumeNotSupportedLocally", "volume 'x'")


def test_termination_message_is_capped_at_4096_bytes_keeping_the_end():
    assert truncate_message(b"a" * 5000 + b"END") == ("a" * 4093) + "END"
    assert truncate_message(b'{"metrics": {}}') == '{"metrics": {}}'


def test_a_pod_waiting_for_an_address_reports_no_pod_ip():
    waiting = PodRecord([], [container()], "Never", "", "2026-11-26T12:00:00Z", sandbox_ready=False)
    status = pod_status(waiting, [], "2026-11-26T12:00:05Z")
    assert "podIP" not in status and "podIPs" not in status and status["phase"] == "Pending"


def test_a_deleted_pod_is_reported_terminal_before_it_goes():
    from localnode.status import terminate_for_deletion

    record = pod([container()])
    terminate_for_deletion(record, "2026-11-26T12:00:00Z")
    status = pod_status(record, [], "2026-11-26T12:00:00Z")
    assert status["phase"] == "Failed"
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (137, "ContainerStatusUnknown")

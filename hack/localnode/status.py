"""Pure computation of pod status from the node's record of each container."""

from dataclasses import dataclass
from typing import Any

WAITING, RUNNING, TERMINATED = "waiting", "running", "terminated"
TERMINATION_MESSAGE_LIMIT = 4096  # the kubelet's cap per container


@dataclass
class ContainerRecord:
    """What the node knows of one container (mutable: the pod worker updates it)."""

    name: str
    image: str
    state: str = WAITING
    reason: str = "ContainerCreating"
    message: str = ""
    exit_code: int | None = None
    started_at: str | None = None
    finished_at: str | None = None
    pid: int | None = None
    restart_count: int = 0
    last_terminated: dict[str, Any] | None = None
    ready: bool = False
    started: bool = False

    def terminated_dict(self) -> dict[str, Any]:
        out = {"exitCode": self.exit_code, "reason": self.reason, "startedAt": self.started_at,
               "finishedAt": self.finished_at, "containerID": self.container_id}
        if self.message:
            out["message"] = self.message
        return out

    @property
    def container_id(self) -> str:
        return f"local://{self.pid}" if self.pid else ""

    def status(self) -> dict[str, Any]:
        if self.state == RUNNING:
            state = {"running": {"startedAt": self.started_at}}
        elif self.state == TERMINATED:
            state = {"terminated": self.terminated_dict()}
        else:
            state = {"waiting": {"reason": self.reason, **({"message": self.message} if self.message else {})}}
        out = {
            "name": self.name, "image": self.image, "imageID": f"local://{self.image}",
            "ready": self.ready, "started": self.state == RUNNING and self.started,
            "restartCount": self.restart_count, "state": state,
            "lastState": {"terminated": self.last_terminated} if self.last_terminated else {},
        }
        if self.container_id:
            out["containerID"] = self.container_id
        return out


def termination_reason(exit_code: int, killed_by_node: str | None = None) -> str:
    if killed_by_node:
        return killed_by_node
    return "Completed" if exit_code == 0 else "Error"


def truncate_message(raw: bytes) -> str:
    return raw[-TERMINATION_MESSAGE_LIMIT:].decode(errors="replace") if len(raw) > TERMINATION_MESSAGE_LIMIT \
        else raw.decode(errors="replace")


@dataclass
class PodFailure:
    """A node-level verdict that ends the pod: deadline exceeded, unsupported volume."""

    reason: str
    message: str


@dataclass
class PodRecord:
    init_containers: list[ContainerRecord]
    containers: list[ContainerRecord]
    restart_policy: str
    pod_ip: str
    start_time: str
    failure: PodFailure | None = None
    sandbox_ready: bool = True


def terminate_for_deletion(pod: PodRecord, now: str) -> None:
    """What the kubelet reports of a deleted pod before it lets it go: every container terminated
    (one that never ran: ContainerStatusUnknown, 137) and the pod in a terminal phase. The Job
    controller waits for that phase before it releases a pod that has a pod failure policy."""
    for record in [*pod.init_containers, *pod.containers]:
        if record.state != TERMINATED:
            record.state, record.exit_code, record.finished_at = TERMINATED, 137, now
            record.reason = "ContainerStatusUnknown"
            record.message = "The container could not be located when the pod was terminated"
            record.ready = False
    if phase(pod) not in ("Succeeded", "Failed"):
        pod.failure = PodFailure("Terminated", "the pod was deleted before it completed")


def _succeeded(record: ContainerRecord) -> bool:
    return record.state == TERMINATED and record.exit_code == 0


def initialized(pod: PodRecord) -> bool:
    return all(_succeeded(c) for c in pod.init_containers)


def phase(pod: PodRecord) -> str:
    if pod.failure:
        return "Failed"
    restart_never = pod.restart_policy == "Never"
    if any(c.state == TERMINATED and c.exit_code != 0 for c in pod.init_containers) and restart_never:
        return "Failed"
    if not initialized(pod):
        return "Pending"
    if pod.containers and all(c.state == TERMINATED for c in pod.containers):
        if all(c.exit_code == 0 for c in pod.containers) and pod.restart_policy != "Always":
            return "Succeeded"
        if restart_never:
            return "Failed"
    if any(c.state == RUNNING or c.restart_count > 0 or c.state == TERMINATED for c in pod.containers):
        return "Running"
    return "Pending"


def _condition(kind: str, ok: bool, now: str, reason: str = "") -> dict[str, Any]:
    condition = {"type": kind, "status": "True" if ok else "False", "lastTransitionTime": now}
    if reason and not ok:
        condition["reason"] = reason
    return condition


def pod_status(pod: PodRecord, previous_conditions: list[dict[str, Any]], now: str) -> dict[str, Any]:
    """The pod's status as the node reports it (its conditions keep their transition times)."""
    current_phase = phase(pod)
    terminal = current_phase in ("Succeeded", "Failed")
    containers_ready = not terminal and bool(pod.containers) and all(c.ready for c in pod.containers)
    not_ready_reason = "PodCompleted" if terminal else "ContainersNotReady"
    wanted = [
        _condition("PodReadyToStartContainers", pod.sandbox_ready and not terminal, now),
        _condition("Initialized", initialized(pod), now, "ContainersNotInitialized"),
        _condition("ContainersReady", containers_ready, now, not_ready_reason),
        _condition("Ready", containers_ready, now, not_ready_reason),
    ]
    previous = {c["type"]: c for c in previous_conditions}
    for condition in wanted:
        before = previous.get(condition["type"])
        if before and before.get("status") == condition["status"]:
            condition["lastTransitionTime"] = before.get("lastTransitionTime", now)
    status: dict[str, Any] = {
        "phase": current_phase,
        "conditions": wanted,
        "hostIP": "127.0.0.1",
        "hostIPs": [{"ip": "127.0.0.1"}],
        "startTime": pod.start_time,
        "initContainerStatuses": [c.status() for c in pod.init_containers],
        "containerStatuses": [c.status() for c in pod.containers],
    }
    if pod.pod_ip:  # none while the pod waits for a free address
        status["podIP"] = pod.pod_ip
        status["podIPs"] = [{"ip": pod.pod_ip}]
    if pod.failure:
        status["reason"] = pod.failure.reason
        status["message"] = pod.failure.message
    return status

"""Facts about the operator's Jobs and their pods, read from raw dicts: whether a Job has finished
and how, what its container said last, and why a pod cannot start."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..resources.meta import Meta, controller_uid

COMPLETE, FAILED = "Complete", "Failed"  # a Job's terminal conditions
POD_RUNNING = "Running"
POD_FINISHED = ("Succeeded", "Failed")  # a pod's terminal phases
STARTUP_GRACE_SECONDS = 10.0
"""A Job younger than this without a pod is not yet suspicious (the Job controller is creating it)."""
_NORMAL_WAITING = {"ContainerCreating", "PodInitializing"}


@dataclass(frozen=True)
class JobFacts:
    meta: Meta
    finished: bool
    succeeded: bool
    reason: str  # of the terminal condition, e.g. BackoffLimitExceeded
    message: str
    active: int
    terminating: int

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def uid(self) -> str:
        return self.meta.uid

    @property
    def occupying(self) -> bool:
        """Holds a parallelism slot: until it is over and none of its pods still runs."""
        return not self.finished or self.active > 0 or self.terminating > 0


def terminal_condition(job: dict[str, Any]) -> dict[str, Any] | None:
    """The Job's Complete or Failed condition, once it has one."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") in (COMPLETE, FAILED) and condition.get("status") == "True":
            return condition
    return None


def job_facts(job: dict[str, Any]) -> JobFacts:
    status = job.get("status") or {}
    terminal = terminal_condition(job) or {}
    return JobFacts(
        meta=Meta.of(job), finished=bool(terminal), succeeded=terminal.get("type") == COMPLETE,
        reason=terminal.get("reason", ""), message=terminal.get("message", ""),
        active=status.get("active") or 0, terminating=status.get("terminating") or 0,
    )


def settled(event_type: str | None, job: dict[str, Any]) -> bool:
    """Whether a Job's watch event can change a decision: it was deleted, or it has finished
    (which frees a slot and carries a result; later updates of a finished Job free the slot)."""
    return event_type == "DELETED" or terminal_condition(job) is not None


@dataclass(frozen=True)
class Termination:
    """What the most recently finished container of a Job's pods left behind."""

    message: str | None
    exit_code: int | None
    reason: str | None  # Completed, Error, OOMKilled, DeadlineExceeded, ...


def latest_termination(pods: Iterable[dict[str, Any]]) -> Termination | None:
    finished = []
    for pod in pods:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            terminated = (status.get("state") or {}).get("terminated")
            if terminated:
                finished.append((terminated.get("finishedAt") or "", terminated))
    if not finished:
        return None
    _, terminated = max(finished, key=lambda item: item[0])
    return Termination(terminated.get("message"), terminated.get("exitCode"), terminated.get("reason"))


@dataclass(frozen=True)
class Blocker:
    """Why a Job's pod cannot start, in Kubernetes' words."""

    reason: str  # Unschedulable, ImagePullBackOff, CreateContainerConfigError, FailedCreate, ...
    message: str


def pod_blocker(pod: dict[str, Any]) -> Blocker | None:
    status = pod.get("status") or {}
    if status.get("phase") in POD_FINISHED or pod["metadata"].get("deletionTimestamp"):
        return None
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return Blocker(condition.get("reason") or "Unschedulable", condition.get("message", ""))
    for container in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") and waiting["reason"] not in _NORMAL_WAITING:
            return Blocker(waiting["reason"], waiting.get("message", ""))
    return None


def refused_creation(events: Iterable[dict[str, Any]]) -> Blocker | None:
    """The newest FailedCreate Event of a Job: its pods were refused (admission, quota)."""
    refusals = sorted((e for e in events if e.get("reason") == "FailedCreate"),
                      key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    return Blocker("FailedCreate", refusals[-1].get("message", "")) if refusals else None


def pods_by_job(pods: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for pod in pods:
        grouped.setdefault(controller_uid(pod) or "", []).append(pod)
    return grouped


def job_blocker(job: JobFacts, pods: list[dict[str, Any]], events: list[dict[str, Any]]) -> Blocker | None:
    """Why an unfinished Job has no running pod, if Kubernetes says so."""
    if job.finished:
        return None
    if any((p.get("status") or {}).get("phase") == POD_RUNNING for p in pods):
        return None
    for pod in pods:
        blocker = pod_blocker(pod)
        if blocker:
            return blocker
    return None if pods else refused_creation(events)


def podless_jobs(jobs: Iterable[JobFacts], pods: dict[str, list[dict[str, Any]]], now: datetime) -> list[JobFacts]:
    """Unfinished Jobs past their startup grace without a live pod: their Events may say why."""
    return [j for j in jobs if not j.finished and not pods.get(j.uid)
            and (now - j.meta.created).total_seconds() >= STARTUP_GRACE_SECONDS]

